"""The shared vocabulary of the verification funnel: one finding.

Every stage (structural checks, sandboxed verification, attacks) speaks in `Finding`s, so this
module sits below all layers and imports nothing from the app. Which codes exist, and their
severities, titles and hints: app/finding_codes.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Stage(StrEnum):
    STRUCTURE = "structure"
    VERIFY = "verify"
    ATTACK = "attack"
    CALIBRATE = "calibrate"  # `gauntlet calibrate`, not a funnel stage (GX4xx)


@dataclass(frozen=True, slots=True)
class AttackRef:
    id: str
    category: str


@dataclass(slots=True)
class Finding:
    """One problem, stated for a domain expert: what, where, and how to fix it."""

    code: str  # stable, e.g. "GX101"
    severity: Severity
    stage: Stage
    message: str
    hint: str = ""
    file: str | None = None  # relative to the package root, posix separators
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    end_line: int | None = None
    end_column: int | None = None
    task_id: str | None = None
    attack: AttackRef | None = None
    evidence: dict[str, Any] | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR

    def location(self) -> str:
        """`file:line:col` as editors and terminals understand it."""
        parts = [self.file or "."]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = str(self.severity)
        data["stage"] = str(self.stage)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        attack = data.get("attack")
        return cls(
            code=data["code"],
            severity=Severity(data["severity"]),
            stage=Stage(data["stage"]),
            message=data["message"],
            hint=data.get("hint", ""),
            file=data.get("file"),
            line=data.get("line"),
            column=data.get("column"),
            end_line=data.get("end_line"),
            end_column=data.get("end_column"),
            task_id=data.get("task_id"),
            attack=AttackRef(**attack) if attack else None,
            evidence=data.get("evidence"),
        )
