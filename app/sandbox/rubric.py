"""Rubric graders (DESIGN §4.3) on the trusted host side: each criterion's score is checked
like any reward, then the scores are combined into the one reward the funnel gates on.

Code criteria run in the sandbox, all of an item's criteria in one grading child (the runner
keeps each criterion's value or exception apart under "$rubric"); judge criteria are asked of
the LLM judge from the host, once per criterion, with the criterion's question and choices as
the rubric. `GradingResult.criteria` keeps every criterion's score for the report and the
attacks; `reward` is the combination (app/sandbox/runner/rubric_combine.py, which the exports
ship too: weighted-mean, all-pass or threshold).
A criterion that fails (raises, returns no valid score, its judge cannot be asked) makes the
whole grading that error: a rubric never passes on the criteria that happened to work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.envpack.model import CriterionSpec, EnvPack, GraderSpec
from app.sandbox.base import GradingItem, GradingResult
from app.sandbox.rewards import MAX_FEEDBACK, interpret
from app.sandbox.runner.rubric_combine import choice_scores as runner_choice_scores
from app.sandbox.runner.rubric_combine import combine_scores

if TYPE_CHECKING:
    from app.sandbox.base import SandboxBase

RUBRIC_KEY = "$rubric"


def criterion(score: float | None, error: str | None = None, detail: str = "") -> dict[str, Any]:
    """One criterion's outcome as results carry it (plain data: reports are JSON)."""
    return {"score": score, "error": error, "detail": detail[:1000]}


def criterion_scores(result: GradingResult) -> dict[str, float | None]:
    """name -> score (None when the criterion failed) of a rubric grading."""
    return {name: c.get("score") for name, c in result.criteria.items()}


def code_criteria(
    spec: GraderSpec, raw: Any, metrics: dict[str, Any] | None = None
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Each code criterion's outcome from the runner's "$rubric" value; also the feedback the
    criteria gave (and, into `metrics`, each criterion's metrics). A missing or malformed entry
    is that criterion's invalid reward."""
    entries = raw.get(RUBRIC_KEY) if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        entries = {}
    criteria: dict[str, dict[str, Any]] = {}
    feedback: list[str] = []
    for spec_criterion in spec.criteria:
        if spec_criterion.is_judge:
            continue
        name = spec_criterion.name
        entry = entries.get(name)
        if not isinstance(entry, dict) or not ("raw" in entry or "error" in entry):
            criteria[name] = criterion(None, "invalid-reward", "the criterion returned nothing")
        elif "error" in entry:
            detail = entry.get("detail")
            criteria[name] = criterion(None, "exception", detail if isinstance(detail, str) else "")
        else:
            verdict = interpret(entry["raw"], spec.reward_range)
            criteria[name] = criterion(verdict.reward, verdict.error, verdict.detail)
            if verdict.feedback:
                feedback.append(f"{name}: {verdict.feedback}")
            if verdict.metrics and metrics is not None:
                metrics[name] = verdict.metrics
    return criteria, feedback


def combine(spec: GraderSpec, criteria: dict[str, dict[str, Any]]) -> tuple[float | None, str, str]:
    """(reward, error kind or "", detail) of a rubric from its criteria's outcomes."""
    for spec_criterion in spec.criteria:
        outcome = criteria.get(spec_criterion.name)
        if outcome is None:
            return None, "invalid-reward", f'criterion "{spec_criterion.name}" was not graded'
        if outcome.get("score") is None:
            detail = (outcome.get("detail") or "").strip()
            return (
                None,
                outcome.get("error") or "invalid-reward",
                f'criterion "{spec_criterion.name}": {detail}',
            )
    scores = {c.name: float(criteria[c.name]["score"]) for c in spec.criteria}
    return combine_scores(spec.to_dict(), scores), "", ""


def settle(spec: GraderSpec, result: GradingResult) -> GradingResult:
    """Set `reward` (or the error) of a rubric result from its criteria, in place."""
    if not result.criteria:
        return result  # the grading itself failed (timeout, crash...): its error stands
    reward, error, detail = combine(spec, result.criteria)
    result.reward, result.error = reward, (error or None)
    result.detail = detail if error else ""
    return result


def grade_rubric_batch(
    backend: SandboxBase,
    pack: EnvPack,
    items: list[GradingItem],
    sandbox_batch: Callable[..., list[GradingResult]],
    **options: Any,
) -> list[GradingResult]:
    """Judge criteria first (on the host), then the code criteria in one sandbox batch; each
    result is combined before it is handed on."""
    spec = pack.manifest.grader
    on_result = options.pop("on_result", None)
    if pack.is_multi_turn and any(c.is_judge for c in spec.criteria):
        from app.sandbox.rubric_transcript import grade_conversation_rubric

        return grade_conversation_rubric(backend, pack, items, sandbox_batch, on_result, options)
    judged = {key: {} for key in (item.key for item in items)}
    for spec_criterion in (c for c in spec.criteria if c.is_judge):
        answers = backend.judge.grade_batch(
            pack,
            items,
            cancel=options.get("cancel"),
            jobs=options.get("jobs"),
            rubric_text=judge_rubric(spec, spec_criterion),
        )
        for answer in answers:
            judged[answer.key][spec_criterion.name] = judge_criterion(spec, spec_criterion, answer)

    def finish(result: GradingResult) -> None:
        if result.criteria or not result.error:
            result.criteria.update(judged.get(result.key, {}))
            settle(spec, result)
        if on_result is not None:
            on_result(result)

    if any(not c.is_judge for c in spec.criteria) or pack.is_multi_turn:
        return sandbox_batch(pack, items, on_result=finish, **options)
    results = [GradingResult(key=item.key, reward=None) for item in items]
    for result in results:
        finish(result)
    return results


def judge_rubric(spec: GraderSpec, spec_criterion: CriterionSpec) -> str:
    """The rubric the judge reads for one criterion: the question and its scored choices."""
    low, high = spec.reward_range
    span = (high - low) or 1.0
    lines = [f"Grade one criterion only: {spec_criterion.name}.", "", spec_criterion.judge, ""]
    lines.append("Choose the one answer that fits best (worst to best) and give its score:")
    for choice, score in zip(
        spec_criterion.choices, choice_scores(spec, spec_criterion), strict=False
    ):
        lines.append(f'- "{choice}": score {(score - low) / span:.4g}')
    lines.append("Use only these scores.")
    return "\n".join(lines)


def choice_scores(spec: GraderSpec, spec_criterion: CriterionSpec) -> list[float]:
    """What each choice is worth: `scores` when written, else evenly from floor to ceiling."""
    return runner_choice_scores(spec.to_dict(), spec_criterion.to_dict())


def judge_criterion(
    spec: GraderSpec, spec_criterion: CriterionSpec, answer: GradingResult
) -> dict[str, Any]:
    """The judge's answer as the criterion's score: the score of the nearest choice."""
    if answer.error or answer.reward is None:
        return criterion(None, answer.error or "invalid-reward", answer.detail)
    scores = choice_scores(spec, spec_criterion)
    if not scores:
        return criterion(None, "invalid-reward", "the judge criterion has no choices")
    nearest = min(scores, key=lambda s: abs(s - float(answer.reward)))
    return criterion(nearest, None, answer.feedback[:MAX_FEEDBACK])
