"""Replaying one multi-turn trajectory step by step, for the trajectory editor (DESIGN §4.2).

Step k is the trajectory cut after its k-th assistant turn (with the recorded user turns before
it), replayed and graded like any multi-turn grading. All the steps are graded in ONE batch, so
one warm sandbox serves them; the last step is the whole trajectory. The author sees the reward
and each rubric criterion's score evolve turn by turn, and the replayed conversation (tool
results included) of each step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.envpack.model import EnvPack
from app.envpack.trajectory import encode_turns, normalise_turns
from app.errors import UserError
from app.progress import CancelToken
from app.sandbox.base import GradingItem, GradingResult

TRACEBACK_LINES = 12  # the end of a grader's traceback is where its error is


@dataclass(slots=True)
class ReplayStep:
    """The trajectory replayed up to (and including) its `assistant_turns`-th assistant turn."""

    assistant_turns: int
    result: GradingResult

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.result.episode or {}).get("messages") or [])

    @property
    def notes(self) -> list[str]:
        return list((self.result.episode or {}).get("notes") or [])

    def error_excerpt(self) -> str:
        """What went wrong, for people: the end of the grader's traceback (or message)."""
        if self.result.error is None:
            return ""
        lines = (self.result.detail or "").strip().splitlines()
        return "\n".join(lines[-TRACEBACK_LINES:]) or f"the grading failed ({self.result.error})"


@dataclass(slots=True)
class Replay:
    task_id: str
    pass_threshold: float
    floor: float
    criteria: list[tuple[str, float]]  # (name, weight) of a rubric, in env.toml's order
    steps: list[ReplayStep] = field(default_factory=list)
    backend: str = ""

    @property
    def final(self) -> ReplayStep | None:
        return self.steps[-1] if self.steps else None


def prefixes(turns: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The trajectory cut after each assistant turn, shortest first."""
    cuts = [index for index, turn in enumerate(turns) if turn.get("role") == "assistant"]
    return [turns[: index + 1] for index in cuts]


def step_items(task: dict[str, Any], turns: list[dict[str, Any]]) -> list[GradingItem]:
    """One grading item per prefix: `replay:<k>` holds the first k assistant turns."""
    return [
        GradingItem(f"replay:{number}", task, encode_turns(prefix))
        for number, prefix in enumerate(prefixes(turns), start=1)
    ]


def checked_turns(raw_turns: Any) -> list[dict[str, Any]]:
    """The canonical turns of an author's trajectory; a UserError saying what to fix first."""
    turns, errors, _notes = normalise_turns(raw_turns)
    if errors:
        raise UserError(
            f"this trajectory cannot be replayed: {'; '.join(errors)}.",
            "Fix the turns marked in red first, then replay.",
        )
    return turns


def load_pack(root: Path) -> EnvPack:
    """The package as saved, for a replay (its tasks, tools.py and grader)."""
    from app.envpack.loader import load_envpack

    loaded = load_envpack(root)
    if loaded.pack is None:
        raise UserError(
            "the package could not be read, so nothing can be replayed.",
            "Fix what the structure checks report (the Problems line), then replay.",
        )
    if not loaded.pack.is_multi_turn:
        raise UserError(
            'only a kind = "multi-turn" package replays trajectories.',
            'Set kind = "multi-turn" in env.toml.',
        )
    return loaded.pack


def replay_trajectory(
    pack: EnvPack,
    task_id: str,
    raw_turns: Any,
    backend: Any,
    cancel: CancelToken | None = None,
) -> Replay:
    """Grade every prefix of the trajectory in one batch of `backend` (blocking)."""
    task = pack.task(task_id)
    if task is None:
        known = ", ".join(t.id for t in pack.tasks[:8]) or "none"
        raise UserError(
            f"no task has the id {task_id!r} (tasks: {known}).",
            "Pick the trajectory's task again, or add the task to the tasks file.",
        )
    turns = checked_turns(raw_turns)
    grader = pack.manifest.grader
    replay = Replay(
        task_id=task_id,
        pass_threshold=grader.pass_threshold,
        floor=grader.reward_range[0],
        criteria=[(c.name, c.weight) for c in grader.criteria] if grader.is_rubric else [],
        backend=getattr(getattr(backend, "info", None), "name", ""),
    )
    items = step_items(task.record, turns)
    results = backend.grade_batch(pack, items, cancel=cancel)
    replay.steps = [ReplayStep(number, result) for number, result in enumerate(results, start=1)]
    return replay


def sandbox_for(root: Path, backend_name: str) -> Any:
    """The backend the settings choose, as the funnel chooses it for this package."""
    from app.envpack.provenance import is_own
    from app.sandbox.backends import get_backend

    return get_backend(backend_name, own_package=is_own(root))
