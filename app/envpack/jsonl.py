"""JSON Lines parsing that keeps positions: the line of every record, the column of an error
and of each top-level field, so findings point at the exact spot."""

from __future__ import annotations

from dataclasses import dataclass
from json.decoder import scanstring
from typing import Any

from app.strict_json import StrictJsonError, loads_noting_repeats


@dataclass(slots=True)
class JsonlLine:
    line: int  # 1-based
    text: str  # the line without its newline
    value: Any = None
    error: str | None = None  # set when the line is not valid JSON
    error_column: int | None = None
    repeated: tuple[str, ...] = ()  # top-level keys written more than once


def split_lines(text: str) -> list[str]:
    """Lines split on \\n only: JSON strings may legally contain U+2028 and friends."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def parse_line(number: int, text: str) -> JsonlLine:
    try:
        value, repeated = loads_noting_repeats(text)
    except StrictJsonError as exc:
        # no single place (nesting too deep, a huge number): point at the line's start
        return JsonlLine(number, text, error=exc.what, error_column=exc.column or 1)
    return JsonlLine(number, text, value=value, repeated=repeated)


def parse_jsonl(text: str) -> list[JsonlLine]:
    """One entry per non-blank line (blank lines are allowed and ignored)."""
    return [
        parse_line(number, line) for number, line in enumerate(split_lines(text), 1) if line.strip()
    ]


def field_columns(text: str) -> dict[str, tuple[int, int]]:
    """Top-level keys of a one-line JSON object -> (column of the key, column just after its
    value), 1-based. Best effort and never raising; a repeated key keeps its last position."""
    columns: dict[str, tuple[int, int]] = {}
    try:
        depth = 0
        i, n = 0, len(text)
        pending: tuple[str, int] | None = None  # the key whose value is being scanned
        while i < n:
            char = text[i]
            if char == '"':
                value, end = scanstring(text, i + 1)
                if depth == 1 and pending is None:
                    j = end
                    while j < n and text[j] in " \t":
                        j += 1
                    if j < n and text[j] == ":":
                        pending = (value, i + 1)
                        i = j + 1
                        continue
                i = end
                continue
            if char in "[{":
                depth += 1
            elif char in "]}" or (char == "," and depth == 1):
                if depth == 1 and pending:
                    columns[pending[0]] = (pending[1], _trim_end(text, i) + 1)
                    pending = None
                if char != ",":
                    depth -= 1
            i += 1
    except Exception:
        pass
    return columns


def _trim_end(text: str, i: int) -> int:
    while i > 0 and text[i - 1] in " \t":
        i -= 1
    return i
