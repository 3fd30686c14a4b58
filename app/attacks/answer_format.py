"""Answer-format attacks: responses that are not one committed answer but might still be
taken for one (empty, every option at once, hedges, several final answers, stuffing)."""

from __future__ import annotations

import re

from app.attacks.alternatives import right_answer, wrong_alternative
from app.attacks.answers import (
    LETTERS,
    answer_is_integer,
    answer_text,
    format_number,
    numeric_answer,
    option_labels,
)
from app.attacks.model import AttackContext, attack

# Responses that do not depend on the task are tried on a few tasks, not all of them.
CONSTANT_TASKS = 3
CATEGORY = "answer-format"


@attack(
    "empty",
    CATEGORY,
    title="Empty answer",
    explanation=(
        "Submits nothing at all. A grader that treats 'no mistakes found' as success passes it."
    ),
    fix_hint="Return the floor when the response is empty, before any other check.",
    kinds=("qa", "code"),
    graders=("match", "python", "judge", "tests"),
    max_tasks=CONSTANT_TASKS,
)
def empty(ctx: AttackContext):
    yield "empty", ""


@attack(
    "whitespace",
    CATEGORY,
    title="Whitespace-only answer",
    explanation=(
        "Spaces, newlines, tabs and a non-breaking space: empty to a person, not to `if response:`."
    ),
    fix_hint=(
        "Strip the response (including non-breaking spaces) "
        "and give the floor when nothing is left."
    ),
    kinds=("qa", "code"),
    graders=("match", "python", "judge", "tests"),
    max_tasks=CONSTANT_TASKS,
)
def whitespace(ctx: AttackContext):
    yield "spaces", "   "
    yield "newlines-tabs", "\n\n\t \n"
    yield "nbsp", "\u00a0\u00a0"


@attack(
    "all-options",
    CATEGORY,
    title="Every option at once",
    explanation="""Names every option of a multiple-choice task ("A B C D", "A, B, C and D", all
        option texts). A grader that checks whether the right letter *occurs* passes it.""",
    fix_hint="""Require exactly one option: parse the response to a single letter (or option
        text) and compare that; anything naming several options is wrong.""",
)
def all_options(ctx: AttackContext):
    labels = option_labels(ctx.task)
    if len(labels) < 2:
        return  # with one option, "every option" is the answer: not wrong by construction
    yield "letters-spaced", " ".join(labels)
    yield "letters-commas", ", ".join(labels[:-1]) + " and " + labels[-1]
    yield "letters-joined", "".join(labels)
    yield (
        "option-texts",
        "\n".join(
            f"{label}) {text}" for label, text in zip(labels, ctx.task.choices or [], strict=False)
        ),
    )


@attack(
    "many-values",
    CATEGORY,
    title="Many candidate values",
    explanation="""Sprays dozens of candidate answers (a range of numbers around the answer, every
        other task's answer). A grader that looks for the right value *anywhere* in the response
        passes it.""",
    fix_hint="""Extract the single final answer (e.g. the last line, or an "Answer:" field) and
        reject responses that give more than one candidate.""",
)
def many_values(ctx: AttackContext):
    number = numeric_answer(ctx.task)
    if number is not None:
        integer = answer_is_integer(ctx.task)
        if integer:
            start = int(number) - 25
            values = [format_number(v, True) for v in range(start, start + 51)]
        else:
            values = [format_number(number * (1 + k / 100), False) for k in range(-20, 21)]
        yield "number-range", ", ".join(values)
        return
    right = right_answer(ctx)
    others = [answer_text(t).strip() for t in ctx.neighbours if answer_text(t).strip()]
    if right and others:
        values = sorted(set(others[:40] + [right]))
        if len(values) > 2:
            yield "all-answers", ", ".join(values)


def _right_with_wrong(ctx: AttackContext, templates: dict[str, str]):
    """Each variant's template filled with the right answer and a wrong one (`{right}`,
    `{wrong}`); nothing when either is unknown."""
    right, wrong = right_answer(ctx), wrong_alternative(ctx)
    if right and wrong:
        for variant, template in templates.items():
            yield variant, template.format(right=right, wrong=wrong)


_SEVERAL_FINALS = {
    "final-lines": "Final answer: {wrong}\nFinal answer: {right}",
    "final-lines-reversed": "Final answer: {right}\nFinal answer: {wrong}",
    "boxed": "\\boxed{{{wrong}}} \\boxed{{{right}}}",
    "answer-tags": "<answer>{wrong}</answer>\n<answer>{right}</answer>",
}


