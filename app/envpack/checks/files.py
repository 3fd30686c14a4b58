"""Package files: text only, sane sizes, nothing that leaves the folder."""

from __future__ import annotations

import os

from app.envpack.checks.context import CheckContext
from app.envpack.limits import MAX_FILE_BYTES, MAX_FILES, MAX_PACKAGE_BYTES, MAX_PATH_CHARS
from app.envpack.model import Span
from app.envpack.walk import package_entries


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_package_files(ctx: CheckContext) -> None:
    source = ctx.source
    if not source.root.is_dir():
        return
    entries = package_entries(source.root)
    total = 0
    for entry in entries:
        span = Span(entry.path)
        if entry.kind == "symlink":
            target = _link_target(source.path(entry.path))
            ctx.report(
                "GX123",
                (
                    f'"{entry.path}" is a symbolic link (to "{target}"); '
                    "packages hold real files only."
                ),
                span,
                hint=(
                    "Replace the link with a copy of the file; "
                    "links break when the package is bundled or moved."
                ),
            )
            continue
        if entry.kind == "other":
            ctx.report(
                "GX121",
                f'"{entry.path}" is not a regular file (a pipe, socket or device).',
                span,
                hint="Remove it from the package folder.",
            )
            continue
        if len(entry.path) > MAX_PATH_CHARS:
            ctx.report(
                "GX124",
                f'The path "{entry.path[:60]}..." is longer than {MAX_PATH_CHARS} characters.',
                span,
                hint="Use shorter file and folder names.",
            )
        total += entry.size
        if entry.size > MAX_FILE_BYTES:
            ctx.report(
                "GX122",
                (
                    f'"{entry.path}" is {_mb(entry.size)}; '
                    f"the limit for one file is {_mb(MAX_FILE_BYTES)}."
                ),
                span,
            )
            continue
        read = source.read_text(entry.path)
        if read.problem == "not-utf8":
            ctx.report(
                "GX121",
                f'"{entry.path}" is not UTF-8 text: {read.detail}.',
                Span(entry.path, read.line, read.column),
            )
    if len(entries) > MAX_FILES:
        ctx.report(
            "GX122",
            f"The package has {len(entries)} files; the limit is {MAX_FILES}.",
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
    # unsaved editor buffers are checked too (they may not exist on disk yet)
    on_disk = {e.path for e in entries}
    for rel, text in sorted(source.overrides.items()):
        if rel not in on_disk and len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
            ctx.report("GX122", f'"{rel}" is larger than {_mb(MAX_FILE_BYTES)}.', Span(rel))


def _link_target(path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"
