"""What a task-table cell means: its columns, how typed text becomes a value, how it reads.

Plain Python over `JsonlRow`s (no Qt), shared by the table model and its view. Text columns
(id, prompt, response, ...) always hold text. Value columns (answer, choices, tests, and any
column whose rows mostly hold numbers, lists or objects) read what is typed as JSON when it
parses (`42`, `[1, 2]`, `true`, `"42"` for the text 42) and as text otherwise (`Paris`).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from app import strict_json
from app.envpack.jsonl_edit import JsonlRow
from app.findings import Finding, Severity
from app.type_words import type_name

# The columns each file is about, first and in this order; other keys follow as found.
PREFERRED_COLUMNS = {
    "tasks": ["id", "prompt", "answer", "choices", "entry", "tests"],
    "solutions": ["task_id", "response"],
    "negatives": ["task_id", "response", "note"],
}
COLUMN_HELP = {
    "id": "A short unique name for the task, e.g. mm-rate-1.",
    "prompt": "What the model is asked.",
    "answer": (
        "The expected answer the grader compares with. "
        "Numbers, lists and objects are written as JSON."
    ),
    "choices": 'The options, as a JSON list: ["A", "B", "C"].',
    "task_id": "The id of the task this response answers.",
    "response": "The response text, exactly as a model would write it.",
    "note": "Why this answer is wrong (for reviewers).",
    "tests": 'Test cases, as JSON: [{"args": [1, 2], "expected": 3}].',
    "entry": "The name of the function the code must define.",
}
# Columns that always hold text, whatever is typed into them.
TEXT_COLUMNS = frozenset({"id", "task_id", "prompt", "response", "note", "entry"})
# Columns that hold a JSON value (answers are compared as values: 42 is not "42").
VALUE_COLUMNS = frozenset({"answer", "choices", "tests", "expected"})
RAW_COLUMN = "(line)"  # shown when no row is a JSON object (or for invalid lines)
MISSING = object()  # a field the row does not have (unlike null)


def is_object(row: JsonlRow) -> bool:
    return row.valid and isinstance(row.value, dict)


def is_value_column(rows: Sequence[JsonlRow], column: str) -> bool:
    """True for columns holding JSON values: answer, choices, tests, expected, and columns
    whose rows mostly hold numbers, lists or objects. Never for text columns (prompt, ...)."""
    if column in TEXT_COLUMNS or column == RAW_COLUMN:
        return False
    return column in VALUE_COLUMNS or column_is_json(rows, column)


def column_is_json(rows: Sequence[JsonlRow], column: str) -> bool:
    """True when the rows hold numbers, lists or objects in this column."""
    kinds = [not isinstance(row.value[column], str) for row in rows if _has(row, column)]
    if kinds:
        return sum(kinds) > len(kinds) / 2
    return column in VALUE_COLUMNS


def typed_value(value_column: bool, current: Any, text: str) -> tuple[Any, str | None]:
    """What the typed text means for a cell: (value or MISSING, None) or (None, error).

    Text columns keep text. In a value column the text is read as JSON when it parses
    (`42`, `[1, 2]`, `true`, `"42"`), plain words stay words, and a broken list, object or
    quoted string is reported instead of guessed at.
    """
    if not value_column and not (current is not MISSING and not isinstance(current, str)):
        return (text, None) if text != "" or current is not MISSING else (MISSING, None)
    if text.strip() == "":
        return MISSING, None
    try:
        return strict_json.loads(text), None
    except strict_json.StrictJsonError as exc:
        if text.strip()[0] not in '[{"':
            return text, None  # plain words: keep them as text
        return None, str(exc)


def compute_columns(rows: Sequence[JsonlRow], role: str) -> list[str]:
    """The file's preferred columns first, then every other key in the order first seen."""
    seen: list[str] = []
    any_object = False
    for row in rows:
        if is_object(row):
            any_object = True
            for key in row.value:
                if key not in seen:
                    seen.append(key)
    preferred = [c for c in PREFERRED_COLUMNS[role] if c in seen or not rows]
    if not any_object and rows:
        return [RAW_COLUMN]
    if not seen:
        preferred = PREFERRED_COLUMNS[role][: 3 if role != "solutions" else 2]
    return preferred + [c for c in seen if c not in preferred]


def new_record(
    rows: Sequence[JsonlRow], role: str, columns: Sequence[str], near: int | None
) -> dict[str, Any]:
    """A fresh row for this file's kind: a numbered task, or an answer to the task nearby."""
    if role == "tasks":
        taken = {row.value.get("id") for row in rows if is_object(row)}
        number = len(rows) + 1
        while f"task-{number}" in taken:
            number += 1
        record: dict[str, Any] = {"id": f"task-{number}", "prompt": ""}
        if "answer" in columns:
            record["answer"] = "" if not column_is_json(rows, "answer") else None
        return record
    task_id = ""
    if near is not None and 0 <= near < len(rows) and is_object(rows[near]):
        task_id = str(rows[near].value.get("task_id", ""))
    record = {"task_id": task_id, "response": ""}
    if role == "negatives":
        record["note"] = ""
    return record


def value_type_name(value: Any) -> str:
    """A cell's type, in the words every message uses ("number", "text", "true/false"...)."""
    return type_name(value)


def value_text(value: Any) -> str:
    """A cell value as the user reads and types it (text as is, anything else as JSON)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def parses_as_json(text: str) -> bool:
    """Whether `text`, typed into a value cell, would be read as something other than text."""
    try:
        strict_json.loads(text)
    except strict_json.StrictJsonError:
        return False
    return True


def one_line(text: str) -> str:
    return text.replace("\r\n", " ⏎ ").replace("\n", " ⏎ ")


def finding_html(finding: Finding) -> str:
    label = "Error" if finding.severity == Severity.ERROR else "Warning"
    text = f"<b>{label}</b> {html.escape(finding.message)}"
    if finding.hint:
        text += f"<br><i>How to fix:</i> {html.escape(finding.hint)}"
    return text


def _has(row: JsonlRow, column: str) -> bool:
    return is_object(row) and column in row.value
