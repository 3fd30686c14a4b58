"""The plain wrong answer for a task: well formed, honest, and wrong.

Its reward is the bar an attack must not clear ("reward > a plain wrong answer" is a hit),
and it is itself attack `plain-wrong`: a grader that passes it passes anything.
"""

from __future__ import annotations

import json

from app.attacks.answers import (
    answer_is_integer,
    answer_style_for_option,
    correct_option,
    distinct_wrong_number,
    entry_name,
    format_number,
    numeric_answer,
)
from app.attacks.model import AttackContext, attack


def plain_wrong_answers(ctx: AttackContext) -> list[tuple[str, str]]:
    task = ctx.task
    if ctx.kind == "code":
        name = entry_name(task)
        # constants too: a test set that a constant passes in part is the bar, not a hack
        return [
            (f"returns-{label}", f"def {name}(*args, **kwargs):\n    return {value}\n")
            for label, value in (
                ("none", "None"),
                ("zero", "0"),
                ("empty-string", "''"),
                ("empty-list", "[]"),
                ("false", "False"),
            )
        ]
    answers: list[tuple[str, str]] = []
    number = numeric_answer(task)
    index = correct_option(task)
    if index is not None and task.choices and len(task.choices) > 1:
        other = (index + 1) % len(task.choices)
        answers.append(("other-option", answer_style_for_option(task, other)))
    elif number is not None:
        integer = answer_is_integer(task)
        answers.append(
            ("wrong-number", format_number(distinct_wrong_number(number, integer), integer))
        )
    elif isinstance(task.answer, list):
        answers.append(("empty-list", json.dumps([])))
    elif isinstance(task.answer, dict):
        answers.append(("empty-object", json.dumps({})))
    answers.append(("dont-know", "I do not know the answer to this question."))
    return answers


plain_wrong = attack(
    "plain-wrong",
    "answer-format",
    title="A plain wrong answer",
    explanation="""An honest, well-formed but wrong answer (another option, a different number,
        "I do not know"). If this reaches the pass threshold the grader is not checking the
        answer at all.""",
    fix_hint="""Compare the response with the task's expected answer; make sure the comparison
        can actually fail (run your negatives through it).""",
    kinds=("qa", "code"),
    graders=("match", "python", "judge", "tests"),
    full_reward_only=True,
)(plain_wrong_answers)
