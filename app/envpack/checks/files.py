"""Package files: text only, sane sizes, nothing that leaves the folder."""

from __future__ import annotations

import os

from app.envpack.checks.context import CheckContext
from app.envpack.limits import MAX_FILE_BYTES, MAX_FILES, MAX_PACKAGE_BYTES, MAX_PATH_CHARS
from app.envpack.model import Span
from app.envpack.walk import Entry, package_entries


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_package_files(ctx: CheckContext) -> None:
    if not ctx.source.root.is_dir():
        return
    entries = package_entries(ctx.source.root)
    total = sum(_check_entry(ctx, entry) for entry in entries)
    _check_totals(ctx, len(entries), total)
    _check_unsaved(ctx, {e.path for e in entries})


def _check_entry(ctx: CheckContext, entry: Entry) -> int:
    """Check one file (a real file, a short path, small, UTF-8); returns the bytes it adds."""
    span = Span(entry.path)
    if entry.kind == "symlink":
        target = _link_target(ctx.source.path(entry.path))
        ctx.report(
            "GX123",
            f'"{entry.path}" is a symbolic link (to "{target}"); packages hold real files only.',
            span,
            hint=(
                "Replace the link with a copy of the file; "
                "links break when the package is bundled or moved."
            ),
        )
        return 0
    if entry.kind == "other":
        ctx.report(
            "GX121",
            f'"{entry.path}" is not a regular file (a pipe, socket or device).',
            span,
            hint="Remove it from the package folder.",
        )
        return 0
    if len(entry.path) > MAX_PATH_CHARS:
        ctx.report(
            "GX124",
            f'The path "{entry.path[:60]}..." is longer than {MAX_PATH_CHARS} characters.',
            span,
            hint="Use shorter file and folder names.",
        )
    if entry.size > MAX_FILE_BYTES:
        ctx.report(
            "GX122",
            f'"{entry.path}" is {_mb(entry.size)}; '
            f"the limit for one file is {_mb(MAX_FILE_BYTES)}.",
            span,
        )
        return entry.size
    read = ctx.source.read_text(entry.path)
    if read.problem == "not-utf8":
        ctx.report(
            "GX121",
            f'"{entry.path}" is not UTF-8 text: {read.detail}.',
            Span(entry.path, read.line, read.column),
        )
    return entry.size


def _check_totals(ctx: CheckContext, count: int, total: int) -> None:
    if count > MAX_FILES:
        ctx.report(
            "GX122",
            f"The package has {count} files; the limit is {MAX_FILES}.",
            Span("."),
            hint="Remove generated or downloaded files from the package folder.",
        )
    if total > MAX_PACKAGE_BYTES:
        ctx.report(
            "GX122",
            f"The package holds {_mb(total)}; the limit is {_mb(MAX_PACKAGE_BYTES)}.",
            Span("."),
            hint="Remove large data files from the package folder.",
        )


def _check_unsaved(ctx: CheckContext, on_disk: set[str]) -> None:
    """Unsaved editor buffers are checked too (they may not exist on disk yet)."""
    for rel, text in sorted(ctx.source.overrides.items()):
        if rel not in on_disk and len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
            ctx.report("GX122", f'"{rel}" is larger than {_mb(MAX_FILE_BYTES)}.', Span(rel))


def _link_target(path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"
