"""Wrong alternatives for a task's answer, shared by attacks that pair a wrong answer with the
right one (hedges, several final answers, many values)."""

from __future__ import annotations

from app.attacks.answers import (
    answer_is_integer,
    answer_style_for_option,
    answer_text,
    correct_option,
    distinct_wrong_number,
    format_number,
    numeric_answer,
)
from app.attacks.model import AttackContext


def wrong_alternative(ctx: AttackContext) -> str | None:
    """One plausible wrong answer written like the right one, or None when we cannot tell."""
    task = ctx.task
    index = correct_option(task)
    if index is not None and task.choices and len(task.choices) > 1:
        return answer_style_for_option(task, (index + 1) % len(task.choices))
    number = numeric_answer(task)
    if number is not None:
        integer = answer_is_integer(task)
        return format_number(distinct_wrong_number(number, integer), integer)
    right = answer_text(task).strip().casefold()
    for other in ctx.neighbours:
        text = answer_text(other).strip()
        if (
            text
            and text.casefold() != right
            and text.casefold() not in right
            and right not in text.casefold()
        ):
            return text
    return None


def right_answer(ctx: AttackContext) -> str | None:
    text = answer_text(ctx.task).strip()
    if text:
        return text
    return ctx.references[0].strip() if ctx.references else None
