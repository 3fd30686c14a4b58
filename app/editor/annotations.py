"""Review annotations as the editor draws them: plain data, no Qt.

The sync layer turns reviewers' threads into these (part 2 of the desktop app); the editor
only needs to know where a thread sits, who wrote it, what it says and whether it still
points at the text it was written about.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AnnotationState(StrEnum):
    CURRENT = "current"  # anchored text unchanged
    MOVED = "moved"  # the quoted text was found elsewhere; lines were adjusted
    OUTDATED = "outdated"  # the quoted text is gone; shown where it used to be


@dataclass(frozen=True, slots=True)
class ReviewAnnotation:
    file: str  # relative to the package root, posix separators
    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive
    author: str
    body: str
    state: AnnotationState = AnnotationState.CURRENT
    thread_id: str = ""

    def covers(self, line: int) -> bool:
        return self.start_line <= line <= max(self.start_line, self.end_line)

    @property
    def state_label(self) -> str:
        return {
            AnnotationState.CURRENT: "",
            AnnotationState.MOVED: "moved since the review",
            AnnotationState.OUTDATED: "outdated: the text it refers to has changed",
        }[AnnotationState(self.state)]


def text_with_suggestion(text: str, start_line: int, end_line: int, suggestion: str) -> str:
    """`text` with lines start_line..end_line (1-based, inclusive) replaced by a reviewer's
    suggested replacement. The line ending after the range is kept, so applying a one-line
    suggestion to a one-line range changes that line only; an empty suggestion deletes the
    lines."""
    lines = text.splitlines(keepends=True)
    if not 1 <= start_line <= len(lines) or end_line < start_line:
        raise ValueError(f"lines {start_line}-{end_line} are not in this file")
    end_line = min(end_line, len(lines))
    ending = "\r\n" if lines[end_line - 1].endswith("\r\n") else "\n"
    had_ending = lines[end_line - 1].endswith(("\n", "\r"))
    replacement = suggestion.rstrip("\r\n").replace("\r\n", "\n").replace("\n", ending)
    if had_ending and suggestion:
        replacement += ending
    return "".join(lines[: start_line - 1]) + replacement + "".join(lines[end_line:])
