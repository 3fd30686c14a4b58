"""Changes since the last review as lines: for each file added, modified or deleted between
two revisions, unified hunks (difflib) with the old and new line number of every line.

Binary files and files too large to read as a diff say so instead. Listing what changed
(`changed_files`) compares hashes only; a file's lines are diffed when someone asks for them,
so a 200-file submission opens at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from app.sync.review_queue import changed_files

CONTEXT_LINES = 3
MAX_DIFF_BYTES = 1024 * 1024  # beyond this a file is "too large to show line by line"
MAX_DIFF_LINES = 20_000
_BINARY_SNIFF = 8192

Reader = Callable[[str], bytes]  # path -> bytes, of one revision


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: str  # "context", "added" or "removed"
    old: int | None  # line number in the old revision (None for an added line)
    new: int | None  # line number in the new revision (None for a removed line)
    text: str


@dataclass(frozen=True, slots=True)
class Hunk:
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: tuple[DiffLine, ...]

    @property
    def header(self) -> str:
        return f"@@ -{self.old_start},{self.old_count} +{self.new_start},{self.new_count} @@"


@dataclass(frozen=True, slots=True)
class FileDiff:
    path: str
    change: str  # "added", "modified" or "deleted"
    added: int = 0
    removed: int = 0
    hunks: tuple[Hunk, ...] = ()
    note: str = ""  # why there are no lines to show (binary, too large, empty), else ""


def _text_lines(data: bytes) -> list[str] | str:
    """The file's lines, or why it cannot be shown as lines."""
    if len(data) > MAX_DIFF_BYTES:
        return f"too large to show line by line ({len(data):,} bytes)"
    if b"\0" in data[:_BINARY_SNIFF]:
        return "a binary file"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "a binary file (not UTF-8 text)"
    lines = text.splitlines(keepends=True)
    if len(lines) > MAX_DIFF_LINES:
        return f"too large to show line by line ({len(lines):,} lines)"
    return lines


def _strip(line: str) -> str:
    return line.rstrip("\r\n")


def diff_file(path: str, old: bytes | None, new: bytes | None) -> FileDiff:
    """One file's diff; `old` None means added, `new` None means deleted."""
    change = "added" if old is None else "deleted" if new is None else "modified"
    before = _text_lines(old) if old is not None else []
    after = _text_lines(new) if new is not None else []
    for lines in (before, after):
        if isinstance(lines, str):
            return FileDiff(
                path, change, note=f"{path} is {lines}, so it is not shown line by line."
            )
    hunks = tuple(_hunks(before, after))
    added = sum(1 for h in hunks for line in h.lines if line.kind == "added")
    removed = sum(1 for h in hunks for line in h.lines if line.kind == "removed")
    note = "" if hunks else f"{path} is empty."
    return FileDiff(path, change, added, removed, hunks, note)


def _hunks(before: list[str], after: list[str]):
    matcher = difflib.SequenceMatcher(None, before, after)
    for group in matcher.get_grouped_opcodes(CONTEXT_LINES):
        lines: list[DiffLine] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [
                    DiffLine("context", i + 1, j + 1, _strip(before[i]))
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            lines += [DiffLine("removed", i + 1, None, _strip(before[i])) for i in range(i1, i2)]
            lines += [DiffLine("added", None, j + 1, _strip(after[j])) for j in range(j1, j2)]
        first, last = group[0], group[-1]
        old_count, new_count = last[2] - first[1], last[4] - first[3]
        yield Hunk(
            first[1] + (1 if old_count else 0),
            old_count,
            first[3] + (1 if new_count else 0),
            new_count,
            tuple(lines),
        )


def diff_changed(
    old_files: dict[str, str] | None,
    new_files: dict[str, str],
    read_old: Reader | None,
    read_new: Reader,
    path: str,
) -> FileDiff:
    """The diff of one `path` between two manifests, reading only that file's two versions."""
    in_old = old_files is not None and path in old_files
    old = read_old(path) if in_old and read_old is not None else None
    new = read_new(path) if path in new_files else None
    return diff_file(path, old, new)


def diff_revisions(
    old_files: dict[str, str] | None,
    new_files: dict[str, str],
    read_old: Reader | None,
    read_new: Reader,
) -> list[FileDiff]:
    """Every changed file's diff (a background job's work: a whole submission at once)."""
    return [
        diff_changed(old_files, new_files, read_old, read_new, change["path"])
        for change in changed_files(old_files, new_files)
    ]
