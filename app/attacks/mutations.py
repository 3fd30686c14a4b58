"""Reference mutations: each reference response turned into a near miss that is wrong
(off by one, scaled, sign flipped, truncated, another option, negated, a neighbour's answer).

A grader that still gives *full* reward to these is too loose. Partial credit for a near miss
can be a deliberate design, so only full reward counts as a hit here (`full_reward_only`).
For code, the reference solution is wrapped so that every result it returns is changed.

Every change is made inside the answer region the grader reads (`ctx.region`: a tag, a
\\boxed{}, a JSON field, the last line; see answer_region.py): a change outside it would leave
the answer as it was. Negation is also tried outside the region; the correctness guard decides
whether that counts (never, when the prompt says only the region counts).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from app.attacks.answers import (
    LETTERS,
    NUMBER,
    answer_text,
    correct_option,
    entry_name,
    format_number,
    numeric_answer,
)
from app.attacks.model import Attack, AttackContext, Generator, attack

CATEGORY = "answer-format"
_KINDS = ("qa", "code")
_GRADERS = ("match", "python", "judge", "tests")


def _qa_and_code_attack(id: str, **texts: str) -> Callable[[Generator], Attack]:
    """`attack` for a mutation of qa and code tasks, where only full reward counts as a hit."""
    return attack(id, CATEGORY, kinds=_KINDS, graders=_GRADERS, full_reward_only=True, **texts)


def _last_number(text: str) -> re.Match[str] | None:
    matches = list(NUMBER.finditer(text))
    return matches[-1] if matches else None


def _replace_last_number(reference: str, change) -> str | None:
    match = _last_number(reference)
    if match is None:
        return None
    raw = match.group()
    try:
        value = float(raw)
    except (ValueError, OverflowError):
        return None
    integer = bool(re.fullmatch(r"[-+]?\d+", raw))
    new = change(value)
    if new is None or not math.isfinite(new) or new == value:
        return None
    text = format_number(new, integer and float(new).is_integer())
    if raw.startswith("+") and not text.startswith("-"):
        text = "+" + text
    return reference[: match.start()] + text + reference[match.end() :]


def _answer_of(ctx: AttackContext, ref: str) -> str:
    """The part of `ref` the grader reads."""
    content = None if ctx.region.is_whole else ctx.region.content(ref)
    return ref if content is None else content


def _in_region(ctx: AttackContext, ref: str, change: Callable[[str], str | None]) -> str | None:
    """`ref` with `change` applied to its answer region only."""
    content = None if ctx.region.is_whole else ctx.region.content(ref)
    if content is None:
        return change(ref)
    new = change(content)
    if new is None or new == content:
        return None
    return ctx.region.replace(ref, new)


def _number_references(ctx: AttackContext) -> list[str]:
    refs = [r for r in ctx.references if _last_number(_answer_of(ctx, r))]
    if not refs and numeric_answer(ctx.task) is not None:
        refs = [answer_text(ctx.task)]
    return refs


def _near_misses(
    ctx: AttackContext,
    code: tuple[str, str],
    references: Callable[[AttackContext], list[str]],
    changes: tuple[tuple[str, Callable[[str], str | None]], ...],
):
    """The near misses of one mutation: for code, the reference solution wrapped by `code`
    (label, expression in `r`); otherwise each change applied to the answer region of the
    first two `references`, labelled with the change and the reference's index."""
    if ctx.kind == "code":
        label, expression = code
        mutant = _code_mutant(ctx, expression)
        if mutant:
            yield label, mutant
        return
    for i, ref in enumerate(references(ctx)[:2]):
        for label, change in changes:
            mutant = _in_region(ctx, ref, change)
            if mutant:
                yield f"{label}-{i}", mutant


def _on_last_number(change: Callable[[float], float | None]) -> Callable[[str], str | None]:
    return lambda text: _replace_last_number(text, change)


def _stripped_references(ctx: AttackContext) -> list[str]:
    return [ref.strip() for ref in ctx.references]


def _code_mutant(ctx: AttackContext, change: str) -> str | None:
    """The reference solution with every result changed by `change` (a Python expression in
    `r` that differs from `r` for every value it applies to)."""
    if not ctx.references:
        return None
    name = entry_name(ctx.task)
    return (
        f"{ctx.references[0].rstrip()}\n\n"
        f"_gauntlet_reference = {name}\n\n"
        f"def {name}(*args, **kwargs):\n"
        f"    r = _gauntlet_reference(*args, **kwargs)\n"
        f"    return {change}\n"
    )


