"""Grader settings: valid ranges, a grader that fits the kind, and tasks that carry what the
grader needs (answers of the right shape, valid patterns, real choices)."""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.envpack.checks.context import CheckContext
from app.envpack.loader import misspelt_key
from app.envpack.model import Span, Task
from app.envpack.source import normalize_relpath
from app.type_words import expected, list_of

FITS_KIND = {
    "qa": ("match", "python", "judge", "rubric"),
    "code": ("tests", "python", "rubric"),
    "multi-turn": ("python", "rubric"),  # the grader reads the whole trajectory
}
# a number as the sandbox's match grader reads it: one finite decimal, nothing else
_NUMBER_TEXT = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*")


def _unused_settings(grader) -> dict[str, str]:
    """grader key -> why it has no effect with this grader (for GX160)."""
    unused: dict[str, str] = {}
    if grader.type != "match":
        unused["mode"] = unused["normalize"] = 'grader.type = "match"'
    uses_tolerance = (
        grader.type == "match" and grader.mode in ("numeric", "json")
    ) or grader.type == "tests"
    if not uses_tolerance:
        unused["tolerance"] = 'grader.mode = "numeric" or "json", or grader.type = "tests"'
    if grader.type not in ("python", "rubric"):
        unused["entry"] = 'grader.type = "python" or "rubric"'
    if grader.type != "judge":
        unused["rubric"] = 'grader.type = "judge"'
        if not (grader.is_rubric and any(c.is_judge for c in grader.criteria)):
            unused["model"] = 'grader.type = "judge", or a rubric with judge criteria'
    if not grader.is_rubric:
        unused["combine"] = unused["criteria"] = 'grader.type = "rubric"'
    if grader.combine != "threshold":
        unused["threshold"] = 'grader.type = "rubric" and combine = "threshold"'
    return unused


def check_grader_config(ctx: CheckContext) -> None:
    grader = ctx.pack.manifest.grader
    written = ctx.result.manifest_data.get("grader")
    written = written if isinstance(written, dict) else {}
    _check_numbers(ctx, written)
    _check_fit(ctx, written)
    _check_sandbox(ctx)
    if grader.type == "judge":
        _check_judge(ctx, written)
    if grader.type == "match":
        for task in ctx.pack.tasks:
            _check_answer(ctx, task, grader.mode)


def _check_numbers(ctx: CheckContext, written: dict[str, Any]) -> None:
    """reward_range, pass_threshold, tolerance and timeout_s in sensible ranges."""
    grader = ctx.pack.manifest.grader
    low, high = grader.reward_range
    if isinstance(written.get("reward_range"), list) and not low < high:
        ctx.report(
            "GX152",
            (
                f"reward_range = [{low:g}, {high:g}]: "
                "the first number (the floor) must be below the second."
            ),
            ctx.at_key("grader.reward_range"),
        )
    if low < high and not low < grader.pass_threshold <= high:
        ctx.report(
            "GX151",
            f"pass_threshold = {grader.pass_threshold:g} "
            f"is outside reward_range ({low:g}, {high:g}]; "
            "a reference must score above the floor to pass.",
            ctx.at_key(
                "grader.pass_threshold" if "pass_threshold" in written else "grader.reward_range"
            ),
        )
    if "tolerance" in written and not 0 <= grader.tolerance < 1:
        ctx.report(
            "GX154",
            (
                f"tolerance = {grader.tolerance:g} is not a "
                "sensible relative tolerance (0 ≤ tolerance < 1)."
            ),
            ctx.at_key("grader.tolerance"),
        )
    _check_bounds(ctx, "grader", written, grader)


def _check_fit(ctx: CheckContext, written: dict[str, Any]) -> None:
    """A grader type that fits the kind, and no settings this grader ignores."""
    manifest = ctx.pack.manifest
    grader = manifest.grader
    misfit = manifest.kind in FITS_KIND and grader.type not in FITS_KIND[manifest.kind]
    if misfit and grader.type != "verifier":  # "verifier" outside agentic packages: GX183
        fits = " or ".join(f'"{t}"' for t in FITS_KIND[manifest.kind])
        ctx.report(
            "GX159",
            f'grader.type = "{grader.type}" does not fit kind = "{manifest.kind}" (use {fits}).',
            ctx.at_key("grader.type"),
        )
    for key, applies in _unused_settings(grader).items():
        if key in written:
            ctx.report(
                "GX160",
                f"grader.{key} only applies with {applies}; here it is ignored.",
                ctx.at_key(f"grader.{key}"),
            )


