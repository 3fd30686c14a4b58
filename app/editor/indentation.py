"""Indentation rules for the editor, as plain functions over text (no Qt)."""

from __future__ import annotations

import re

_BLOCK_OPENERS = {
    "Python": re.compile(r"(:|[\(\[\{])\s*(#.*)?$"),
    "JSON": re.compile(r"[\[\{]\s*$"),
    "TOML": re.compile(r"[\[\{]\s*$"),
}
_LINE_COMMENTS = {
    "Python": "#",
    "TOML": "#",
    "YAML": "#",
    "Bash": "#",
    "Docker": "#",
    "INI": "#",
}
_DEFAULT_WIDTH = {"JSON": 2}


def comment_prefix(language: str) -> str | None:
    """The line-comment marker for a language, or None when it has none (JSON, Markdown)."""
    return _LINE_COMMENTS.get(language)


def detect_indent_unit(text: str, language: str = "") -> str:
    """The unit the file already uses: a tab, or the smallest run of leading spaces seen."""
    smallest = 0
    cut = text.find("\n", 200_000)  # the first 2,000 lines are enough; splitting 20,000 costs ms
    head = text if cut < 0 else text[:cut]
    for line in head.splitlines()[:2000]:
        if line.startswith("\t"):
            return "\t"
        stripped = line.lstrip(" ")
        spaces = len(line) - len(stripped)
        if spaces and stripped and (smallest == 0 or spaces < smallest):
            smallest = spaces
    if smallest in (2, 4, 8):
        return " " * smallest
    return " " * _DEFAULT_WIDTH.get(language, 4)


def leading_whitespace(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def indent_after(line_before_cursor: str, language: str, unit: str) -> str:
    """Indentation for a new line typed after `line_before_cursor`."""
    indent = leading_whitespace(line_before_cursor)
    opener = _BLOCK_OPENERS.get(language)
    if opener is not None and opener.search(line_before_cursor.rstrip()):
        return indent + unit
    return indent


def dedented(line: str, unit: str, tab_width: int = 4) -> str:
    """`line` with one indentation level removed (a tab or up to one unit of spaces)."""
    if line.startswith("\t"):
        return line[1:]
    width = len(unit.expandtabs(tab_width)) or tab_width
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, width) :]


def spaces_to_next_stop(column: int, width: int) -> int:
    """How many spaces take a 0-based `column` to the next multiple of `width`."""
    return width - (column % width)