@_qa_and_code_attack(
    "mutation-off-by-one",
    title="Reference off by one",
    explanation=(
        "The reference answer with its final number moved by one (or by 1% for non-integers)."
    ),
    fix_hint="""Tighten the comparison: exact match for integers, a small relative tolerance
        (e.g. 1e-6) for measured values. Check that `tolerance` in env.toml is relative.""",
)
def off_by_one(ctx: AttackContext):
    yield from _near_misses(
        ctx,
        (
            "result-plus-one",
            "(r + 1) if isinstance(r, (int, float)) and not isinstance(r, bool) else "
            "(not r) if isinstance(r, bool) else r + [0] if isinstance(r, list) else "
            "r + 'x' if isinstance(r, str) else [r]",
        ),
        _number_references,
        (
            ("plus-one", _on_last_number(lambda v: v + 1 if v.is_integer() else v * 1.01)),
            ("minus-one", _on_last_number(lambda v: v - 1 if v.is_integer() else v * 0.99)),
        ),
    )


@_qa_and_code_attack(
    "mutation-scaled",
    title="Reference scaled",
    explanation=(
        "The reference's final number times 10, "
        "divided by 10, and times 2 (a unit or factor mistake)."
    ),
    fix_hint="""Use a relative tolerance small enough to reject a wrong unit or factor; if units
        matter, require them explicitly.""",
)
def scaled(ctx: AttackContext):
    yield from _near_misses(
        ctx,
        (
            "result-times-ten",
            "(r * 10 if r else 7) if isinstance(r, (int, float)) and not isinstance(r, bool) else "
            "(not r) if isinstance(r, bool) else r * 2 + [0] if isinstance(r, list) else "
            "r * 2 + 'x' if isinstance(r, str) else [r]",
        ),
        _number_references,
        (
            ("times-10", _on_last_number(lambda v: v * 10)),
            ("divided-10", _on_last_number(lambda v: v / 10)),
            ("times-2", _on_last_number(lambda v: v * 2)),
        ),
    )


@_qa_and_code_attack(
    "mutation-sign-flip",
    title="Reference with its sign flipped",
    explanation="The reference's final number with the opposite sign.",
    fix_hint="""Compare signed values; do not take `abs()` of the answer or strip "-" as
        punctuation before comparing.""",
)
def sign_flip(ctx: AttackContext):
    yield from _near_misses(
        ctx,
        (
            "result-negated",
            "(-r if r else 1) if isinstance(r, (int, float)) and not isinstance(r, bool) else "
            "(not r) if isinstance(r, bool) else [r]",
        ),
        _number_references,
        (("flipped", _flip_last_sign),),
    )


def _flip_last_sign(text: str) -> str | None:
    match = _last_number(text)
    if match is None:
        return None
    raw = match.group()
    if float(raw) == 0:
        return None  # -0 is 0: not wrong by construction
    flipped = raw[1:] if raw.startswith("-") else "-" + raw.lstrip("+")
    return text[: match.start()] + flipped + text[match.end() :]


@_qa_and_code_attack(
    "mutation-truncated",
    title="Reference truncated",
    explanation="""The reference cut short: the first half of a text answer, a number with its
        last digits dropped, a list missing its last element.""",
    fix_hint="""Compare the whole answer (full match, not prefix or substring); for lists and
        sets compare every element.""",
)
def truncated(ctx: AttackContext):
    yield from _near_misses(
        ctx,
        (
            "result-truncated",
            "(r[:-1] if len(r) > 1 else r + r + [0] if isinstance(r, list) else r + r + 'x') "
            "if isinstance(r, (list, str)) else (r // 10 if r // 10 != r else r + 3) "
            "if isinstance(r, int) and not isinstance(r, "
            "bool) else (not r) if isinstance(r, bool) else [r]",
        ),
        _stripped_references,
        (
            ("digits-dropped", _drop_digits),
            ("list-shortened", _shorten_list),
            ("first-half", _first_half),
        ),
    )