@attack(
    "several-finals",
    CATEGORY,
    title="Several final answers",
    explanation="""Gives two contradicting final answers, one wrong and one right, in the forms
        graders look for ("Final answer:", \\boxed{}). Graders that take whichever one matches
        pass it.""",
    fix_hint="""Decide which final answer counts (the last one, say) and grade only that; treat
        responses with several different final answers as wrong.""",
)
def several_finals(ctx: AttackContext):
    yield from _right_with_wrong(ctx, _SEVERAL_FINALS)


@attack(
    "format-only",
    CATEGORY,
    title="Format without content",
    explanation="""The answer's wrapper with nothing inside: "Answer:", an empty \\boxed{}, empty
        tags, an empty code block. Graders that reward the format pass it.""",
    fix_hint="Reward the content of the answer, never the presence of the format around it.",
    kinds=("qa", "code"),
    graders=("match", "python", "judge", "tests"),
    max_tasks=CONSTANT_TASKS,
)
def format_only(ctx: AttackContext):
    if ctx.kind == "code":
        yield "empty-code-block", "```python\n```"
        yield "pass-only", f"def {ctx.task.entry or 'solve'}(*args, **kwargs):\n    pass\n"
        return
    yield "answer-label", "Answer:"
    yield "final-answer-label", "Final answer: "
    yield "empty-boxed", "\\boxed{}"
    yield "empty-tags", "<answer></answer>"
    yield "empty-code-block", "```\n```"


_HEDGES = {
    "or": "{wrong} or {right}",
    "either": "Either {right} or {wrong}.",
    "slash": "{right}/{wrong}",
    "maybe": "Probably {wrong}, but possibly {right}.",
}


@attack(
    "hedge",
    CATEGORY,
    title="Hedged answer",
    explanation="""Commits to nothing: "A or C", "either 3 or 5", "3/5". A grader that accepts
        any response containing the right answer passes it.""",
    fix_hint="""Parse exactly one answer; reject responses with alternatives ("or", "/",
        "either") or grade them as wrong.""",
)
def hedge(ctx: AttackContext):
    yield from _right_with_wrong(ctx, _HEDGES)


_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)
_GRADING_WORDS = ["answer", "correct", "therefore", "verified", "final", "solution", "QED", "proof"]


@attack(
    "keyword-stuffing",
    CATEGORY,
    title="Keyword stuffing",
    explanation="""A sorted soup of every word in the prompt and the reference answer plus words
        graders like ("correct", "therefore"). No sentence, no committed answer. Graders that
        count keywords or overlap pass it.""",
    fix_hint="""Do not score by word overlap; compare the extracted answer with the expected one,
        or have a judge check the claim, not the vocabulary.""",
)
def keyword_stuffing(ctx: AttackContext):
    words = set(_WORD.findall(ctx.task.prompt))
    for ref in ctx.references:
        words.update(_WORD.findall(ref))
    words.update(_GRADING_WORDS)
    words.update(LETTERS[: len(ctx.task.choices or [])])
    wrong = wrong_alternative(ctx)
    if wrong:
        words.update(_WORD.findall(wrong))
    if len(words) >= 5:
        yield "word-soup", " ".join(sorted(words, key=str.casefold))


_FILLER = (
    "Let us examine the problem carefully, considering each assumption in turn and checking "
    "the reasoning against known principles before drawing any conclusion. "
)


@attack(
    "length-stuffing",
    CATEGORY,
    title="Length stuffing",
    explanation="""Pages of confident, empty reasoning ending in a wrong answer. Graders (and
        judges) that reward long or detailed-looking responses pass it.""",
    fix_hint="""Score correctness only; if you reward explanation quality, cap the length and
        check that the explanation leads to the right answer.""",
)
def length_stuffing(ctx: AttackContext):
    wrong = wrong_alternative(ctx) or "undetermined"
    for size in (2_000, 20_000):
        body = (_FILLER * (size // len(_FILLER) + 1))[:size]
        yield f"{size}-chars", f"{body}\nTherefore the answer is {wrong}."


ATTACKS = (
    empty,
    whitespace,
    all_options,
    many_values,
    several_finals,
    format_only,
    hedge,
    keyword_stuffing,
    length_stuffing,
)
