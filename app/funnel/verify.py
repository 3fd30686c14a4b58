"""Funnel stage 2: sandboxed verification (GX2xx; every code is explained in docs/verification.md).

Grades, in a fresh sandbox, every reference (must reach `pass_threshold`), every negative and
the empty response for each task (must score the floor), then does it all again in another
fresh sandbox: a grader that gives different rewards the second time is flaky. Grader errors
(exceptions, timeouts, crashes, invalid rewards, floods of output) are reported with the task
id and a short traceback excerpt; slow tasks are flagged with their time.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.envpack.model import EnvPack
from app.finding_codes import CATALOGUE, FindingSink
from app.findings import Finding, Stage
from app.funnel.pipeline import FunnelOptions
from app.funnel.report import StageResult, StageStatus, stage_status_for
from app.funnel.verify_episodes import check_episodes, conversation_excerpt
from app.funnel.verify_rubric import (
    check_reference_criteria,
    criteria_details,
    negative_note,
    reference_note,
)
from app.progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress
from app.sandbox.backends import backend_for
from app.sandbox.base import GradingItem, GradingResult, SandboxBase, SandboxUnavailable
from app.sandbox.guard import GradingGuard, guard_for

# Per code: at most this many findings, then one summary finding ("… and 12 more").
MAX_FINDINGS_PER_CODE = 20
EXCERPT_CHARS = 120

# What the sandbox says went wrong in a grading -> the code that reports it (its title starts
# the message).
ERROR_KINDS = {
    "invalid-reward": "GX204",
    "exception": "GX205",
    "timeout": "GX206",
    "crash": "GX207",
    "output-too-large": "GX208",
    "judge-unavailable": "GX212",
    "sandbox": "GX213",
}
UNANSWERED_ERRORS = ("timeout", "crash", "skipped")
_BUCKETS = {"reference": "references", "negative": "negatives", "empty": "empty"}


@dataclass(slots=True)
class _Role:
    kind: str  # "reference" | "negative" | "empty"
    task_id: str
    file: str
    line: int | None
    response: str
    note: str = ""


def build_items(pack: EnvPack) -> tuple[list[GradingItem], dict[str, _Role]]:
    """The gradings of stage 2 and what each one is for."""
    items: list[GradingItem] = []
    roles: dict[str, _Role] = {}
    manifest = pack.manifest

    def add(key: str, task_record: dict[str, Any], role: _Role) -> None:
        items.append(GradingItem(key=key, task=task_record, response=role.response))
        roles[key] = role

    for prefix, kind, file, entries in (
        ("ref", "reference", manifest.solutions_path, pack.solutions),
        ("neg", "negative", manifest.negatives_path, pack.negatives),
    ):
        for index, entry in enumerate(entries):
            task = pack.task(entry.task_id)
            if task is not None:
                note = getattr(entry, "note", "")  # references have none
                role = _Role(kind, entry.task_id, file, entry.line, entry.response, note)
                add(f"{prefix}:{index}", task.record, role)
    for index, task in enumerate(pack.tasks):
        add(
            f"empty:{index}",
            task.record,
            _Role("empty", task.id, manifest.tasks_path, task.line, ""),
        )
    return items, roles


def run_verify_stage(
    pack: EnvPack,
    options: FunnelOptions,
    *,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> tuple[StageResult, list[Finding]]:
    cancel = cancel or CancelToken()
    sink = FindingSink(Stage.VERIFY)
    try:
        backend = backend_for(options)
    except SandboxUnavailable as exc:
        return _unavailable(sink, exc)

    items, roles = build_items(pack)
    is_judge = pack.grader.type == "judge"
    # judge replies vary and cost money (a rubric's judge criteria too); see verification.md
    runs = 1 if "judge" in pack.grader.graded_as else 2
    on_result = _progress_counter(progress, roles, len(items) * runs, backend.info.name)
    # A judge is asked from the host with its own time limit; sandboxed graders are guarded.
    guard = None if is_judge else guard_for(pack, options.jobs)
    try:
        graded = _grade(pack, items, runs, backend, guard, options.jobs, on_result, cancel)
    except SandboxUnavailable as exc:
        return _unavailable(sink, exc)

    if backend.info.weak:
        notice = (
            getattr(backend, "notice", "") or "graded with the weaker process backend, not Docker"
        )
        sink.report("GX211", notice, file="env.toml")
    first, second = graded.first, graded.second
    if graded.stopped:
        # One finding says it all; the gradings that did answer are still checked.
        not_answering_finding(pack, sink, guard, roles)
        first, second = [r for r in first if r.error not in UNANSWERED_ERRORS], None
    counts = _check_results(pack, sink, roles, first)
    if second is not None:
        _check_flakiness(sink, roles, first, second)
    slowest = _check_slow(pack, sink, roles, first, second)
    by_kind = _kind_details(pack, sink, roles, first, second)
    findings = _cap(sink.findings)
    status = stage_status_for(findings)
    if any(r.error == "sandbox" for r in first):
        status = StageStatus.ERROR
    details = {
        "backend": backend.info.name,
        "weak_backend": backend.info.weak,
        "gradings": len(items),
        "runs": runs,
        "flakiness_checked": runs == 2 and not graded.stopped,
        "grading_s": round(graded.elapsed_s, 3),
        **counts,
        "rewards": _reward_summary(pack, roles, first),
        "slowest": slowest,
        **by_kind,
    }
    if guard is not None:
        details["budget"] = guard.summary()
    return StageResult(Stage.VERIFY, status, details=details), findings


def _kind_details(pack: EnvPack, sink: FindingSink, roles, first, second) -> dict[str, Any]:
    """A rubric's per-criterion scores; a multi-turn package's replay checks (GX216, GX217)."""
    details: dict[str, Any] = {}
    if pack.grader.is_rubric:
        details["rubric"] = criteria_details(pack, roles, first)
    if pack.is_multi_turn:
        details["replay"] = check_episodes(sink, roles, first, second)
    return details


def _progress_counter(
    progress: ProgressCallback, roles: dict[str, _Role], total: int, backend_name: str
) -> Callable[[GradingResult], None]:
    """Announces the gradings, and returns the callback that counts each one as it ends."""
    done = 0

    def on_result(result: GradingResult) -> None:
        nonlocal done
        done += 1
        progress(
            ProgressEvent(
                Stage.VERIFY,
                "progress",
                done=done,
                total=total,
                message=f"graded {roles[result.key].task_id}",
            )
        )

    progress(
        ProgressEvent(
            Stage.VERIFY,
            "progress",
            done=0,
            total=total,
            message=f"grading in the {backend_name} sandbox",
        )
    )
    return on_result


@dataclass(slots=True)
class _Gradings:
    first: list[GradingResult]
    second: list[GradingResult] | None  # None: graded once (a judge), or the guard stopped
    elapsed_s: float
    stopped: bool  # the guard stopped the stage: the grader does not answer


def _grade(
    pack: EnvPack,
    items: list[GradingItem],
    runs: int,
    backend: SandboxBase,
    guard: GradingGuard | None,
    jobs: int | None,
    on_result: Callable[[GradingResult], None],
    cancel: CancelToken,
) -> _Gradings:
    """Every grading once, then (`runs` == 2) all again in another fresh sandbox."""

    def batch() -> list[GradingResult]:
        return backend.grade_batch(
            pack, items, on_result=on_result, cancel=cancel, jobs=jobs, guard=guard
        )

    def stopped() -> bool:
        return guard is not None and guard.stopped is not None

    if guard is not None:
        guard.admit(len(items) * runs)
    started = time.perf_counter()
    first = batch()
    second = batch() if runs == 2 and not stopped() else None
    return _Gradings(first, second, time.perf_counter() - started, stopped())


def not_answering_finding(
    pack: EnvPack, sink: FindingSink, guard: GradingGuard, roles: dict[str, Any] | None = None
) -> None:
    """GX214, once: the grader does not answer, so the stage stopped (app/sandbox/guard.py)."""
    unanswered = [dict(u) for u in guard.unanswered]
    for entry in unanswered:
        role = (roles or {}).get(entry["key"])
        if role is not None:
            entry["task_id"], entry["role"] = role.task_id, role.kind
    first_task = next((u.get("task_id") for u in unanswered if u.get("task_id")), None)
    skipped = f"; the remaining {guard.skipped} of {guard.gradings} gradings were skipped"
    sink.report(
        "GX214",
        f"the grader does not answer: {guard.reason()}{skipped if guard.skipped else ''}",
        task_id=first_task,
        evidence={"gradings": unanswered, "budget": guard.summary()},
        **pack.where("grader.timeout_s").where(),
    )


def _unavailable(sink: FindingSink, exc: SandboxUnavailable) -> tuple[StageResult, list[Finding]]:
    sink.report("GX200", f"no sandbox to grade in: {exc.message}", exc.hint)
    details = {"reason": exc.message, "hint": exc.hint}
    return StageResult(Stage.VERIFY, StageStatus.ERROR, details=details), sink.findings


def _check_results(
    pack: EnvPack, sink: FindingSink, roles: dict[str, _Role], results: list[GradingResult]
) -> dict[str, Any]:
    _check_judge_asked(pack, sink, results)
    counts = {bucket: {"ok": 0, "total": 0} for bucket in _BUCKETS.values()}
    for result in results:
        role = roles[result.key]
        bucket = counts[_BUCKETS[role.kind]]
        bucket["total"] += 1
        if result.error == "judge-unavailable":
            continue  # said once, for all of them
        evidence = {
            "key": result.key,
            "role": role.kind,
            "response": _excerpt(role.response),
            "reward": result.reward,
            "feedback": result.feedback[:300],
            "duration_s": round(result.duration_s, 3),
        }
        if result.criteria:
            evidence["criteria"] = {n: c.get("score") for n, c in result.criteria.items()}
        if result.episode is not None:  # multi-turn: what the grader actually saw
            evidence["conversation"] = conversation_excerpt(result.episode)
        if result.error:
            _error_finding(pack, sink, role, result, evidence)
        elif _check_reward(pack, sink, role, result, evidence):
            bucket["ok"] += 1
    return {
        "references_passed": counts["references"],
        "negatives_at_floor": counts["negatives"],
        "empty_at_floor": counts["empty"],
    }


REWARDS_KEPT = 200  # per role: enough for the report's chart, small enough for any package


def _reward_summary(
    pack: EnvPack, roles: dict[str, _Role], results: list[GradingResult]
) -> dict[str, Any]:
    """The rewards each role earned on the first run, for the report's chart: a reference
    should sit at or above the pass threshold, a negative and the empty response at the floor."""
    values: dict[str, list[float]] = {bucket: [] for bucket in _BUCKETS.values()}
    for result in results:
        if result.ok:
            values[_BUCKETS[roles[result.key].kind]].append(round(float(result.reward), 4))
    summary: dict[str, Any] = {
        "pass_threshold": pack.grader.pass_threshold,
        "floor": pack.grader.floor,
    }
    for bucket, rewards in values.items():
        summary[bucket] = {"count": len(rewards), "values": rewards[:REWARDS_KEPT]}
    return summary


def _check_judge_asked(pack: EnvPack, sink: FindingSink, results: list[GradingResult]) -> None:
    """GX212 once for every grading the judge was not asked about: they share one cause (no key,
    no model, provider down)."""
    unavailable = [r for r in results if r.error == "judge-unavailable"]
    if unavailable:
        sink.report(
            "GX212",
            (
                f"the LLM judge could not be asked ({len(unavailable)} "
                f"of {len(results)} gradings): {unavailable[0].detail}"
            ),
            evidence={"gradings": len(unavailable), "model": pack.grader.model},
            **pack.where("grader.model").where(),
        )


def _check_reward(
    pack: EnvPack, sink: FindingSink, role: _Role, result: GradingResult, evidence: dict[str, Any]
) -> bool:
    """Whether the reward is what the role calls for (a finding says so when it is not): a
    reference reaches the pass threshold, a negative and the empty response score the floor."""
    where = {"file": role.file, "line": role.line, "task_id": role.task_id}
    reward = result.reward
    if role.kind == "reference":
        threshold = pack.grader.pass_threshold
        if reward >= threshold:
            check_reference_criteria(pack, sink, where, result, evidence)
            return True
        said = f" (grader said: {result.feedback[:160]})" if result.feedback else ""
        sink.report(
            "GX201",
            (
                f"the reference for task {role.task_id!r} scores "
                f"{reward:g}, below pass_threshold {threshold:g}"
            )
            + reference_note(pack, result)
            + said,
            evidence=evidence | {"pass_threshold": threshold},
            **where,
        )
        return False
    floor = pack.grader.floor
    if reward <= floor:
        return True
    code, what = (
        ("GX202", "the negative") if role.kind == "negative" else ("GX203", "the empty response")
    )
    note = f" ({role.note})" if role.note else ""
    sink.report(
        code,
        f"{what} for task {role.task_id!r}{note} scores {reward:g}, above the floor {floor:g}"
        + negative_note(pack, result),
        evidence=evidence | {"floor": floor},
        **where,
    )
    return False


def _error_finding(
    pack: EnvPack, sink: FindingSink, role: _Role, result: GradingResult, evidence: dict[str, Any]
) -> None:
    known = result.error in ERROR_KINDS
    code = ERROR_KINDS[result.error] if known else "GX205"
    what = CATALOGUE[code].title if known else "the grader failed"
    detail = (result.detail or "").strip()
    where: dict[str, Any] = {"file": role.file, "line": role.line, "task_id": role.task_id}
    grader_line = _grader_line(pack, detail)
    if grader_line is not None and code in ("GX205", "GX204"):
        where = {"file": pack.grader.entry_file, "line": grader_line, "task_id": role.task_id}
    short = detail.splitlines()[-1] if detail else ""
    sink.report(
        code,
        f"{what} on the {role.kind} for task {role.task_id!r}"
        + (f": {short[:200]}" if short else ""),
        evidence=evidence | {"error": result.error, "detail": detail[-1500:]},
        **where,
    )


def _grader_line(pack: EnvPack, detail: str) -> int | None:
    """The innermost line of the grader file in a traceback excerpt."""
    if pack.grader.type not in ("python", "rubric") or not detail:
        return None
    name = re.escape(pack.grader.entry_file)
    lines = re.findall(rf'File "(?:.*/)?{name}", line (\d+)', detail)
    return int(lines[-1]) if lines else None


def _check_flakiness(
    sink: FindingSink,
    roles: dict[str, _Role],
    first: list[GradingResult],
    second: list[GradingResult],
) -> None:
    for a, b in zip(first, second, strict=True):
        if (a.reward, a.error) == (b.reward, b.error):
            continue
        role = roles[a.key]
        sink.report(
            "GX209",
            (
                f"the grader is flaky: the {role.kind} for task {role.task_id!r} "
                f"scored {_show(a)} in one run and {_show(b)} in the next"
            ),
            file=role.file,
            line=role.line,
            task_id=role.task_id,
            evidence={
                "key": a.key,
                "first": _show(a),
                "second": _show(b),
                "response": _excerpt(role.response),
            },
        )


def _check_slow(pack, sink, roles, first, second) -> list[dict[str, Any]]:
    timeout = float(pack.grader.timeout_s)
    limit = 0.5 * timeout if pack.grader.type == "judge" else max(0.5, min(2.0, 0.5 * timeout))
    per_task: dict[str, float] = {}
    for result in [*first, *(second or [])]:
        if result.error == "timeout":
            continue  # already reported as GX206
        task_id = roles[result.key].task_id
        per_task[task_id] = max(per_task.get(task_id, 0.0), result.duration_s)
    tasks = {t.id: t for t in pack.tasks}
    for task_id, seconds in sorted(per_task.items(), key=lambda kv: -kv[1]):
        if seconds <= limit:
            break
        task = tasks.get(task_id)
        seconds = round(seconds, 3)  # the message and the evidence show one number
        sink.report(
            "GX210",
            (
                f"task {task_id!r} is slow to grade: {seconds:.2f} s (limit for a warning: "
                f"{limit:.2f} s, timeout_s = {timeout:g})"
            ),
            file=pack.manifest.tasks_path,
            line=task.line if task else None,
            task_id=task_id,
            evidence={"seconds": seconds},
        )
    top = sorted(per_task.items(), key=lambda kv: -kv[1])[:5]
    return [{"task_id": t, "seconds": round(s, 3)} for t, s in top]


def _cap(findings: list[Finding]) -> list[Finding]:
    kept: list[Finding] = []
    seen: dict[str, int] = {}
    for finding in findings:
        seen[finding.code] = seen.get(finding.code, 0) + 1
        if seen[finding.code] <= MAX_FINDINGS_PER_CODE:
            kept.append(finding)
    for code, count in seen.items():
        if count > MAX_FINDINGS_PER_CODE:
            sample = next(f for f in findings if f.code == code)
            kept.append(
                Finding(
                    code=code,
                    severity=sample.severity,
                    stage=Stage.VERIFY,
                    message=(
                        f"… and {count - MAX_FINDINGS_PER_CODE} "
                        f"more {code} findings like the ones above"
                    ),
                    hint=sample.hint,
                )
            )
    return kept


def _show(result: GradingResult) -> str:
    return (
        f"{result.reward:g}"
        if result.error is None and result.reward is not None
        else f"an error ({result.error})"
    )


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"