def _check_sandbox(ctx: CheckContext) -> None:
    written = ctx.result.manifest_data.get("sandbox")
    written = written if isinstance(written, dict) else {}
    _check_bounds(ctx, "sandbox", written, ctx.pack.manifest.sandbox)


# table -> key -> (code, lowest, highest, message with the value as `{}`), checked when written
_BOUNDS: dict[str, dict[str, tuple[str, float, float, str]]] = {
    "grader": {"timeout_s": ("GX157", 0.1, 600, "timeout_s = {:g} is outside 0.1–600 seconds.")},
    "sandbox": {
        "cpus": ("GX161", 0.1, 16, "sandbox.cpus = {:g} is outside 0.1–16."),
        "memory_mb": ("GX161", 64, 16384, "sandbox.memory_mb = {} is outside 64–16384."),
    },
}


def _check_bounds(ctx: CheckContext, table: str, written: dict[str, Any], settings: Any) -> None:
    for key, (code, lowest, highest, message) in _BOUNDS[table].items():
        value = getattr(settings, key)
        if key in written and not lowest <= value <= highest:
            ctx.report(code, message.format(value), ctx.at_key(f"{table}.{key}"))


def _check_judge(ctx: CheckContext, written: dict[str, Any]) -> None:
    grader = ctx.pack.grader
    if not grader.model.strip():
        ctx.report(
            "GX158",
            'The judge grader has no model: set grader.model (e.g. "openai/gpt-4o-mini").',
            ctx.at_key("grader.model"),
        )
    rel = normalize_relpath(grader.rubric)
    read = ctx.read_named_file(
        rel,
        ctx.at_key("grader.rubric"),
        outside=f'grader.rubric = "{grader.rubric}" points outside the package folder.',
        missing=f'The rubric file "{rel}" does not exist.',
        hint="Write the rubric the judge scores against in rubric.md (or set grader.rubric).",
    )
    if read is not None and read.text is not None and not read.text.strip():
        ctx.report(
            "GX158",
            f'The rubric "{rel}" is empty; the judge would score without criteria.',
            Span(rel, 1),
        )


def _check_answer(ctx: CheckContext, task: Task, mode: str) -> None:
    """The task carries what this match mode compares with, in the right shape."""
    rel = ctx.tasks_file()
    record = task.record
    key = "pattern" if mode == "regex" and "pattern" in record else "answer"
    if key not in record:
        wants = '"answer" (or "pattern")' if mode == "regex" else '"answer"'
        typo = misspelt_key(record, "answer")
        ctx.report(
            "GX150",
            f'Task "{task.id}" has no {wants}; the {mode} grader needs one.'
            + (f' It has "{typo}": a misspelling?' if typo else ""),
            ctx.at_record(rel, task.line, typo or "id"),
            task_id=task.id,
        )
        return
    check = _ANSWER_CHECKS.get(mode)
    if check is not None:
        check(_Answer(ctx, task, rel, key))


@dataclass(frozen=True, slots=True)
class _Answer:
    """One task's answer (or pattern) under check, and where to point a finding about it."""

    ctx: CheckContext
    task: Task
    rel: str
    key: str  # "answer", or "pattern" for a regex task that writes one

    @property
    def value(self) -> Any:
        return self.task.record[self.key]

    def span(self, key: str | None = None) -> Span:  # only for a finding: tasks are many
        return self.ctx.at_record(self.rel, self.task.line, key or self.key)

    def wrong_type(self, wanted: str, hint: str | None = None) -> None:
        shown = repr(self.value) if len(repr(self.value)) <= 40 else repr(self.value)[:37] + "..."
        self.ctx.report(
            "GX156",
            (
                f'Task "{self.task.id}": the answer must be {wanted} for '
                f'grader mode "{self.ctx.pack.grader.mode}", not {shown}.'
            ),
            self.span(),
            hint=hint,
            task_id=self.task.id,
        )


