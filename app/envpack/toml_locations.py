"""Where each key of a TOML document was written (line and column), for precise findings.

The standard parser (`tomllib`) gives values but no positions, so this small scanner walks the
text once, tracking tables, strings, comments and brackets, and records a `Span` per dotted key
path ("grader.mode") and per table header ("grader"); the entries of an array of tables are
numbered ("grader.criteria.0.name"). It never raises: on text it cannot follow
it simply records less, and callers fall back to the nearest known parent or the file.
"""

from __future__ import annotations

import bisect
import re

from app.envpack.model import Span

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class _Text:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, index: int) -> tuple[int, int]:
        """1-based (line, column) of a character index."""
        line = bisect.bisect_right(self.starts, index) - 1
        return line + 1, index - self.starts[line] + 1


def key_spans(text: str, file: str = "env.toml") -> dict[str, Span]:
    try:
        return _scan(text, file)
    except Exception:  # a position index must never break loading
        return {}


def locate(spans: dict[str, Span], key: str, file: str = "env.toml") -> Span:
    """The span of `key`, else of its nearest written parent table, else the file."""
    parts = key.split(".")
    while parts:
        span = spans.get(".".join(parts))
        if span is not None:
            return span
        parts.pop()
    return Span(file)


def _scan(text: str, file: str) -> dict[str, Span]:
    doc = _Text(text)
    spans: dict[str, Span] = {}
    tables: dict[str, int] = {}  # array-of-tables path -> entries seen so far
    prefix: list[str] = []
    i, n = 0, len(text)
    while i < n:
        i = _skip_blank(text, i)
        if i >= n:
            break
        char = text[i]
        if char == "\n":
            i += 1
        elif char == "#":
            i = _line_end(text, i)
        elif char == "[":
            double = text.startswith("[[", i)
            start = i
            i += 2 if double else 1
            parts, i = _parse_key(text, i)
            close = text.find("]]" if double else "]", i)
            if close < 0 or not parts:
                i = _line_end(text, i)
                continue
            end = close + (2 if double else 1)
            span = _span(doc, file, start, end)
            table = ".".join(parts)
            if double:  # an array of tables: entry n's keys are "table.n.key" (0-based)
                index = tables.get(table, 0)
                tables[table] = index + 1
                spans.setdefault(table, span)
                prefix = [*parts, str(index)]
                spans[".".join(prefix)] = span
            else:
                prefix = parts
                spans[table] = span
            i = _line_end(text, end)
        else:
            start = i
            parts, i = _parse_key(text, i)
            i = _skip_blank(text, i)
            if not parts or i >= n or text[i] != "=":
                i = _line_end(text, i)
                continue
            value_end, i = _scan_value(text, i + 1)
            path = ".".join(prefix + parts)
            spans[path] = _span(doc, file, start, value_end if value_end >= 0 else i)
    return spans


def _span(doc: _Text, file: str, start: int, end: int) -> Span:
    line, column = doc.position(start)
    end_line, end_column = doc.position(max(start, end))
    return Span(file, line, column, end_line, end_column)


def _skip_blank(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r":
        i += 1
    return i


def _line_end(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def _parse_key(text: str, i: int) -> tuple[list[str], int]:
    """A dotted key (`a.b."c d"`) starting at `i`; returns its parts and where it stopped."""
    parts: list[str] = []
    n = len(text)
    while True:
        i = _skip_blank(text, i)
        if i >= n:
            return parts, i
        if text[i] in "\"'":
            quote = text[i]
            close = text.find(quote, i + 1)
            newline = text.find("\n", i + 1)
            if close < 0 or (0 <= newline < close):
                return parts, i
            parts.append(text[i + 1 : close])
            i = close + 1
        else:
            match = _BARE_KEY.match(text, i)
            if not match:
                return parts, i
            parts.append(match.group())
            i = match.end()
        i = _skip_blank(text, i)
        if i < n and text[i] == ".":
            i += 1
            continue
        return parts, i


def _scan_value(text: str, i: int) -> tuple[int, int]:
    """Skip one value (which may span lines inside brackets or multi-line strings).

    Returns (index just past the value's last visible character, index where scanning stopped).
    """
    n = len(text)
    depth = 0
    last = -1
    while i < n:
        char = text[i]
        if text.startswith('"""', i) or text.startswith("'''", i):
            quote = text[i : i + 3]
            close = _find_close(text, i + 3, quote, escapes=quote == '"""')
            i = n if close < 0 else close + 3
            last = i
            continue
        if char in "\"'":
            close = _find_close(text, i + 1, char, escapes=char == '"', single_line=True)
            i = _line_end(text, i) if close < 0 else close + 1
            last = i
            continue
        if char == "#":
            i = _line_end(text, i)
            continue
        if char == "\n":
            if depth <= 0:
                return last, i
            i += 1
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        if char not in " \t\r":
            last = i + 1
        i += 1
    return last, i


def _find_close(text: str, i: int, quote: str, *, escapes: bool, single_line: bool = False) -> int:
    n = len(text)
    while i < n:
        if escapes and text[i] == "\\":
            i += 2
            continue
        if single_line and text[i] == "\n":
            return -1
        if text.startswith(quote, i):
            # a multi-line string may end with up to two extra quotes: """a""""" is valid TOML
            while len(quote) == 3 and text.startswith(quote[0], i + 3):
                i += 1
            return i
        i += 1
    return -1
