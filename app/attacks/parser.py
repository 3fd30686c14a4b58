"""Parser attacks: responses aimed at how a grader *reads* an answer (float(), json.loads,
eval, regexes, unicode handling) rather than at the answer itself."""

from __future__ import annotations

import json

from app.attacks.alternatives import right_answer, wrong_alternative
from app.attacks.answers import numeric_answer
from app.attacks.model import AttackContext, attack

# Responses that do not depend on the task are tried on a few tasks, not all of them.
CONSTANT_TASKS = 3
CATEGORY = "parser"


@attack(
    "nan-inf",
    CATEGORY,
    title="NaN and infinity",
    explanation="""Answers "NaN", "inf", "-inf" and "1e999" (which overflows to infinity).
        Every comparison with NaN is False, so `not abs(x - y) > tol` passes it, and ratios
        with infinity blow up.""",
    fix_hint="""After parsing a number, reject it unless `math.isfinite(x)`; write comparisons
        as `abs(x - y) <= tol` (which is False for NaN), never as `not (... > tol)`.""",
    max_tasks=CONSTANT_TASKS,
)
def nan_inf(ctx: AttackContext):
    for text in ("NaN", "nan", "inf", "-inf", "Infinity", "1e999"):
        yield text.casefold(), text


@attack(
    "huge-number",
    CATEGORY,
    title="Huge numbers",
    explanation="""Answers far outside any sensible range: 1e308, -1e308, a 400-digit integer.
        Graders that cap a ratio (`min(1, x / answer)`) or overflow on conversion reward them.""",
    fix_hint="""Check the parsed number lies in a plausible range for the task, and compare by
        distance to the answer, not by a capped ratio.""",
)
def huge_number(ctx: AttackContext):
    yield "1e308", "1e308"
    yield "-1e308", "-1e308"
    yield "400-digits", "9" * 400
    number = numeric_answer(ctx.task)
    if number is not None and number != 0:
        yield "answer-times-1e12", repr(number * 1e12)


def _bool_swapped(value):
    """The same structure with 1/0 replaced by true/false (and back): equal under Python's ==."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, list):
        return [_bool_swapped(v) for v in value]
    if isinstance(value, dict):
        return {k: _bool_swapped(v) for k, v in value.items()}
    return value


def _has_bool_swap(value) -> bool:
    if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
        return True
    if isinstance(value, list):
        return any(_has_bool_swap(v) for v in value)
    if isinstance(value, dict):
        return any(_has_bool_swap(v) for v in value.values())
    return False


@attack(
    "type-confusion",
    CATEGORY,
    title="Type confusion",
    explanation="""The answer in the wrong type: `true` for 1 (Python says `True == 1`), the
        answer wrapped in a list, a number written as a string, an object holding the answer.
        Graders that compare with Python's == or with str() pass some of these.""",
    fix_hint="""Compare types as well as values (check `type(x) is type(y)`, or use the built-in
        `json` match mode, which is type-strict); do not compare `str()` of values.""",
)
def type_confusion(ctx: AttackContext):
    answer = ctx.task.answer
    if answer is None or (
        isinstance(answer, str)
        and numeric_answer(ctx.task) is None
        and not answer.strip().startswith(("[", "{"))
    ):
        return
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except ValueError:
            number = numeric_answer(ctx.task)
            answer = number if number is not None else answer
    if _has_bool_swap(answer):
        yield "bool-for-int", json.dumps(_bool_swapped(answer))
    yield "wrapped-in-list", json.dumps([answer])
    yield "wrapped-in-object", json.dumps({"answer": answer})
    if not isinstance(answer, str):
        yield "as-string", json.dumps(json.dumps(answer))


@attack(
    "parser-bomb",
    CATEGORY,
    title="Parser bombs",
    explanation="""Inputs that make parsers fail or hang: JSON nested 100,000 deep, a
        100,000-digit number (Python refuses to convert it), an exponent of a billion, input
        that makes a careless regex backtrack. A grader that gives credit when its parser
        raises (a bare `except: return 1.0`) is beaten.""",
    fix_hint="""Never return reward from an exception handler: catch parse errors and return the
        floor. Limit input size before parsing; avoid nested quantifiers in regexes.""",
    max_tasks=CONSTANT_TASKS,
)
def parser_bomb(ctx: AttackContext):
    yield "deep-json", "[" * 100_000 + "]" * 100_000
    yield "long-integer", "9" * 100_000
    yield "huge-exponent", "1e1000000000"
    yield "backtracking", "a" * 5_000 + "!"
    yield "nul-bytes", "\x00" * 64