def _check_exact(answer: _Answer) -> None:
    value = answer.value
    accepted = value if isinstance(value, list) else [value]
    if not accepted or not all(_is_scalar(a) for a in accepted):
        answer.wrong_type(f"{expected('text')}, or {list_of('text', 'accepted')}")


def _check_numeric(answer: _Answer) -> None:
    value, record, task = answer.value, answer.task.record, answer.task
    accepted = value if isinstance(value, list) else [value]
    if not accepted or not all(
        _is_number(a) or (isinstance(a, str) and _NUMBER_TEXT.fullmatch(a)) for a in accepted
    ):
        answer.wrong_type(f"{expected('number')} (or {list_of('number', 'accepted')})")
    elif not all(_finite(float(a)) if _is_number(a) else _finite_text(a) for a in accepted):
        answer.wrong_type(expected("finite number"))
    if "abs_tolerance" in record and not (
        _is_number(record["abs_tolerance"])
        and _finite(record["abs_tolerance"])
        and record["abs_tolerance"] >= 0
    ):
        answer.ctx.report(
            "GX154",
            f'Task "{task.id}" has abs_tolerance {record["abs_tolerance"]!r}; use a number ≥ 0.',
            answer.span("abs_tolerance"),
            task_id=task.id,
        )


def _check_regex(answer: _Answer) -> None:
    pattern = answer.value
    if not _is_text(pattern):
        answer.wrong_type(f"a regular expression written as {expected('text')}")
        return
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        answer.ctx.report(
            "GX153",
            (
                f'Task "{answer.task.id}": the pattern {pattern!r} '
                f"is not a valid regular expression: {exc}."
            ),
            answer.span(),
            task_id=answer.task.id,
        )


def _check_set(answer: _Answer) -> None:
    value = answer.value
    if not (
        isinstance(value, list)
        and value
        and all(_is_scalar(a) and not isinstance(a, bool) for a in value)
    ):
        answer.wrong_type("a non-empty list of items")
    elif len({str(a).strip().casefold() for a in value}) != len(value):
        answer.wrong_type(
            "a list of distinct items", "Remove the repeated items from the answer list."
        )


def _check_choice(answer: _Answer) -> None:
    _check_choices(answer.ctx, answer.task, answer.rel)


_ANSWER_CHECKS: dict[str, Callable[[_Answer], None]] = {
    "exact": _check_exact,
    "numeric": _check_numeric,
    "choice": _check_choice,
    "regex": _check_regex,
    "set": _check_set,
}


def _check_choices(ctx: CheckContext, task: Task, rel: str) -> None:
    choices = task.record.get("choices")

    def span() -> Span:
        return ctx.at_record(rel, task.line, "choices" if "choices" in task.record else "id")

    if not isinstance(choices, list) or len(choices) < 2 or not all(_is_text(c) for c in choices):
        ctx.report(
            "GX155",
            f'Task "{task.id}" needs "choices": a list of at least two option texts.',
            span(),
            task_id=task.id,
        )
        return
    if len({c.strip().casefold() for c in choices}) != len(choices):
        ctx.report(
            "GX155", f'Task "{task.id}" lists the same option twice.', span(), task_id=task.id
        )
        return
    if len(choices) > len(string.ascii_uppercase):
        ctx.report(
            "GX155",
            f'Task "{task.id}" has {len(choices)} options; at most 26 can be labelled A–Z.',
            span(),
            task_id=task.id,
        )
        return
    answer = task.record.get("answer")
    labels = string.ascii_uppercase[: len(choices)]
    folded = [c.strip().casefold() for c in choices]
    by_index = _is_number(answer) and isinstance(answer, int) and 0 <= answer < len(choices)
    by_label = (
        isinstance(answer, str) and len(answer.strip()) == 1 and answer.strip().upper() in labels
    )
    by_text = isinstance(answer, str) and answer.strip().casefold() in folded
    if not (by_index or by_label or by_text):
        ctx.report(
            "GX155",
            (
                f'Task "{task.id}": the answer {answer!r} is '
                f"not one of its choices ({', '.join(labels)})."
            ),
            ctx.at_record(rel, task.line, "answer"),
            task_id=task.id,
        )


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_scalar(value: Any) -> bool:
    return _is_text(value) or _is_number(value) or isinstance(value, bool)


def _finite_text(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except (ValueError, OverflowError):
        return False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # a JSON integer too large for a float
        return False
