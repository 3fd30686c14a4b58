"""The sandbox contract every backend implements (docs/engineering.md, "Sandbox contract"), and
`SandboxBase`, the flow they share.

A backend grades a *batch* of (task, response) items for one env pack and streams results.
One warm sandbox per batch; each item is graded in a fresh child process with its own time
limit. A new batch is a fresh sandbox (that is how stage 3 confirms a hit independently).
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.envpack.model import EnvPack
from app.progress import CancelToken
from app.sandbox.limits import SandboxLimits, limits_for

if TYPE_CHECKING:
    from app.sandbox.batch_run import Channel, RunnerConfig
    from app.sandbox.judge import JudgeGrader

# Why a grading produced no valid reward. None means the grader returned a valid reward.
ERROR_KINDS = (
    "exception",  # the grader raised
    "timeout",  # past grader.timeout_s; the child was killed
    "invalid-reward",  # NaN, inf, out of range, wrong type
    "crash",  # the child died (signal, os._exit, memory limit...)
    "output-too-large",  # the grader or the code under test flooded its output
    "judge-unavailable",  # judge grader: no model/key configured or the provider failed
    "sandbox",  # the sandbox itself failed (not the grader's fault)
    "skipped",  # not graded: the stage stopped early (see app.sandbox.guard)
)


@dataclass(slots=True)
class GradingItem:
    key: str  # unique within the batch, e.g. "ref:t1:0", "neg:t3:1", "attack:nan:t2"
    task: dict[str, Any]  # the task's whole JSON record (Task.record)
    response: str
    # False for responses built to hang or crash a grader (attacks): their timeouts and crashes
    # do not mean that the grader does not answer (app.sandbox.guard).
    expect_answer: bool = True


@dataclass(slots=True)
class GradingResult:
    key: str
    reward: float | None  # None when error is set; the stage then scores it as the floor
    metrics: dict[str, Any] = field(default_factory=dict)
    feedback: str = ""
    error: str | None = None  # one of ERROR_KINDS
    detail: str = ""  # short, human-readable: exception message, traceback excerpt...
    raw: Any = None  # what the grader returned, made JSON-safe (for invalid-reward evidence)
    duration_s: float = 0.0
    # a rubric grader only: criterion name -> {"score", "error", "detail"} (app/sandbox/rubric.py)
    criteria: dict[str, dict[str, Any]] = field(default_factory=dict)
    # a multi-turn grading only: {"messages": the replayed trajectory, "notes": [...]}
    episode: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.reward is not None


ResultCallback = Callable[[GradingResult], None]


@dataclass(slots=True)
class BackendInfo:
    name: str  # "docker" | "process"
    weak: bool  # True when isolation is weaker than the Docker contract; said in every report
    description: str = ""


class SandboxBase(ABC):
    """What every backend does alike: an empty batch is no work; a judge grader is graded by the
    judge on the trusted host side; any other batch runs in the backend's sandboxes with the
    package's limits, a python grader over a snapshot of the package. A backend says only what a
    batch needs first (`_prepare`) and how one sandbox starts (`_start_channel`)."""

    info: BackendInfo
    # The user that reads the package snapshot directly, when not this one (see package_snapshot).
    snapshot_reader_uid: int | None = None

    def __init__(self, judge: JudgeGrader) -> None:
        self.judge = judge  # grades judge graders, with the user's LLM key and base URL

    def grade_batch(
        self,
        pack: EnvPack,
        items: Iterable[GradingItem],
        *,
        on_result: ResultCallback | None = None,
        cancel: CancelToken | None = None,
        jobs: int | None = None,
        guard: Any = None,
    ) -> list[GradingResult]:
        """Grade every item in one fresh sandbox; results in item order. Raises
        `app.progress.Cancelled` when cancelled and `SandboxUnavailable` when it cannot run.
        `guard` (an `app.sandbox.guard.GradingGuard` shared by a stage's batches) stops the batch
        early; items it stopped get the error "skipped"."""
        items = list(items)
        if not items:
            return []
        if pack.manifest.grader.type == "judge":  # graded on the trusted host side
            return self.judge.grade_batch(
                pack, items, on_result=on_result, cancel=cancel, jobs=jobs
            )
        if pack.is_multi_turn:  # a persona user's replies are asked here, on the host
            return self._with_personas(pack, items, on_result, cancel, jobs, guard)
        return self._graded(pack, items, on_result, cancel, jobs, guard)

    def _with_personas(self, pack, items, on_result, cancel, jobs, guard) -> list[GradingResult]:
        from app.sandbox.persona import with_persona_replies

        ready, failed = with_persona_replies(pack, items, self.judge)
        for result in failed.values():
            if on_result is not None:
                on_result(result)
        graded = {r.key: r for r in self._graded(pack, ready, on_result, cancel, jobs, guard)}
        return [failed.get(item.key) or graded[item.key] for item in items]

    def _graded(self, pack, items, on_result, cancel, jobs, guard) -> list[GradingResult]:
        options = {"on_result": on_result, "cancel": cancel, "jobs": jobs, "guard": guard}
        if not items:
            return []
        if pack.manifest.grader.is_rubric:
            from app.sandbox.rubric import grade_rubric_batch

            return grade_rubric_batch(self, pack, items, self._sandbox_batch, **options)
        return self._sandbox_batch(pack, items, **options)

    def _sandbox_batch(
        self,
        pack: EnvPack,
        items: list[GradingItem],
        *,
        on_result: ResultCallback | None,
        cancel: CancelToken | None,
        jobs: int | None,
        guard: Any,
    ) -> list[GradingResult]:
        """The items graded in one fresh sandbox of this backend."""
        from app.sandbox.batch_run import run_batch
        from app.sandbox.snapshot import package_snapshot

        prepared = self._prepare(pack)
        limits = self._limits(pack, jobs)
        # built-in graders do not read the package; python graders and rubrics do
        reads_package = pack.manifest.grader.type in ("python", "rubric")
        with (
            package_snapshot(pack.root, reader_uid=self.snapshot_reader_uid)
            if reads_package
            else contextlib.nullcontext()
        ) as snapshot:

            def start() -> tuple[Channel, RunnerConfig]:
                return self._start_channel(prepared, snapshot, limits)

            return run_batch(
                pack, items, start, limits=limits, on_result=on_result, cancel=cancel, guard=guard
            )

    def _prepare(self, pack: EnvPack) -> Any:
        """What every sandbox of this batch starts from (the Docker image); None by default."""
        return None

    def _limits(self, pack: EnvPack, jobs: int | None) -> SandboxLimits:
        return limits_for(pack, jobs)

    @abstractmethod
    def _start_channel(
        self, prepared: Any, snapshot: Path | None, limits: SandboxLimits
    ) -> tuple[Channel, RunnerConfig]:
        """Start one sandbox running the runner: a byte channel to it, and what the runner is
        told about its surroundings. `prepared`: what `_prepare` returned for this batch;
        `snapshot`: the package's snapshot when the grader reads the package."""


class SandboxUnavailable(Exception):
    """No usable backend: says what is wrong and how to fix it (the doctor's advice)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
