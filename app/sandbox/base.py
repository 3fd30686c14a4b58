"""The sandbox contract every backend implements (docs/engineering.md, "Sandbox contract").

A backend grades a *batch* of (task, response) items for one env pack and streams results.
One warm sandbox per batch; each item is graded in a fresh child process with its own time
limit. A new batch is a fresh sandbox (that is how stage 3 confirms a hit independently).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from app.envpack.model import EnvPack
from app.progress import CancelToken

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

    @property
    def ok(self) -> bool:
        return self.error is None and self.reward is not None


ResultCallback = Callable[[GradingResult], None]


@dataclass(slots=True)
class BackendInfo:
    name: str  # "docker" | "process"
    weak: bool  # True when isolation is weaker than the Docker contract; said in every report
    description: str = ""


@runtime_checkable
class SandboxBackend(Protocol):
    info: BackendInfo

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
        ...


class SandboxUnavailable(Exception):
    """No usable backend: says what is wrong and how to fix it (the doctor's advice)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
