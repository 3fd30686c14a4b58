"""What each export can carry of a rubric grader (DESIGN §4.3), and the refusals for the rest.

Code criteria export everywhere: the grader's files and `gauntlet_runtime/rubric_combine.py`
(the funnel's own combination) travel with the export. Judge criteria need a model: the
verifiers export plugs them into verifiers' built-in rubric judge (which scores a criterion's
choices evenly from 0 to 1, and adds its weighted share to the reward) when that gives the
funnel's reward; Harbor verifiers run offline and Inspect has no equivalent, so a rubric with
judge criteria is not exported there.
"""

from __future__ import annotations

from typing import Any

from app.envpack.model import EnvPack, GraderSpec
from app.errors import UserError


def judge_criteria(grader: GraderSpec) -> list:
    return [c for c in grader.criteria if c.is_judge] if grader.is_rubric else []


def refuse_judge_criteria(pack: EnvPack, target: str) -> None:
    """Harbor and Inspect: a rubric with judge criteria is not exported (it needs a model)."""
    judged = judge_criteria(pack.grader)
    if judged:
        names = ", ".join(f'"{c.name}"' for c in judged)
        raise UserError(
            f"{pack.name}'s rubric has judge criteria ({names}), which the {target} export does "
            "not carry over: they need an LLM judge, and its grading runs offline.",
            "Export it with `--to verifiers` (judge criteria become verifiers' rubric judge), "
            "or make every criterion a code criterion.",
        )


def verifiers_judge(pack: EnvPack) -> dict[str, Any] | None:
    """The verifiers rubric-judge file ({"criteria": [...]}, and "weight": its share of the
    reward) for the rubric's judge criteria, or None without any. Refused when verifiers'
    judge would not give the funnel's reward: a combination other than weighted-mean (the
    judge's verdict is added to the reward after the code rewards, never combined with them),
    a reward range other than 0..1, or choices scored unevenly."""
    grader = pack.grader
    judged = judge_criteria(grader)
    if not judged:
        return None

    def refuse(why: str) -> UserError:
        return UserError(
            f"{pack.name}'s rubric has judge criteria, and {why}, which verifiers' rubric judge "
            "cannot reproduce.",
            'Use combine = "weighted-mean", reward_range = [0, 1] and evenly scored choices '
            "(leave `scores` out), or make every criterion a code criterion.",
        )

    if grader.combine != "weighted-mean":
        raise refuse(f'it combines them with "{grader.combine}"')
    if tuple(grader.reward_range) != (0.0, 1.0):
        raise refuse(f"its reward range is {list(grader.reward_range)}")
    for criterion in judged:
        steps = max(len(criterion.choices) - 1, 1)
        even = [i / steps for i in range(len(criterion.choices))]
        if criterion.scores and any(
            abs(a - b) > 1e-9 for a, b in zip(criterion.scores, even, strict=True)
        ):
            raise refuse(f'its criterion "{criterion.name}" scores its choices unevenly')
    total = sum(c.weight for c in grader.criteria) or 1.0
    return {
        "weight": sum(c.weight for c in judged) / total,
        "criteria": [
            {"name": c.name, "text": c.judge, "weight": c.weight, "choices": list(c.choices)}
            for c in judged
        ],
    }
