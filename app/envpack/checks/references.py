"""References and negatives: each points at a real task, every task has a reference, and no
response is both right and wrong."""

from __future__ import annotations

import difflib

from app.envpack.checks.context import CheckContext
from app.envpack.model import Span


def check_references(ctx: CheckContext) -> None:
    pack = ctx.pack
    task_ids = {task.id for task in pack.tasks}
    solutions_file = ctx.result.files.get("solutions")
    negatives_file = ctx.result.files.get("negatives")

    seen: dict[tuple[str, str], int | None] = {}
    for ref in pack.solutions:
        if ref.task_id not in task_ids:
            ctx.report(
                "GX140",
                (
                    f'The reference on line {ref.line} is for task "{ref.task_id}", '
                    f"which does not exist.{_close(ref.task_id, task_ids)}"
                ),
                ctx.at_record(solutions_file or "", ref.line, "task_id"),
                task_id=ref.task_id,
            )
        if not ref.response.strip():
            ctx.report(
                "GX143",
                f'The reference for task "{ref.task_id}" is empty.',
                ctx.at_record(solutions_file or "", ref.line, "response"),
                task_id=ref.task_id,
            )
        key = (ref.task_id, ref.response)
        if key in seen:
            ctx.report(
                "GX146",
                f"This reference repeats the one on line {seen[key]}.",
                ctx.at_record(solutions_file or "", ref.line, "task_id"),
                task_id=ref.task_id,
            )
        seen.setdefault(key, ref.line)

    if solutions_file in ctx.result.records:
        with_reference = {ref.task_id for ref in pack.solutions}
        tasks_file = ctx.tasks_file()
        for task in pack.tasks:
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

    references = {(ref.task_id, ref.response.strip()) for ref in pack.solutions}
    seen_negatives: dict[tuple[str, str], int | None] = {}
    for neg in pack.negatives:
        span = (
            None
            if neg.task_id in task_ids
            else ctx.at_record(negatives_file or "", neg.line, "task_id")
        )
        if span is not None:
            ctx.report(
                "GX142",
                (
                    f'The negative on line {neg.line} is for task "{neg.task_id}", '
                    f"which does not exist.{_close(neg.task_id, task_ids)}"
                ),
                span,
                task_id=neg.task_id,
            )
        if (neg.task_id, neg.response.strip()) in references:
            ctx.report(
                "GX144",
                f'This negative for task "{neg.task_id}" is the same as one of its references.',
                ctx.at_record(negatives_file or "", neg.line, "response"),
                task_id=neg.task_id,
            )
        key = (neg.task_id, neg.response)
        if key in seen_negatives:
            ctx.report(
                "GX146",
                f"This negative repeats the one on line {seen_negatives[key]}.",
                ctx.at_record(negatives_file or "", neg.line, "task_id"),
                task_id=neg.task_id,
            )
        seen_negatives.setdefault(key, neg.line)

    if pack.tasks and not pack.negatives:
        lines = ctx.result.records.get(negatives_file) if negatives_file else None
        unreadable = (
            negatives_file is not None and lines is None and ctx.source.exists(negatives_file)
        )
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
