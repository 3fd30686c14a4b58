"""References and negatives: each points at a real task, every task has a reference, and no
response is both right and wrong."""

from __future__ import annotations

import difflib

from app.envpack.checks.context import CheckContext
from app.envpack.model import Negative, Reference, Span


def check_references(ctx: CheckContext) -> None:
    task_ids = {task.id for task in ctx.pack.tasks}
    _check_solutions(ctx, task_ids)
    _check_every_task_has_one(ctx)
    _check_negatives(ctx, task_ids)
    _check_negatives_exist(ctx)


def _check_solutions(ctx: CheckContext, task_ids: set[str]) -> None:
    """Each reference is for a real task, not empty, and written once."""
    solutions_file = ctx.result.files.get("solutions") or ""
    seen: dict[tuple[str, str], int | None] = {}
    for ref in ctx.pack.solutions:
        _check_task_exists(ctx, "GX140", "reference", ref, solutions_file, task_ids)
        if not ref.response.strip():
            ctx.report(
                "GX143",
                f'The reference for task "{ref.task_id}" is empty.',
                ctx.at_record(solutions_file, ref.line, "response"),
                task_id=ref.task_id,
            )
        _check_once(ctx, "reference", ref, solutions_file, seen)


def _check_every_task_has_one(ctx: CheckContext) -> None:
    """Every task has a reference, once the solutions file could be read."""
    solutions_file = ctx.result.files.get("solutions")
    if solutions_file not in ctx.result.records:
        return
    with_reference = {ref.task_id for ref in ctx.pack.solutions}
    tasks_file = ctx.tasks_file()
    for task in ctx.pack.tasks:
        if task.id not in with_reference:
            ctx.report(
                "GX141",
                f'Task "{task.id}" has no reference response in "{solutions_file}".',
                ctx.at_record(tasks_file, task.line, "id"),
                task_id=task.id,
            )
    if not ctx.result.records[solutions_file]:
        ctx.report(
            "GX125",
            f'"{solutions_file}" has no records.',
            Span(solutions_file, 1),
            hint="Add one reference response per task, one per line.",
        )


def _check_negatives(ctx: CheckContext, task_ids: set[str]) -> None:
    """Each negative is for a real task, is not one of its references, and is written once."""
    negatives_file = ctx.result.files.get("negatives") or ""
    references = {(ref.task_id, ref.response.strip()) for ref in ctx.pack.solutions}
    seen: dict[tuple[str, str], int | None] = {}
    for neg in ctx.pack.negatives:
        _check_task_exists(ctx, "GX142", "negative", neg, negatives_file, task_ids)
        if (neg.task_id, neg.response.strip()) in references:
            ctx.report(
                "GX144",
                f'This negative for task "{neg.task_id}" is the same as one of its references.',
                ctx.at_record(negatives_file, neg.line, "response"),
                task_id=neg.task_id,
            )
        _check_once(ctx, "negative", neg, negatives_file, seen)


def _check_task_exists(
    ctx: CheckContext,
    code: str,
    what: str,
    entry: Reference | Negative,
    file: str,
    task_ids: set[str],
) -> None:
    if entry.task_id not in task_ids:
        ctx.report(
            code,
            (
                f'The {what} on line {entry.line} is for task "{entry.task_id}", '
                f"which does not exist.{_close(entry.task_id, task_ids)}"
            ),
            ctx.at_record(file, entry.line, "task_id"),
            task_id=entry.task_id,
        )


def _check_once(
    ctx: CheckContext,
    what: str,
    entry: Reference | Negative,
    file: str,
    seen: dict[tuple[str, str], int | None],
) -> None:
    """GX146 when the same response to the same task was written before (noted in `seen`)."""
    key = (entry.task_id, entry.response)
    if key in seen:
        ctx.report(
            "GX146",
            f"This {what} repeats the one on line {seen[key]}.",
            ctx.at_record(file, entry.line, "task_id"),
            task_id=entry.task_id,
        )
    seen.setdefault(key, entry.line)


def _check_negatives_exist(ctx: CheckContext) -> None:
    if not ctx.pack.tasks or ctx.pack.negatives:
        return
    negatives_file = ctx.result.files.get("negatives")
    lines = ctx.result.records.get(negatives_file) if negatives_file else None
    unreadable = negatives_file is not None and lines is None and ctx.source.exists(negatives_file)
    if not unreadable and not lines:  # (lines with errors are reported already)
        ctx.report(
            "GX145",
            "The package has no negatives (known-wrong responses).",
            ctx.at_key("negatives"),
        )


def _close(word: str, options: set[str]) -> str:
    if len(options) > 500:  # keep suggestions instant for big packages: compare like with like
        options = {o for o in options if o[:1] == word[:1] and abs(len(o) - len(word)) <= 2}
    match = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.6)
    return f' Did you mean "{match[0]}"?' if match else ""