def _drop_digits(text: str) -> str | None:
    match = _last_number(text)
    if not match or len(match.group().lstrip("+-").replace(".", "")) < 3:
        return None
    raw = match.group()
    cut = raw[:-1] if not raw.endswith(".") else raw[:-2]
    if cut and cut.lstrip("+-") not in ("", ".") and float(cut) != float(raw):
        return text[: match.start()] + cut + text[match.end() :]
    return None


def _shorten_list(text: str) -> str | None:
    text = text.strip()
    if text.startswith("[") and text.endswith("]") and "," in text:
        return text[: text.rindex(",")] + "]"
    return None


def _first_half(text: str) -> str | None:
    text = text.strip()
    if len(text) >= 8 and not _last_number(text) and not _shorten_list(text):
        return text[: len(text) // 2].rstrip()
    return None


@attack(
    "mutation-swapped-option",
    CATEGORY,
    title="Reference with another option",
    explanation=(
        "The reference answer with the correct option replaced by each other option in turn."
    ),
    fix_hint="""Map the response to exactly one option (letter or text) and compare it with the
        answer; do not accept a response because it *mentions* the right option.""",
    full_reward_only=True,
)
def swapped_option(ctx: AttackContext):
    index = correct_option(ctx.task)
    choices = ctx.task.choices or []
    if index is None or len(choices) < 2:
        return
    letter = LETTERS[index]
    for ref in ctx.references[:1]:
        for other in range(len(choices)):
            if other == index:
                continue
            pattern = re.compile(rf"(?<![A-Za-z]){letter}(?![A-Za-z])")
            matches = list(pattern.finditer(ref))
            if matches:
                last = matches[-1]
                yield (
                    f"option-{LETTERS[other]}",
                    ref[: last.start()] + LETTERS[other] + ref[last.end() :],
                )
            elif str(choices[index]) in ref:
                yield (
                    f"option-{LETTERS[other]}",
                    ref.replace(str(choices[index]), str(choices[other])),
                )


_FLIPS = {
    "yes": "no",
    "no": "yes",
    "true": "false",
    "false": "true",
    "increase": "decrease",
    "decrease": "increase",
}


@attack(
    "mutation-negated",
    CATEGORY,
    title="Reference negated",
    explanation="""The reference answer negated: "not X", yes↔no, true↔false, "is"→"is not".
        A grader that looks for the answer's words passes it.""",
    fix_hint="""Compare the extracted answer as a whole; for text answers use exact match after
        normalisation, or a judge instructed to check the claim and its polarity.""",
    full_reward_only=True,
)
def negated(ctx: AttackContext):
    for i, ref in enumerate(ctx.references[:1]):
        text = ref.strip()
        if not text:
            continue
        for label, new in _negations(_answer_of(ctx, text).strip()):
            mutant = _in_region(ctx, text, lambda _old, n=new: n)
            if mutant:
                yield f"{label}-{i}", mutant
        if not ctx.region.is_whole:
            # Outside the region too: wrong only if the whole response is the answer, which
            # the guard reports as an assumption (or drops, when the prompt rules it out).
            yield f"outside-not-prefix-{i}", f"not {text}"


def _negations(text: str):
    if not text:
        return
    word = text.casefold().rstrip(".")
    if word in _FLIPS:
        yield "flipped", _FLIPS[word]
        return
    if re.search(r"\bis\b", text):
        yield "is-not", re.sub(r"\bis\b", "is not", text, count=1)
    yield "not-prefix", f"not {text}"
    yield "it-is-not", f"It is not {text}."


@_qa_and_code_attack(
    "mutation-neighbour-answer",
    title="A neighbour task's answer",
    explanation="""The reference response of another task in the same package. A grader that
        checks against the set of all answers (or none) passes it.""",
    fix_hint="""Grade each response against its own task's answer (check the task id or the
        `task` argument your grader receives).""",
)
def neighbour_answer(ctx: AttackContext):
    own = {r.strip() for r in ctx.references}
    own_answer = answer_text(ctx.task).strip()
    yielded = 0
    for other in ctx.neighbours:
        for ref in ctx.pack.references_for(other.id):
            text = ref.response.strip()
            if text and text not in own and answer_text(other).strip() != own_answer:
                if ctx.kind == "code" and entry_name(other) != entry_name(ctx.task):
                    continue
                yield f"from-{other.id}", ref.response
                yielded += 1
                break
        if yielded >= 2:
            return


ATTACKS = (off_by_one, scaled, sign_flip, truncated, swapped_option, negated, neighbour_answer)
