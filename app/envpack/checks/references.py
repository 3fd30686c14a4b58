"""References and negatives: each points at a real task, every task has a reference, and no
response is both right and wrong."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import Any

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
    _check_entries(
        ctx,
        task_ids,
        ("reference", "solutions", "GX140"),
        ctx.pack.solutions,
        lambda ref: (
            None
            if ref.response.strip()
            else ("GX143", f'The reference for task "{ref.task_id}" is empty.')
        ),
    )


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
    references = {(ref.task_id, ref.response.strip()) for ref in ctx.pack.solutions}
    _check_entries(
        ctx,
        task_ids,
        ("negative", "negatives", "GX142"),
        ctx.pack.negatives,
        lambda neg: (
            (
                "GX144",
                f'This negative for task "{neg.task_id}" is the same as one of its references.',
            )
            if (neg.task_id, neg.response.strip()) in references
            else None
        ),
    )


def _check_entries(
    ctx: CheckContext,
    task_ids: set[str],
    kind: tuple[str, str, str],
    entries: Sequence[Reference | Negative],
    wrong: Callable[[Any], tuple[str, str] | None],
) -> None:
    """`kind` is (what, the manifest's name for its file, the code for an unknown task). Each
    entry is for a real task, has no `wrong` response (the finding's code and message, reported
    at the response), and is not written twice."""
    what, role, unknown_code = kind
    file = ctx.result.files.get(role) or ""
    seen: dict[tuple[str, str], int | None] = {}
    for entry in entries:
        _check_task_exists(ctx, unknown_code, what, entry, file, task_ids)
        found = wrong(entry)
        if found is not None:
            code, message = found
            ctx.report(
                code, message, ctx.at_record(file, entry.line, "response"), task_id=entry.task_id
            )
        _check_once(ctx, what, entry, file, seen)


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
