"""The funnel report, `gauntlet-report/1`: one JSON shape every stage writes into.

Documented for users in docs/report.md.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from app.findings import Finding, Severity, Stage

REPORT_SCHEMA = "gauntlet-report/1"


class StageStatus(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIPPED = "skipped"
    ERROR = "error"


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"


@dataclass(slots=True)
class PackageRef:
    name: str = ""
    version: str = ""
    path: str = ""
    digest: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(slots=True)
class StageResult:
    name: Stage
    status: StageStatus
    duration_s: float = 0.0
    # Free-form, stage-specific figures (counts, backend name, summary per category...).
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": str(self.name),
            "status": str(self.status),
            "duration_s": round(self.duration_s, 3),
        }
        if self.details:
            data["details"] = self.details
        return data


def stage_status_for(findings: list[Finding]) -> StageStatus:
    """A stage fails on any error and warns on any warning."""
    if any(f.severity == Severity.ERROR for f in findings):
        return StageStatus.FAIL
    if any(f.severity == Severity.WARNING for f in findings):
        return StageStatus.WARN
    return StageStatus.PASS


@dataclass(slots=True)
class Report:
    package: PackageRef = field(default_factory=PackageRef)
    stages: list[StageResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # Set when the funnel itself could not run (no backend, unreadable input...).
    error: str | None = None

    @property
    def verdict(self) -> Verdict:
        if self.error or any(s.status == StageStatus.ERROR for s in self.stages):
            return Verdict.ERROR
        if any(f.severity == Severity.ERROR for f in self.findings):
            return Verdict.FAIL
        return Verdict.PASS

    def add_stage(self, result: StageResult, findings: list[Finding]) -> None:
        self.stages.append(result)
        self.findings.extend(findings)

    def stage(self, name: Stage) -> StageResult | None:
        return next((s for s in self.stages if s.name == name), None)

    def findings_for(self, stage: Stage) -> list[Finding]:
        return [f for f in self.findings if f.stage == stage]

    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.ERROR]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schema": REPORT_SCHEMA,
            "package": self.package.to_dict(),
            "verdict": str(self.verdict),
            "stages": [s.to_dict() for s in self.stages],
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.error:
            data["error"] = self.error
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        if data.get("schema") != REPORT_SCHEMA:
            raise ValueError(f"not a {REPORT_SCHEMA} report (schema={data.get('schema')!r})")
        pkg = data.get("package") or {}
        return cls(
            package=PackageRef(
                **{k: str(pkg.get(k, "")) for k in ("name", "version", "path", "digest")}
            ),
            stages=[
                StageResult(
                    name=Stage(s["name"]),
                    status=StageStatus(s["status"]),
                    duration_s=float(s.get("duration_s", 0.0)),
                    details=s.get("details") or {},
                )
                for s in data.get("stages", [])
            ],
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            error=data.get("error"),
        )
