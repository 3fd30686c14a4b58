"""Grading the samples: the package's own grader, in the sandbox, exactly as stage 2 grades its
references (one `grade_batch` on the backend the run's options choose, under the same guard).
Each task's references are graded in the same batch, so that "no model solves it" can be told
apart from "nothing can solve it". Grades are never cached: a changed grader re-grades for free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.calibrate.sampling import Sample
from app.envpack.model import EnvPack
from app.funnel.pipeline import FunnelOptions
from app.progress import CancelToken
from app.sandbox.backends import backend_for
from app.sandbox.base import GradingItem, GradingResult
from app.sandbox.guard import guard_for


@dataclass(slots=True)
class Graded:
    sample: Sample
    result: GradingResult
    passed: bool


@dataclass(slots=True)
class Grading:
    graded: list[Graded]
    reference_passes: dict[str, bool]  # task id -> some reference passes (absent: none given)
    backend: str
    weak_backend: bool
    stopped: str | None  # why the guard stopped grading (the grader does not answer), or None


def passes(pack: EnvPack, result: GradingResult) -> bool:
    return result.ok and result.reward is not None and result.reward >= pack.grader.pass_threshold


def grade_samples(
    pack: EnvPack,
    samples: list[Sample],
    options: FunnelOptions,
    *,
    on_result: Callable[[GradingResult], None] | None = None,
    cancel: CancelToken | None = None,
) -> Grading:
    """Grade every sample and every reference once. Raises `SandboxUnavailable` when no sandbox
    can run, `app.progress.Cancelled` when cancelled."""
    items = [
        GradingItem(key=f"s:{i}", task=pack.task(s.request.task_id).record, response=s.text)
        for i, s in enumerate(samples)
    ]
    references = [r for r in pack.solutions if pack.task(r.task_id) is not None]
    items += [
        GradingItem(key=f"ref:{i}", task=pack.task(r.task_id).record, response=r.response)
        for i, r in enumerate(references)
    ]
    backend = backend_for(options)
    guard = None if pack.grader.type == "judge" else guard_for(pack, options.jobs)
    if guard is not None:
        guard.admit(len(items))
    results = {
        r.key: r
        for r in backend.grade_batch(
            pack, items, on_result=on_result, cancel=cancel, jobs=options.jobs, guard=guard
        )
    }
    reference_passes: dict[str, bool] = {}
    for i, reference in enumerate(references):
        ok = passes(pack, results[f"ref:{i}"])
        reference_passes[reference.task_id] = reference_passes.get(reference.task_id, False) or ok
    graded = [
        Graded(sample, results[f"s:{i}"], passes(pack, results[f"s:{i}"]))
        for i, sample in enumerate(samples)
    ]
    stopped = guard.reason() if guard is not None and guard.stopped is not None else None
    return Grading(graded, reference_passes, backend.info.name, backend.info.weak, stopped)
