"""Editing a JSONL file (tasks, solutions, negatives) as a list of rows, the way the task table
does: edit, add, duplicate, delete and reorder rows.

Rows nobody touched keep their exact original text (spacing, key order, escapes), and blank
lines stay where they were, so a one-cell edit is a one-line diff. A line that is not valid JSON
is kept as raw text and flagged (`row.error`), never dropped: the author fixes it in the editor.
Saving is atomic.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.envpack.jsonl import parse_line
from app.envpack.text_document import TextDocument
from app.errors import UserError


@dataclass(slots=True)
class JsonlRow:
    text: str  # the line as it will be written (the original text until the row is edited)
    value: Any = None  # the parsed JSON value; None when `error` is set
    error: str | None = None  # why the line is not valid JSON
    # blank (or whitespace-only) lines written before this row, verbatim with their line endings
    blank_lines: tuple[str, ...] = ()
    ending: str = "\n"  # this row's line ending as read ("" for a last line without one)

    @property
    def valid(self) -> bool:
        return self.error is None

    @classmethod
    def from_text(
        cls, text: str, blank_lines: tuple[str, ...] = (), ending: str = "\n"
    ) -> JsonlRow:
        parsed = parse_line(1, text)
        value = parsed.value if parsed.error is None else None
        return cls(text, value, parsed.error, blank_lines, ending)

    @classmethod
    def from_value(
        cls, value: Any, blank_lines: tuple[str, ...] = (), ending: str = "\n"
    ) -> JsonlRow:
        return cls(dump_record(value), copy.deepcopy(value), None, blank_lines, ending)


def dump_record(value: Any) -> str:
    """One JSON line, readable (non-ASCII kept) and safe (no NaN, no raw newlines)."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise UserError(
            f"This value cannot be written as JSON: {exc}.",
            "Use text, numbers, true/false, null, lists and objects.",
        ) from None


