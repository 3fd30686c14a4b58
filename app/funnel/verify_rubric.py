"""Stage 2 for rubric graders (DESIGN §4.3): each criterion's score in the report, per reference
and negative, and the gates said per criterion: which criterion a failing reference misses,
which criterion let a negative through, and a reference that passes overall while it fails a
criterion (GX215)."""

from __future__ import annotations

from typing import Any

from app.envpack.model import EnvPack
from app.finding_codes import FindingSink
from app.sandbox.base import GradingResult
from app.sandbox.rubric import criterion_scores

ROWS_KEPT = 200  # per-grading rows in the report: enough to read, small for any package


def _scores(result: GradingResult) -> dict[str, float]:
    return {n: s for n, s in criterion_scores(result).items() if s is not None}


def below_pass(pack: EnvPack, result: GradingResult) -> list[str]:
    """The criteria a reference misses: below pass_threshold (an all-pass or threshold rubric
    needs them all; a weighted mean is dragged down by them)."""
    return [n for n, s in _scores(result).items() if s < pack.grader.pass_threshold]


def above_floor(pack: EnvPack, result: GradingResult) -> list[str]:
    """The criteria that gave a wrong response more than the floor: what let it through."""
    return [n for n, s in _scores(result).items() if s > pack.grader.floor]


def reference_note(pack: EnvPack, result: GradingResult) -> str:
    missed = below_pass(pack, result)
    if not result.criteria or not missed:
        return ""
    return "; it fails " + _listed(pack, result, missed)


def negative_note(pack: EnvPack, result: GradingResult) -> str:
    through = above_floor(pack, result)
    if not result.criteria or not through:
        return ""
    return "; let through by " + _listed(pack, result, through)


def _listed(pack: EnvPack, result: GradingResult, names: list[str]) -> str:
    scores = _scores(result)
    weights = {c.name: c.weight for c in pack.grader.criteria}
    shown = [f'"{n}" ({scores[n]:g}, weight {weights.get(n, 0):g})' for n in names]
    return ("criterion " if len(shown) == 1 else "criteria ") + ", ".join(shown)


def check_reference_criteria(
    pack: EnvPack, sink: FindingSink, where: dict[str, Any], result: GradingResult, evidence
) -> None:
    """GX215: the reference reaches pass_threshold overall, but not on every criterion."""
    missed = below_pass(pack, result)
    if not missed:
        return
    sink.report(
        "GX215",
        f"the reference for task {where['task_id']!r} passes overall "
        f"({result.reward:g}) but {_listed(pack, result, missed)} "
        f"below pass_threshold {pack.grader.pass_threshold:g}",
        evidence=evidence | {"criteria_failed": missed},
        **where,
    )


def criteria_details(pack: EnvPack, roles: dict[str, Any], results: list[GradingResult]) -> dict:
    """The report's per-criterion view: the rubric, and each grading's scores."""
    rows = []
    for result in results:
        if not result.criteria:
            continue
        role = roles[result.key]
        rows.append(
            {
                "key": result.key,
                "role": role.kind,
                "task_id": role.task_id,
                "line": role.line,
                "reward": result.reward,
                "error": result.error,
                "criteria": criterion_scores(result),
            }
        )
    grader = pack.grader
    return {
        "combine": grader.combine,
        "threshold": grader.threshold,
        "criteria": [
            {"name": c.name, "weight": c.weight, "by": "judge" if c.is_judge else "code"}
            for c in grader.criteria
        ],
        "gradings": rows[:ROWS_KEPT],
        "gradings_total": len(rows),
    }
