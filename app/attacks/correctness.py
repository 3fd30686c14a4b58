"""The "wrong by construction" guard: no hit is ever reported for a response that might
actually be right.

Generators build wrong responses on purpose, but a mutation can land on the answer (the
answer is 0 and we flipped its sign), "every option" is the answer when a task has one
option, and an LLM may simply solve the task. This guard is deliberately generous about what
*might* be correct: a false "robust" costs less than crying wolf.

It judges a response the way the grader will read it: only the answer region
(app/attacks/answer_region.py), with the package's declared tolerances and accepted
alternatives (app/attacks/declared.py). A response that is wrong only under an assumption the
package does not state (a region learned from the references but not named in the prompt, a
precision nobody declared) is still tried, but its hit is a warning naming the assumption.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.attacks.answer_region import AnswerRegion, learn_region
from app.attacks.answers import (
    LETTERS,
    NUMBER,
    answer_is_integer,
    correct_option,
    numbers_in,
    numeric_answer,
)
from app.attacks.declared import Tolerance, accepted_alternatives, declared_tolerance
from app.envpack.model import EnvPack, Task

# A non-integer answer this close to the expected one, with no tolerance stated anywhere, is
# wrong only if every digit is meant to count: an assumption, not the package's rule.
UNSTATED_PRECISION = 0.01

_ANSWER_PREFIX = re.compile(
    r"^(?:the\s+)?(?:final\s+)?(?:answer|result|solution)\s*(?:is|:|=)?\s*", re.IGNORECASE
)


_NEGATION = re.compile(r"\bnot\b|\bnever\b|n't\b|\u00ac")


def normalize(text: str) -> str:
    """Case, width, invisible characters, whitespace and surrounding punctuation folded away."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = " ".join(text.casefold().split())
    text = _ANSWER_PREFIX.sub("", text)
    text = text.strip(" \t\n.,;:!?\"'`()[]{}<>*_")
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Assessment:
    possibly_correct: bool
    assumption: str = ""  # set when the response is wrong only under an unstated assumption


def assess(
    pack: EnvPack,
    task: Task,
    response: str,
    references: Iterable[str],
    region: AnswerRegion | None = None,
) -> Assessment:
    """Might `response` be right under the package's own rules? And if it is wrong, is it
    wrong only under an assumption the package does not state?"""
    references = list(references)
    if pack.manifest.kind == "code":
        # Code attacks never compute the answer; only a copy of a reference could be right.
        return Assessment(any(response.strip() == ref.strip() for ref in references))
    if _whole_could_be_correct(pack, task, response, references):
        return Assessment(True)
    if region is None:
        region = learn_region(str(task.prompt or ""), tuple(references), task.answer)
    if region.is_whole:
        return _precision(pack, task, response)
    said = region.content(response)
    if said is None:
        return Assessment(False)  # no answer where the grader looks: nothing to be right
    if len({normalize(c) for c in region.all_contents(response)}) > 1:
        return Assessment(False)  # several answers that disagree: not one committed answer
    if any(normalize(said) == normalize(region.content(r) or "\0") for r in references):
        # Only text outside the answer region changed: the answer is the reference's.
        if region.stated:
            return Assessment(True)
        return Assessment(
            False,
            f"text outside {region.describe()} counts as part of the answer (the references "
            f"put their answer in {region.describe()}; the prompt does not say that only it "
            "counts, and this response changes only text outside it)",
        )
    if _whole_could_be_correct(pack, task, said, [region.content(r) or "" for r in references]):
        return Assessment(True)
    return _precision(pack, task, said)


def _whole_could_be_correct(pack: EnvPack, task: Task, response: str, references) -> bool:
    said = normalize(response)
    for ref in references:
        if ref and said == normalize(ref):
            return True
    if any(said == normalize(alt) for alt in accepted_alternatives(task)):
        return True
    answer = task.answer
    if answer is None:
        return False
    if isinstance(answer, str) and said == normalize(answer):
        return True
    if _NEGATION.search(said) and not _NEGATION.search(normalize(str(answer))):
        return False  # "not 50" denies the answer it names
    if _same_number(pack, task, response) or _same_in_reference_units(pack, task, said, references):
        return True
    if task.choices and _same_option(task, said):
        return True
    return _same_structure(answer, response)


