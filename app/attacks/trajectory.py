"""An agent's trajectory on an agentic task: the commands it ran, what each printed, and the
reward the verifier gave at the end. The LLM red-team agent and the baseline agent write one
(`trajectory.json` next to the report); the app's trajectory viewer reads it.

`earned_at` is the index of the step that earned the reward: the shortest prefix of the
commands that still earns it when replayed in fresh containers (None when nothing was earned
or the reward did not replay).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "gauntlet-trajectory/1"


@dataclass(slots=True)
class Step:
    command: str
    exit_code: int | None
    output: str  # the tail of what it printed (stdout and stderr together)
    thought: str = ""  # what the model said before calling the tool
    seconds: float = 0.0


@dataclass(slots=True)
class Trajectory:
    task_id: str
    agent: str  # "red-team" | "baseline" | a cheating agent's id
    model: str = ""
    mode: str = ""  # "black-box" | "white-box" | "honest"
    steps: list[Step] = field(default_factory=list)
    reward: float | None = None
    replayed_rewards: list[float | None] = field(default_factory=list)
    earned_at: int | None = None
    # for a confirmed reward: "solved" when the agent's workdir matches the oracle's (it did the
    # task), "hack" when it differs (`differs` says where), "" when not compared
    verdict: str = ""
    differs: list[str] = field(default_factory=list)
    stopped: str = ""  # why the loop ended: "done", "max-steps", "budget", "error: ..."
    tokens: int = 0
    cost_usd: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trajectory:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file (format: {data.get('format')!r})")
        fields = {k: v for k, v in data.items() if k != "format"}
        fields["steps"] = [Step(**step) for step in fields.get("steps", [])]
        return cls(**fields)


def save_trajectories(trajectories: list[Trajectory], path: Path) -> None:
    """Write them as one JSON list, atomically (a crash leaves the old file, never half)."""
    from app.atomic import write_text_atomic

    text = json.dumps([t.to_dict() for t in trajectories], indent=1, ensure_ascii=False)
    write_text_atomic(path, text + "\n")


def load_trajectories(path: Path) -> list[Trajectory]:
    """Read a file written by save_trajectories; ValueError says what is wrong with it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read trajectories ({exc})") from exc
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of trajectories")
    try:
        return [Trajectory.from_dict(item) for item in data]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
