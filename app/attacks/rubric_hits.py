"""Stage 3 per criterion, for rubric graders (DESIGN §4.3): an attack that moves one criterion
is a finding on that criterion.

A criterion's *negative baseline* on a task is the best score that criterion gave the task's
known-wrong answers: the plain wrong answers and the package's own negatives (written in the
task's format, so a format or citation criterion rightly scores them well). An attack response
is wrong by construction; a criterion that scores it above that baseline was moved by the
attack's trick. Without negatives for the task, only the plain wrong answers (often not in the
task's format) are known, so a criterion alone does not make a hit there; the combined reward
still does, and the finding still names the criteria that rose. A criterion alone makes a hit
when it reaches pass_threshold on a response built to be wrong (not on a near miss).
"""

from __future__ import annotations

from app.envpack.model import EnvPack
from app.sandbox.base import GradingItem, GradingResult
from app.sandbox.rubric import criterion_scores

NEGATIVE_PREFIX = "negbase"


def negative_items(pack: EnvPack, task_ids: list[str], records) -> list[GradingItem]:
    """The package's negatives of the attacked tasks, graded beside the plain wrong answers."""
    if not pack.grader.is_rubric:
        return []
    wanted = set(task_ids)
    return [
        GradingItem(f"{NEGATIVE_PREFIX}:{neg.task_id}:{i}", records[neg.task_id], neg.response)
        for i, neg in enumerate(pack.negatives)
        if neg.task_id in wanted
    ]


def criteria_baseline(
    task_id: str, baseline_keys: list[str], results: dict[str, GradingResult], floor: float
) -> tuple[dict[str, float], bool]:
    """(criterion -> its negative baseline on the task, whether the package's negatives were
    among them)."""
    prefix = f"{NEGATIVE_PREFIX}:{task_id}:"
    keys = list(baseline_keys) + [k for k in results if k.startswith(prefix)]
    best: dict[str, float] = {}
    for key in keys:
        result = results.get(key)
        if result is None:
            continue
        for name, score in criterion_scores(result).items():
            best[name] = max(best.get(name, floor), floor if score is None else float(score))
    return best, any(k.startswith(prefix) for k in keys)


def moved_criteria(
    result: GradingResult | None, baseline: dict[str, float], margin: float
) -> dict[str, float]:
    """criterion -> score, for the criteria that scored the response above their baseline."""
    if result is None or not result.criteria:
        return {}
    return {
        name: float(score)
        for name, score in criterion_scores(result).items()
        if score is not None and float(score) > baseline.get(name, float("-inf")) + margin
    }


def criterion_hit(
    moved: dict[str, float], checked: bool, pass_threshold: float, full_reward_only: bool
) -> bool:
    """Whether moved criteria alone make a hit (the combined reward may not show it: an
    all-pass rubric hides a fooled criterion behind one that still fails). Near misses (a
    reference with its answer changed: `full_reward_only`) leave the criteria that do not read
    the changed part as they were, rightly; only a full combined reward makes them hits."""
    if not checked or not moved or full_reward_only:
        return False
    return any(s >= pass_threshold for s in moved.values())