def _precision(pack: EnvPack, task: Task, said: str) -> Assessment:
    """A near miss on a non-integer answer when nobody stated a precision is an assumption."""
    expected = numeric_answer(task)
    if expected is None or answer_is_integer(task) or declared_tolerance(pack, task).declared:
        return Assessment(False)
    found = numbers_in(unicodedata.normalize("NFKC", said).replace("\u2212", "-"))
    if len(found) != 1 or not math.isfinite(found[0]) or _NEGATION.search(normalize(said)):
        return Assessment(False)
    if Tolerance(relative=UNSTATED_PRECISION).accepts(found[0], expected):
        return Assessment(
            False,
            f"every digit of the answer counts ({found[0]:g} is within "
            f"{UNSTATED_PRECISION:.0%} of {expected:g}; no tolerance or precision is stated "
            "for this task)",
        )
    return Assessment(False)


def _same_in_reference_units(pack: EnvPack, task: Task, said: str, references) -> bool:
    """A reference may give the answer in another unit than the task's ("1.54 Å" for 0.154 nm,
    with the tolerance in nm): a response worded like it is converted the way it is."""
    expected = numeric_answer(task)
    tolerance = declared_tolerance(pack, task)
    if expected is None or expected == 0 or not tolerance.declared:
        return False
    found = numbers_in(said)
    if len(found) != 1 or not math.isfinite(found[0]):
        return False
    shape = NUMBER.sub("#", said)
    for ref in references:
        ref_said = normalize(ref or "")
        ref_numbers = numbers_in(ref_said)
        if len(ref_numbers) != 1 or not ref_numbers[0] or NUMBER.sub("#", ref_said) != shape:
            continue
        scale = ref_numbers[0] / expected  # the reference's unit per unit of the answer
        if tolerance.accepts(found[0] / scale, expected):
            return True
    return False


def _same_number(pack: EnvPack, task: Task, response: str) -> bool:
    expected = numeric_answer(task)
    if expected is None:
        return False
    # U+2212 is a minus sign to a reader; never let it pass for a positive number
    found = numbers_in(unicodedata.normalize("NFKC", response).replace("\u2212", "-"))
    if len(found) != 1:
        return False
    value = found[0]
    if not math.isfinite(value):
        return False
    tolerance = max(pack.grader.tolerance, 1e-9)
    if math.isclose(value, expected, rel_tol=tolerance, abs_tol=tolerance):
        return True
    return declared_tolerance(pack, task).accepts(value, expected)


def _same_option(task: Task, said: str) -> bool:
    index = correct_option(task)
    if index is None:
        return False
    choices = [normalize(str(c)) for c in task.choices or []]
    letter = LETTERS[index].casefold()
    if said in (
        letter,
        f"{letter}) {choices[index]}",
        f"{letter}. {choices[index]}",
        choices[index],
    ):
        return True
    # every option named in the response is the right one (e.g. "A" when only "A" exists)
    named = {m.casefold() for m in re.findall(r"\b([A-Za-z])\b", said)} & set(
        LETTERS[: len(choices)].casefold()
    )
    return named == {letter} and not any(
        c in said for i, c in enumerate(choices) if i != index and c
    )


def _same_structure(answer: Any, response: str) -> bool:
    """JSON answers (lists, objects, numbers): equal with types, in any order for lists of
    scalars (a set answer)."""
    try:
        value = json.loads(response)
    except (ValueError, RecursionError):
        return False
    if strictly_equal(value, answer):
        return True
    if isinstance(value, list) and isinstance(answer, list):
        try:
            return sorted(map(_canon, value)) == sorted(map(_canon, answer))
        except TypeError:
            return False
    return False


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def strictly_equal(a: Any, b: Any) -> bool:
    """Equality that tells True from 1 and "1" from 1 (Python's == does not)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(strictly_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strictly_equal(a[k], b[k]) for k in a)
    return a == b