_CONFUSABLE = {
    "a": "а",
    "c": "с",
    "e": "е",
    "o": "о",
    "p": "р",
    "x": "х",
    "y": "у",
    "A": "А",
    "B": "В",
    "C": "С",
    "E": "Е",
    "H": "Н",
    "K": "К",
    "M": "М",
    "O": "О",
    "P": "Р",
    "T": "Т",
    "X": "Х",
}


@attack(
    "unicode-lookalike",
    CATEGORY,
    title="Unicode look-alikes",
    explanation="""Wrong answers that *look* right once a grader throws away non-ASCII
        characters: a Unicode minus (−12 for 12), a fraction (12½ for 12), a negation sign
        (¬ before the answer), and Cyrillic look-alike letters. Graders that
        `encode("ascii", "ignore")` or transliterate pass them.""",
    fix_hint="""Normalise with NFKC (which keeps "−" and "½" meaningful) instead of dropping
        non-ASCII characters; after normalising, compare exactly.""",
)
def unicode_lookalike(ctx: AttackContext):
    right = right_answer(ctx)
    if not right:
        return
    number = numeric_answer(ctx.task)
    if number is not None:
        if number > 0:
            yield "unicode-minus", "\u2212" + right
        yield "vulgar-half", right + "\u00bd"
        yield "superscript-two", right + "\u00b2"
    yield "not-sign", "\u00ac" + right
    swapped = "".join(_CONFUSABLE.get(ch, ch) for ch in right)
    if swapped != right:
        yield "cyrillic-letters", swapped


@attack(
    "zero-width",
    CATEGORY,
    title="Invisible characters",
    explanation="""Responses made of zero-width and other invisible characters, alone or
        joining a wrong answer to the right one. Empty to a person, non-empty to `len()`;
        invisible separators fool substring checks.""",
    fix_hint="""Remove format characters (Unicode category Cf) and whitespace before checking
        for an empty answer, then compare the whole normalised answer.""",
)
def zero_width(ctx: AttackContext):
    yield "zero-width-only", "\u200b\u200c\u200d\u2060\ufeff"
    right, wrong = right_answer(ctx), wrong_alternative(ctx)
    if right and wrong:
        yield "hidden-join", f"{wrong}\u200b\u2063{right}"
        yield (
            "hidden-tag-answer",
            wrong + "".join(chr(0xE0000 + ord(ch)) for ch in right if ord(ch) < 128),
        )


@attack(
    "eval-injection",
    CATEGORY,
    title="Code in the answer (eval injection)",
    explanation="""Python expressions instead of an answer: the grader's own variables
        (`expected`, `answer`, `task['answer']`), `__import__` tricks and conditional
        expressions. A grader that calls `eval()` on the response evaluates them and finds
        the expected value.""",
    fix_hint="""Never `eval()` a response. Parse numbers with `float()` (then check
        `isfinite`) or `fractions.Fraction`; for expressions use a small safe parser
        (e.g. `ast.literal_eval`, or sympy's parser with evaluation off).""",
    max_tasks=CONSTANT_TASKS,
)
def eval_injection(ctx: AttackContext):
    yield "task-answer", "task['answer']"
    yield "expected", "expected"
    yield "answer", "answer"
    yield (
        "frame-walk",
        (
            "next(v for f in [__import__('sys')._getframe(0)] for v in "
            "[f.f_locals.get('expected', f.f_locals.get('answer', f.f_locals.get('task', "
            "{}).get('answer') if isinstance(f.f_locals.get('task'), dict) else None))])"
        ),
    )
    yield (
        "globals-scan",
        (
            "[v['answer'] for v in list(globals().values()) "
            "+ list(locals().values()) if isinstance(v, dict) and 'answer' in v][0]"
        ),
    )


@attack(
    "format-string-injection",
    CATEGORY,
    title="Format-string injection",
    explanation="""Placeholders such as `{answer}`, `{task[answer]}` and `%(answer)s`. A grader
        that builds a string with `.format(**task)` or `%` *after* inserting the response
        substitutes the expected answer into it.""",
    fix_hint="""Never call `.format()` or `%` on text that contains the response; build
        messages with f-strings around the response, or concatenate.""",
    max_tasks=CONSTANT_TASKS,
)
def format_string_injection(ctx: AttackContext):
    yield "brace-answer", "{answer}"
    yield "brace-task-answer", "{task[answer]}"
    yield "percent-answer", "%(answer)s"
    yield "brace-expected", "{expected}"


ATTACKS = (
    nan_inf,
    huge_number,
    type_confusion,
    parser_bomb,
    unicode_lookalike,
    zero_width,
    eval_injection,
    format_string_injection,
)