class JsonlDocument(TextDocument):
    def __init__(
        self,
        rows: list[JsonlRow] | None = None,
        *,
        newline: str = "\n",
        trailing: tuple[str, ...] = (),
        bom: bool = False,
        path: Path | None = None,
    ) -> None:
        self.rows: list[JsonlRow] = rows or []
        self.newline = newline
        self.trailing = trailing  # blank lines after the last row, verbatim
        self.bom = bom
        self.path = path

    # -- reading ----------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str, path: str | os.PathLike[str] | None = None) -> JsonlDocument:
        bom = text.startswith("\ufeff")
        if bom:
            text = text[1:]
        newline = "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"
        pieces = re.split(r"(\r\n|\n)", text)  # line, ending, line, ending, ..., last line
        rows: list[JsonlRow] = []
        blanks: list[str] = []
        for index in range(0, len(pieces), 2):
            line = pieces[index]
            ending = pieces[index + 1] if index + 1 < len(pieces) else ""
            if not line and not ending:
                continue  # the empty remainder after a final newline
            if not line.strip():
                blanks.append(line + ending)
                continue
            rows.append(JsonlRow.from_text(line, tuple(blanks), ending))
            blanks = []
        return cls(
            rows,
            newline=newline,
            trailing=tuple(blanks),
            bom=bom,
            path=Path(path) if path else None,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> JsonlDocument:
        path = Path(path)
        if not path.exists():
            return cls(path=path)  # a new, empty file
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UserError(
                f"{path.name} is not UTF-8 text (byte {exc.start}).",
                "Save it as UTF-8 in a text editor first.",
            ) from None
        except OSError as exc:
            raise UserError(
                f"Cannot read {path}: {exc.strerror or exc}.", "Check the file's permissions."
            ) from None
        return cls.parse(text, path)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> JsonlRow:
        return self.rows[index]

    def values(self) -> list[Any]:
        """The parsed values of the valid rows."""
        return [row.value for row in self.rows if row.valid]

    def invalid_rows(self) -> list[tuple[int, int, str]]:
        """(row index, line number, error) for every row that is not valid JSON."""
        return [
            (i, self.line_of(i), row.error or "")
            for i, row in enumerate(self.rows)
            if not row.valid
        ]

    def line_of(self, index: int) -> int:
        """The 1-based line number row `index` has in the saved file."""
        line = 0
        for row in self.rows[: index + 1]:
            line += len(row.blank_lines) + 1
        return line

    def index_at_line(self, line: int) -> int | None:
        """The row written on `line` (as findings report it), or None for a blank line."""
        current = 0
        for index, row in enumerate(self.rows):
            current += len(row.blank_lines) + 1
            if current == line:
                return index
            if current > line:
                return None
        return None

    def find(self, key: str, value: Any) -> int | None:
        """The index of the first valid object row whose `key` equals `value`."""
        for index, row in enumerate(self.rows):
            if row.valid and isinstance(row.value, dict) and row.value.get(key) == value:
                return index
        return None

    # -- editing ----------------------------------------------------------------------------

    def _check(self, index: int) -> None:
        if not -len(self.rows) <= index < len(self.rows):
            raise IndexError(f"row {index} does not exist (the file has {len(self.rows)} rows)")

    def set(self, index: int, value: Any) -> None:
        """Replace row `index` with `value` (written as one compact JSON line)."""
        self._check(index)
        old = self.rows[index]
        self.rows[index] = JsonlRow.from_value(value, old.blank_lines, old.ending or self.newline)

    def set_field(self, index: int, key: str, value: Any) -> None:
        """Set one field of an object row, keeping the other fields and their order."""
        self._check(index)
        row = self.rows[index]
        if not row.valid or not isinstance(row.value, dict):
            raise UserError(
                (
                    f"Row {index + 1} (line {self.line_of(index)}) "
                    "is not a valid JSON object, so its fields cannot be edited."
                ),
                "Fix the line's JSON in the text editor first.",
            )
        record = copy.deepcopy(row.value)
        record[key] = value
        self.set(index, record)

    def remove_field(self, index: int, key: str) -> None:
        self._check(index)
        row = self.rows[index]
        if row.valid and isinstance(row.value, dict) and key in row.value:
            record = copy.deepcopy(row.value)
            del record[key]
            self.set(index, record)

    def set_text(self, index: int, text: str) -> JsonlRow:
        """Replace row `index` with raw text (kept and flagged if it is not valid JSON)."""
        self._check(index)
        if "\n" in text or "\r" in text:
            raise UserError(
                "A JSONL row must be a single line.",
                "Remove the line breaks (write \\n inside strings).",
            )
        old = self.rows[index]
        self.rows[index] = JsonlRow.from_text(text, old.blank_lines, old.ending or self.newline)
        return self.rows[index]

    def insert(self, index: int, value: Any) -> int:
        index = max(0, min(index, len(self.rows)))
        self.rows.insert(index, JsonlRow.from_value(value, ending=self.newline))
        return index

    def append(self, value: Any) -> int:
        return self.insert(len(self.rows), value)

    def duplicate(self, index: int, *, id_key: str | None = "id") -> int:
        """Copy row `index` just below itself; a copied object gets a fresh unique `id_key`."""
        self._check(index)
        row = self.rows[index]
        if not row.valid:
            new = JsonlRow(row.text, None, row.error, (), self.newline)
        else:
            value = copy.deepcopy(row.value)
            if id_key and isinstance(value, dict) and isinstance(value.get(id_key), str):
                value[id_key] = self._fresh_id(value[id_key], id_key)
            new = JsonlRow.from_value(value, ending=self.newline)
        position = index + 1 if index >= 0 else len(self.rows) + index + 1
        self.rows.insert(position, new)
        return position

    def _fresh_id(self, base: str, key: str) -> str:
        taken = {
            row.value.get(key) for row in self.rows if row.valid and isinstance(row.value, dict)
        }
        candidate = f"{base}-copy"
        number = 2
        while candidate in taken:
            candidate = f"{base}-copy-{number}"
            number += 1
        return candidate

    def delete(self, index: int) -> JsonlRow:
        self._check(index)
        return self.rows.pop(index)

    def move(self, source: int, destination: int) -> None:
        """Move row `source` so that it ends up at index `destination`."""
        self._check(source)
        row = self.rows.pop(source)
        destination = max(0, min(destination, len(self.rows)))
        self.rows.insert(destination, row)

    # -- writing ----------------------------------------------------------------------------

    def text(self) -> str:
        parts: list[str] = []
        for index, row in enumerate(self.rows):
            parts.extend(row.blank_lines)
            last = index == len(self.rows) - 1 and not self.trailing
            # a row that was the file's unterminated last line needs an ending once others follow
            ending = row.ending if (row.ending or last) else self.newline
            parts.append(row.text + ending)
        parts.extend(self.trailing)
        return ("\ufeff" if self.bom else "") + "".join(parts)
