"""Bounds the worst case of a funnel stage by design, whatever the grader does.

Without a bound, a grader that never answers costs gradings × `timeout_s` (with
`timeout_s = 600` and 100 tasks: days). A `GradingGuard` is shared by every sandbox batch of one
stage and stops the stage early in two ways:

- **K consecutive gradings timed out or crashed** (in the order their results arrived), on at
  least two different tasks (when the package has two): the grader does not answer. K is one
  more than the gradings that run side by side, so one runaway grading cannot take its
  neighbours' results down with it and trip the guard alone, and a grader that hangs on one
  task only is reported for that task (GX206/GX207), not stopped. A never-answering grader
  is stopped after two rounds of gradings, about 2 × `timeout_s`.
- **The stage's wall-clock budget ran out**: two sandbox starts, K time limits, and half a time
  limit (at most `PER_ROUND_CAP_S`) for every round of gradings that run side by side. A
  grader that answers, but always just before its time limit, is stopped there.

A timeout counts at once; a crash next to other gradings counts only when it crashes again alone
(crashes are quick to re-run, and a sandbox under memory pressure may kill several children at
once). Only gradings of responses a grader must be able to answer (references, negatives, plain
wrong answers) count towards K; attack responses built to hang or crash a grader neither count nor
reset the run. The budget counts everything. The stage reports one finding (GX214) and skips
the rest.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.sandbox.base import GradingItem, GradingResult
from app.sandbox.limits import limits_for

SANDBOX_START_ALLOWANCE_S = 60.0  # per sandbox start; two are allowed for (a restart)
PER_ROUND_CAP_S = 60.0
MIN_UNANSWERED = 3
UNANSWERED = ("timeout", "crash")

STOP_UNANSWERED = "unanswered"
STOP_BUDGET = "budget"


@dataclass
class GradingGuard:
    timeout_s: float
    parallel: int  # gradings that run side by side (the sandbox's jobs)
    clock: Callable[[], float] = time.monotonic
    budget_s: float = 0.0  # grows with `admit`
    gradings: int = 0  # admitted so far
    stopped: str | None = None  # STOP_UNANSWERED | STOP_BUDGET once the stage must stop
    unanswered: list[dict[str, Any]] = field(default_factory=list)  # the current run of K
    tasks_seen: set[str] = field(default_factory=set)  # every task a grading was observed for
    skipped: int = 0
    _started: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def max_unanswered(self) -> int:
        return max(MIN_UNANSWERED, self.parallel + 1)

    @property
    def per_round_s(self) -> float:
        return min(self.timeout_s / 2, PER_ROUND_CAP_S)

    def admit(self, gradings: int) -> None:
        """Plan `gradings` more gradings: the budget grows by their share (see the module doc)."""
        with self._lock:
            if self._started is None:
                self._started = self.clock()
                self.budget_s = 2 * SANDBOX_START_ALLOWANCE_S + self.max_unanswered * self.timeout_s
            self.gradings += gradings
            self.budget_s += math.ceil(gradings / max(1, self.parallel)) * self.per_round_s

    @property
    def deadline(self) -> float:
        """The clock reading at which the budget runs out (infinite before the first batch)."""
        return math.inf if self._started is None else self._started + self.budget_s

    def used_s(self) -> float:
        return 0.0 if self._started is None else self.clock() - self._started

    def check_budget(self) -> bool:
        """True (and stopped) once the budget has run out."""
        if self.stopped is None and self.clock() >= self.deadline:
            with self._lock:
                self.stopped = self.stopped or STOP_BUDGET
        return self.stopped is not None

    def observe(self, item: GradingItem | None, result: GradingResult) -> None:
        """One grading's result, in the order results arrive."""
        if item is not None and not item.expect_answer:
            return
        task = str(item.task.get("id")) if item is not None and isinstance(item.task, dict) else ""
        with self._lock:
            self.tasks_seen.add(task)
            if result.error in UNANSWERED:
                self.unanswered.append(
                    {
                        "key": result.key,
                        "task": task,
                        "error": result.error,
                        "detail": (result.detail or "")[:300],
                        "duration_s": round(result.duration_s, 3),
                    }
                )
                tasks = {u["task"] for u in self.unanswered}
                enough_tasks = len(tasks) >= min(2, len(self.tasks_seen))
                if (
                    len(self.unanswered) >= self.max_unanswered
                    and enough_tasks
                    and self.stopped is None
                ):
                    self.stopped = STOP_UNANSWERED
            elif self.stopped is None:
                self.unanswered.clear()

    def reason(self) -> str:
        """Why the stage stopped, for people."""
        if self.stopped == STOP_UNANSWERED:
            kinds = sorted({u["error"] for u in self.unanswered})
            what = " or ".join({"timeout": "timed out", "crash": "crashed"}[k] for k in kinds)
            return (
                f"{len(self.unanswered)} gradings in a row {what} "
                f"(timeout_s = {self.timeout_s:g} s)"
            )
        if self.stopped == STOP_BUDGET:
            return (
                f"the stage's time budget of {self.budget_s:.0f} s ran out "
                f"(timeout_s = {self.timeout_s:g} s, {self.parallel} gradings side by side)"
            )
        return ""

    def summary(self) -> dict[str, Any]:
        """For the stage's report details."""
        return {
            "budget_s": round(self.budget_s, 1),
            "used_s": round(self.used_s(), 1),
            "timeout_s": self.timeout_s,
            "parallel": self.parallel,
            "gradings_planned": self.gradings,
            "stop_after_unanswered": self.max_unanswered,
            "stopped": self.stopped,
            "skipped": self.skipped,
        }


def guard_for(pack: Any, jobs: int | None, clock: Callable[[], float] = time.monotonic):
    """The guard for one stage on `pack`, from its `timeout_s` and the sandbox's parallelism."""
    limits = limits_for(pack, jobs)
    return GradingGuard(timeout_s=limits.timeout_s, parallel=limits.jobs, clock=clock)


class StageStopped(Exception):
    """Raised by a stage's grading function once its guard stopped: nothing after it can be
    trusted (the attack stage would compare attacks with references that never answered)."""

    def __init__(self, guard: GradingGuard) -> None:
        super().__init__(guard.reason())
        self.guard = guard


def describe_budget(summary: dict[str, Any] | None) -> str:
    """One line for people from `GradingGuard.summary()` ("" without one)."""
    if not summary:
        return ""
    text = (
        f"time budget: {summary['used_s']:.0f} s used of {summary['budget_s']:.0f} s "
        f"(timeout_s = {summary['timeout_s']:g} s, {summary['parallel']} gradings side by side)"
    )
    if summary.get("stopped"):
        text += f"; stopped early ({summary['stopped']}), {summary.get('skipped', 0)} skipped"
    return text
