"""tasks.jsonl / solutions.jsonl / negatives.jsonl as a table, for people who never want to
see JSON.

The model edits an `app.envpack.jsonl_edit.JsonlDocument`, so rows nobody touched keep their
exact original text. Text columns (id, prompt, response, ...) always hold text. Value columns
(answer, choices, tests, and any column whose rows mostly hold numbers, lists or objects) read
what is typed as JSON when it parses (`42`, `[1, 2]`, `true`, `"42"` for the text 42) and as
text otherwise (`Paris`); each value cell carries a small badge naming its type. A list or
object that does not parse is kept on screen, marked red with the reason, and not written
until it is fixed. Every change is one QUndoCommand holding
the rows before and after (rows are immutable once built, so snapshots are cheap and exact).
"""

from __future__ import annotations

import bisect
import html
import itertools
import json
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QKeySequence,
    QPainter,
    QUndoCommand,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.envpack.jsonl import field_columns
from app.envpack.jsonl_edit import JsonlDocument, JsonlRow
from app.errors import UserError
from app.findings import Finding, Severity

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
#: item-data role: the type name of a value cell ("number", "text", ...), None for text columns
TYPE_ROLE = Qt.ItemDataRole.UserRole + 7
RAW_COLUMN = "(line)"  # shown when no row is a JSON object (or for invalid lines)
ERROR_BG = QColor(211, 47, 47, 45)
WARNING_BG = QColor(230, 160, 0, 45)


@dataclass(frozen=True)
class _Snapshot:
    rows: tuple[JsonlRow, ...]
    tokens: tuple[int, ...]
    invalid: tuple[tuple[tuple[int, str], tuple[str, str]], ...]


class _TableEdit(QUndoCommand):
    """One table change; the model is already in the `after` state when pushed."""

    def __init__(
        self,
        model: JsonlTableModel,
        label: str,
        before: _Snapshot,
        after: _Snapshot,
        select: int | None,
    ) -> None:
        super().__init__(label)
        self.model, self.before, self.after, self.select = model, before, after, select
        self._first = True

    def redo(self) -> None:
        if self._first:
            self._first = False
            return
        self.model._restore(self.after)
        self.model.rowSelected.emit(self.select if self.select is not None else -1)

    def undo(self) -> None:
        self.model._restore(self.before)
        self.model.rowSelected.emit(self.select if self.select is not None else -1)


class JsonlTableModel(QAbstractTableModel):
    changed = Signal()  # the file's text changed (edit, undo, redo)
    rowSelected = Signal(int)  # undo/redo wants this row selected (-1: keep)

    def __init__(self, role: str = "tasks", parent=None) -> None:
        super().__init__(parent)
        self.role = role if role in PREFERRED_COLUMNS else "tasks"
        self.undo_stack = QUndoStack(self)
        self._doc = JsonlDocument()
        self._tokens: list[int] = []
        self._counter = itertools.count(1)
        self._invalid: dict[
            tuple[int, str], tuple[str, str]
        ] = {}  # (row token, column) -> (typed text, error)
        self._columns: list[str] = []
        self._findings: dict[tuple[int, str | None], list[Finding]] = {}
        self._lines: list[int] | None = None  # file line per row, rebuilt after each change
        self._annotations: list = []  # ReviewAnnotation for this file (by file line)

    # -- loading and text ---------------------------------------------------------------

    def load_text(self, text: str) -> None:
        """Show `text` as rows; clears the undo history (a fresh file)."""
        self.beginResetModel()
        self._set_doc(JsonlDocument.parse(text))
        self.endResetModel()
        self.undo_stack.clear()
        self.changed.emit()

    def replace_text(self, text: str, label: str = "Edit as text") -> None:
        """Take new text from the text view (or a reload) as one undoable step."""
        if text == self.text():
            return
        before = self._snapshot()
        self.beginResetModel()
        self._set_doc(JsonlDocument.parse(text))
        self.endResetModel()
        self._push(label, before, None)

    def _set_doc(self, doc: JsonlDocument) -> None:
        self._doc = doc
        self._lines = None
        self._tokens = [next(self._counter) for _ in doc.rows]
        self._invalid = {}
        self._columns = self._compute_columns()

    def text(self) -> str:
        return self._doc.text()

    @property
    def document(self) -> JsonlDocument:
        return self._doc

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def invalid_cells(self) -> list[tuple[int, str, str]]:
        """(row, column, error) for cells typed as JSON that do not parse."""
        position = {token: row for row, token in enumerate(self._tokens)}
        out = []
        for (token, column), (_text, error) in self._invalid.items():
            if token in position:
                out.append((position[token], column, error))
        return sorted(out)

    def invalid_rows(self) -> list[tuple[int, int, str]]:
        """(row, file line, error) for lines that are not valid JSON."""
        return [
            (i, self.line_of(i), row.error or "")
            for i, row in enumerate(self._doc.rows)
            if not row.valid
        ]

    def line_of(self, row: int) -> int:
        """The 1-based file line of `row` (blank lines count), cached per version of the rows."""
        if self._lines is None:
            lines, line = [], 0
            for record in self._doc.rows:
                line += len(record.blank_lines) + 1  # as JsonlDocument.line_of counts
                lines.append(line)
            self._lines = lines
        return self._lines[row]

    def row_at_line(self, line: int) -> int | None:

        if not self._doc.rows:
            return None
        self.line_of(0)
        lines = self._lines or []
        index = bisect.bisect_left(lines, line)
        return index if index < len(lines) and lines[index] == line else None

    # -- Qt model -----------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._doc.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal:
            if not 0 <= section < len(self._columns):
                return None
            name = self._columns[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return name
            if role == Qt.ItemDataRole.ToolTipRole:
                return COLUMN_HELP.get(name, f'The "{name}" field of each row.')
            return None
        if not 0 <= section < len(self._doc.rows):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return str(self.line_of(section))
        notes = self.row_annotations(section)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"Line {self.line_of(section)} of the file"
            for note in notes:
                tip += f"<br><b>Review · {html.escape(note.author)}</b>: {html.escape(note.body)}"
            return f"<qt>{tip}</qt>" if notes else tip
        if role == Qt.ItemDataRole.DecorationRole and notes:
            return _annotation_dot(str(notes[0].state))
        if role == Qt.ItemDataRole.ForegroundRole and (
            not self._doc.rows[section].valid
            or any(f.severity == Severity.ERROR for f in self.row_findings(section))
        ):
            return QBrush(QColor("#d32f2f"))  # the line number turns red on rows with errors
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        row = self._doc.rows[index.row()]
        column = self._columns[index.column()]
        if (
            row.valid and isinstance(row.value, dict) and column != RAW_COLUMN
        ) or self._is_raw_cell(index.row(), column):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def _is_raw_cell(self, row: int, column: str) -> bool:
        """Invalid lines (and non-object rows) are edited as their raw text in the first column."""
        record = self._doc.rows[row]
        return (not record.valid or not isinstance(record.value, dict)) and column == self._columns[
            0
        ]

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        row_index, column = index.row(), self._columns[index.column()]
        row = self._doc.rows[row_index]
        token = self._tokens[row_index]
        invalid = self._invalid.get((token, column))
        raw = self._is_raw_cell(row_index, column)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if invalid is not None:
                return invalid[0]
            if raw:
                return row.text
            if not row.valid or not isinstance(row.value, dict) or column not in row.value:
                return ""
            value = row.value[column]
            if value is None:
                return ""  # null reads as "not filled in yet"
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            if role == Qt.ItemDataRole.DisplayRole:
                return _one_line(text)
            if isinstance(value, str) and self.is_value_column(column) and _parses_as_json(value):
                return json.dumps(value, ensure_ascii=False)  # so editing it back keeps it text
            return text
        if role == TYPE_ROLE:
            if invalid is not None or raw or not row.valid or not isinstance(row.value, dict):
                return None
            if column not in row.value or not self.is_value_column(column):
                return None
            return value_type_name(row.value[column])
        if role == Qt.ItemDataRole.BackgroundRole:
            if invalid is not None or (raw and not row.valid):
                return QBrush(ERROR_BG)
            severity = self._cell_severity(row_index, column)
            if severity is not None:
                return QBrush(ERROR_BG if severity == Severity.ERROR else WARNING_BG)
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            parts = []
            if invalid is not None:
                parts.append(
                    f"<b>Not valid JSON</b>: {html.escape(invalid[1])}<br><i>How "
                    "to fix:</i> correct the value, or put text in "
                    "quotes; until then the file keeps the previous value."
                )
            elif raw and not row.valid:
                parts.append(
                    "<b>This line is not valid JSON</b>: "
                    f"{html.escape(row.error or '')}<br><i>How to fix:</i> edit the line here "
                    "or in the Text view."
                )
            for finding in self._cell_findings(row_index, column):
                parts.append(_finding_html(finding))
            kind = self.data(index, TYPE_ROLE)
            if kind is not None and not parts:
                value = row.value[column]
                shown = html.escape(
                    _one_line(
                        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                    )[:300]
                )
                hint = (
                    'Type <code>"42"</code> with quotes to store a number as text.'
                    if kind == "text"
                    else "Type it in quotes to store it as text instead."
                )
                return f"<qt><b>{html.escape(kind.capitalize())}</b>: {shown}<br><i>{hint}</i></qt>"
            if not parts:
                text = self.data(index, Qt.ItemDataRole.EditRole)
                if isinstance(text, str) and (len(text) > 60 or "\n" in text):
                    return html.escape(text[:2000]).replace("\n", "<br>")
                return None
            return "<qt>" + "<br>".join(parts) + "</qt>"
        if role == Qt.ItemDataRole.ForegroundRole:
            if raw and not row.valid:
                return QBrush(QColor("#b71c1c"))
            return None
        if role == Qt.ItemDataRole.FontRole and raw:
            font = QFont("monospace")
            font.setStyleHint(QFont.StyleHint.Monospace)
            return font
        return None

    def setData(
        self,
        index: QModelIndex | QPersistentModelIndex,
        value: Any,
        role: int = Qt.ItemDataRole.EditRole,
    ) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        return self.set_cell(index.row(), self._columns[index.column()], str(value))

    # -- editing (each one undoable) -----------------------------------------------------

    def set_cell(self, row: int, column: str, text: str) -> bool:
        """Edit one cell as the user typed it; returns False when nothing changed."""
        before = self._snapshot()
        token = self._tokens[row]
        record = self._doc.rows[row]
        if self._is_raw_cell(row, column):
            if text == record.text:
                return False
            try:
                self._doc.set_text(row, text.replace("\n", " "))
            except UserError:
                return False
            self._invalid.pop((token, column), None)
            self._after_edit(f"Edit line {row + 1}", before, row)
            return True
        if not (record.valid and isinstance(record.value, dict)):
            return False
        current = record.value.get(column, _MISSING)
        value, error = self._typed_value(column, current, text)
        if error is not None:
            if self._invalid.get((token, column), ("", ""))[0] == text:
                return False
            self._invalid[(token, column)] = (text, error)
            self._after_edit(f"Edit {column}", before, row)
            return True
        had_invalid = self._invalid.pop((token, column), None) is not None
        if value is _MISSING:
            if current is _MISSING and not had_invalid:
                return False
            self._doc.remove_field(row, column)
        else:
            if (
                current is not _MISSING
                and type(current) is type(value)
                and current == value
                and not had_invalid
            ):
                return False
            self._doc.set_field(row, column, value)
        self._after_edit(f"Edit {column}", before, row)
        return True

    def add_row(self, after: int | None = None) -> int:
        """A new row below `after` (or at the end), pre-filled for this file's kind."""
        before = self._snapshot()
        position = len(self._doc.rows) if after is None else after + 1
        position = self._doc.insert(position, self._new_record(after))
        self._tokens.insert(position, next(self._counter))
        self._after_edit("Add row", before, position, reset=True)
        return position

    def duplicate_row(self, row: int) -> int:
        before = self._snapshot()
        position = self._doc.duplicate(row, id_key="id" if self.role == "tasks" else None)
        self._tokens.insert(position, next(self._counter))
        self._after_edit("Duplicate row", before, position, reset=True)
        return position

    def delete_rows(self, rows: list[int]) -> None:
        if not rows:
            return
        before = self._snapshot()
        for row in sorted(set(rows), reverse=True):
            self._doc.delete(row)
            token = self._tokens.pop(row)
            self._invalid = {k: v for k, v in self._invalid.items() if k[0] != token}
        select = min(min(rows), len(self._doc.rows) - 1)
        self._after_edit(
            "Delete row" if len(rows) == 1 else f"Delete {len(rows)} rows",
            before,
            select if select >= 0 else None,
            reset=True,
        )

    def move_row(self, source: int, destination: int) -> int:
        destination = max(0, min(destination, len(self._doc.rows) - 1))
        if source == destination:
            return source
        before = self._snapshot()
        self._doc.move(source, destination)
        self._tokens.insert(destination, self._tokens.pop(source))
        self._after_edit("Move row", before, destination, reset=True)
        return destination

    # -- review annotations -------------------------------------------------------------

    def set_annotations(self, annotations: list) -> None:
        """Reviewers' threads on this file: a dot and a tooltip on the rows they cover."""
        self._annotations = list(annotations)
        if self.rowCount():
            self.headerDataChanged.emit(Qt.Orientation.Vertical, 0, self.rowCount() - 1)

    def row_annotations(self, row: int) -> list:
        if not self._annotations:
            return []
        line = self.line_of(row)
        return [a for a in self._annotations if a.covers(line)]

    # -- findings -----------------------------------------------------------------------

    def set_findings(self, findings: list[Finding]) -> None:
        """Colour the cells the structural checks complain about (by line and column)."""
        cells: dict[tuple[int, str | None], list[Finding]] = {}
        for finding in findings:
            if finding.line is None:
                continue
            row = self.row_at_line(finding.line)
            if row is None:
                continue
            column = None
            record = self._doc.rows[row]
            if finding.column is not None and record.valid:
                for key, (start, end) in field_columns(record.text).items():
                    if start <= finding.column < max(end, start + 1):
                        column = key
                        break
            cells.setdefault((self._tokens[row], column), []).append(finding)
        self._findings = cells
        if self.rowCount() and self.columnCount():
            self.dataChanged.emit(
                self.index(0, 0),
                self.index(self.rowCount() - 1, self.columnCount() - 1),
                [Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ToolTipRole],
            )

    def _cell_findings(self, row: int, column: str) -> list[Finding]:
        token = self._tokens[row]
        found = list(self._findings.get((token, column), []))
        if column == self._columns[0]:
            found += self._findings.get(
                (token, None), []
            )  # whole-row findings show on the first cell
        return found

    def _cell_severity(self, row: int, column: str) -> Severity | None:
        findings = self._cell_findings(row, column)
        if not findings:
            return None
        return (
            Severity.ERROR
            if any(f.severity == Severity.ERROR for f in findings)
            else Severity.WARNING
        )

    def row_findings(self, row: int) -> list[Finding]:
        token = self._tokens[row]
        return [f for (t, _c), items in self._findings.items() if t == token for f in items]

    # -- internals ----------------------------------------------------------------------

    def _typed_value(self, column: str, current: Any, text: str) -> tuple[Any, str | None]:
        """What the typed text means for this cell.

        Text columns keep text. In a value column (see `is_value_column`) the text is read as
        JSON when it parses (`42`, `[1, 2]`, `true`, `"42"`), plain words stay words, and a
        broken list, object or quoted string is reported instead of guessed at.
        """
        if not self.is_value_column(column) and not (
            current is not _MISSING and not isinstance(current, str)
        ):
            return (text, None) if text != "" or current is not _MISSING else (_MISSING, None)
        if text.strip() == "":
            return _MISSING, None
        try:
            return json.loads(text, parse_constant=_reject_constant), None
        except (json.JSONDecodeError, ValueError) as exc:
            if text.strip()[0] not in '[{"':
                return text, None  # plain words: keep them as text
            message = (
                f"{exc.msg} (at character {exc.pos + 1})"
                if isinstance(exc, json.JSONDecodeError)
                else str(exc)
            )
            return None, message

    def is_value_column(self, column: str) -> bool:
        """True for columns holding JSON values: answer, choices, tests, expected, and columns
        whose rows mostly hold numbers, lists or objects. Never for text columns (prompt, ...)."""
        if column in TEXT_COLUMNS or column == RAW_COLUMN:
            return False
        return column in VALUE_COLUMNS or self._column_is_json(column)

    def _column_is_json(self, column: str) -> bool:
        """True when the other rows hold numbers, lists or objects in this column."""
        kinds = [
            not isinstance(row.value[column], str)
            for row in self._doc.rows
            if row.valid and isinstance(row.value, dict) and column in row.value
        ]
        if kinds:
            return sum(kinds) > len(kinds) / 2
        return column in VALUE_COLUMNS

    def _new_record(self, near: int | None) -> dict[str, Any]:
        if self.role == "tasks":
            taken = {
                row.value.get("id")
                for row in self._doc.rows
                if row.valid and isinstance(row.value, dict)
            }
            number = len(self._doc.rows) + 1
            while f"task-{number}" in taken:
                number += 1
            record: dict[str, Any] = {"id": f"task-{number}", "prompt": ""}
            if "answer" in self._columns:
                record["answer"] = "" if not self._column_is_json("answer") else None
            return record
        task_id = ""
        if near is not None and 0 <= near < len(self._doc.rows):
            nearby = self._doc.rows[near]
            if nearby.valid and isinstance(nearby.value, dict):
                task_id = str(nearby.value.get("task_id", ""))
        record = {"task_id": task_id, "response": ""}
        if self.role == "negatives":
            record["note"] = ""
        return record

    def _compute_columns(self) -> list[str]:
        seen: list[str] = []
        any_object = False
        for row in self._doc.rows:
            if row.valid and isinstance(row.value, dict):
                any_object = True
                for key in row.value:
                    if key not in seen:
                        seen.append(key)
        preferred = [c for c in PREFERRED_COLUMNS[self.role] if c in seen or not self._doc.rows]
        if not any_object and self._doc.rows:
            return [RAW_COLUMN]
        if not seen:
            preferred = PREFERRED_COLUMNS[self.role][: 3 if self.role != "solutions" else 2]
        return preferred + [c for c in seen if c not in preferred]

    def _snapshot(self) -> _Snapshot:
        return _Snapshot(tuple(self._doc.rows), tuple(self._tokens), tuple(self._invalid.items()))

    def _restore(self, snapshot: _Snapshot) -> None:
        self.beginResetModel()
        self._doc.rows = list(snapshot.rows)
        self._lines = None
        self._tokens = list(snapshot.tokens)
        self._invalid = dict(snapshot.invalid)
        self._columns = self._compute_columns()
        self.endResetModel()
        self.changed.emit()

    def _after_edit(
        self,
        label: str,
        before: _Snapshot,
        select: int | None,
        *,
        reset: bool = False,
    ) -> None:
        self._lines = None
        columns = self._compute_columns()
        if reset or columns != self._columns:
            self.beginResetModel()
            self._columns = columns
            self.endResetModel()
        elif select is not None:
            self.dataChanged.emit(self.index(select, 0), self.index(select, self.columnCount() - 1))
            self.headerDataChanged.emit(Qt.Orientation.Vertical, select, select)
        self._push(label, before, select)

    def _push(self, label: str, before: _Snapshot, select: int | None) -> None:
        self.undo_stack.push(_TableEdit(self, label, before, self._snapshot(), select))
        self.changed.emit()


_MISSING = object()


_DOT_COLOURS = {"current": "#7b3fc4", "moved": "#2f8f6b", "outdated": "#9aa0a6"}


def _annotation_dot(state: str):
    from PySide6.QtGui import QPainter, QPixmap

    pixmap = QPixmap(10, 10)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(_DOT_COLOURS.get(state, "#7b3fc4")))
    painter.drawEllipse(1, 1, 8, 8)
    painter.end()
    return pixmap


def value_type_name(value: Any) -> str:
    """A cell's type in words a domain expert uses."""
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "empty"


def _parses_as_json(text: str) -> bool:
    """Whether `text`, typed into a value cell, would be read as something other than text."""
    try:
        json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        return False
    return True


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows; write it in quotes to keep it as text")


def _one_line(text: str) -> str:
    return text.replace("\r\n", " ⏎ ").replace("\n", " ⏎ ")


def _finding_html(finding: Finding) -> str:
    label = "Error" if finding.severity == Severity.ERROR else "Warning"
    text = f"<b>{label}</b> {html.escape(finding.message)}"
    if finding.hint:
        text += f"<br><i>How to fix:</i> {html.escape(finding.hint)}"
    return text


_BADGE_COLOURS = {
    "number": "#1565c0",
    "text": "#616161",
    "list": "#6a1b9a",
    "object": "#6a1b9a",
    "yes/no": "#2e7d32",
    "empty": "#9e9e9e",
}


class _CellDelegate(QStyledItemDelegate):
    """Long or multi-line text is edited in a small multi-line box; the rest in a line edit."""

    def createEditor(self, parent, option, index):  # noqa: N802
        text = index.data(Qt.ItemDataRole.EditRole) or ""
        if isinstance(text, str) and (len(text) > 50 or "\n" in text):
            editor = QPlainTextEdit(parent)
            editor.setTabChangesFocus(True)
            editor.setObjectName("cellTextEditor")
            return editor
        return super().createEditor(parent, option, index)

    def setEditorData(self, editor, index):  # noqa: N802
        if isinstance(editor, QPlainTextEdit):
            editor.setPlainText(index.data(Qt.ItemDataRole.EditRole) or "")
            return
        super().setEditorData(editor, index)

    def setModelData(self, editor, model, index):  # noqa: N802
        if isinstance(editor, QPlainTextEdit):
            model.setData(index, editor.toPlainText(), Qt.ItemDataRole.EditRole)
            return
        super().setModelData(editor, model, index)

    def paint(self, painter, option, index) -> None:
        """Value cells get a small badge on the right naming their type (number, text, list...)."""
        kind = index.data(TYPE_ROLE)
        if not kind:
            super().paint(painter, option, index)
            return
        font = QFont(option.font)
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.8))
        metrics = QFontMetrics(font)
        width = metrics.horizontalAdvance(kind) + 10
        if option.rect.width() < width + 40:  # too narrow: the tooltip still names the type
            super().paint(painter, option, index)
            return
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        full = QStyleOptionViewItem(option)
        self.initStyleOption(full, index)
        full.text = ""
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, full, painter, widget)
        text_part = QStyleOptionViewItem(option)
        text_part.rect = option.rect.adjusted(0, 0, -(width + 6), 0)
        super().paint(painter, text_part, index)
        badge = QRect(
            option.rect.right() - width - 3,
            option.rect.center().y() - metrics.height() // 2 - 1,
            width,
            metrics.height() + 2,
        )
        colour = QColor(_BADGE_COLOURS.get(kind, "#757575"))
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fill = QColor(colour)
        fill.setAlpha(40)
        painter.setPen(colour)
        painter.setBrush(fill)
        painter.drawRoundedRect(badge, 4, 4)
        painter.setFont(font)
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, kind)
        painter.restore()

    def updateEditorGeometry(self, editor, option, index):  # noqa: N802
        rect = option.rect
        if isinstance(editor, QPlainTextEdit):
            rect = rect.adjusted(
                0, 0, 0, max(0, editor.fontMetrics().lineSpacing() * 5 - rect.height())
            )
        editor.setGeometry(rect)


class TaskTable(QWidget):
    """The table plus its toolbar: add, duplicate, delete, move up/down, undo, redo."""

    changed = Signal()

    def __init__(self, role: str = "tasks", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("taskTable")
        self.model = JsonlTableModel(role, self)
        self.view = QTableView()
        self.view.setObjectName("taskTableView")
        self.view.setModel(self.model)
        self.view.setItemDelegate(_CellDelegate(self.view))
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.verticalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        )
        self.view.horizontalHeader().setHighlightSections(False)
        self.view.horizontalHeader().setStretchLastSection(False)

        noun = {"tasks": "task", "solutions": "answer", "negatives": "answer"}[self.model.role]
        self.add_button = _tool(
            f"+ Add {noun}", f"Add a new {noun} below the selected row (Ctrl+Shift+N)", self.add_row
        )
        self.duplicate_button = _tool(
            "Duplicate", "Copy the selected row below itself (Ctrl+D)", self.duplicate_selected
        )
        self.delete_button = _tool(
            "Delete",
            "Delete the selected rows (Delete key); Undo brings them back",
            self.delete_selected,
        )
        self.up_button = _tool(
            "↑", "Move the selected row up (Alt+Up)", lambda: self.move_selected(-1)
        )
        self.down_button = _tool(
            "↓", "Move the selected row down (Alt+Down)", lambda: self.move_selected(1)
        )
        self.undo_button = _tool("Undo", "Undo (Ctrl+Z)", self.model.undo_stack.undo)
        self.redo_button = _tool("Redo", "Redo (Ctrl+Shift+Z)", self.model.undo_stack.redo)
        self.model.undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.model.undo_stack.canRedoChanged.connect(self.redo_button.setEnabled)
        self.undo_button.setEnabled(False)
        self.redo_button.setEnabled(False)
        self.status = QLabel()
        self.status.setObjectName("tableStatus")
        self.status.setTextFormat(Qt.TextFormat.RichText)

        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 4)
        bar.setSpacing(4)
        for widget in (
            self.add_button,
            self.duplicate_button,
            self.delete_button,
            self.up_button,
            self.down_button,
        ):
            bar.addWidget(widget)
        bar.addSpacing(12)
        bar.addWidget(self.undo_button)
        bar.addWidget(self.redo_button)
        bar.addSpacing(12)
        bar.addWidget(self.status, 1)
        # The selected row in full: long prompts are cut in the table, never here.
        self.details = QTextBrowser()
        self.details.setObjectName("rowDetails")
        self.details.setOpenLinks(False)
        self.details.setPlaceholderText("Select a row to read it in full here.")
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([400, 140])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)

        for sequence, slot in (
            ("Ctrl+Shift+N", self.add_row),
            ("Ctrl+D", self.duplicate_selected),
            (QKeySequence.StandardKey.Delete, self.delete_selected),
            ("Alt+Up", lambda: self.move_selected(-1)),
            ("Alt+Down", lambda: self.move_selected(1)),
            (QKeySequence.StandardKey.Undo, self.model.undo_stack.undo),
            (QKeySequence.StandardKey.Redo, self.model.undo_stack.redo),
        ):
            action = self.addAction("")
            action.setShortcut(QKeySequence(sequence))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
        self.model.changed.connect(self._model_changed)
        self.model.rowSelected.connect(self.select_row)
        self.model.modelReset.connect(self._fit_columns)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._show_details())
        self.model.dataChanged.connect(lambda *_: self._show_details())
        self.model.modelReset.connect(self._show_details)
        self._update_buttons()

    # -- public -------------------------------------------------------------------------

    @property
    def undo_stack(self) -> QUndoStack:
        return self.model.undo_stack

    def load_text(self, text: str) -> None:
        self.model.load_text(text)
        self._fit_columns()

    def replace_text(self, text: str, label: str = "Edit as text") -> None:
        self.model.replace_text(text, label)

    def text(self) -> str:
        return self.model.text()

    def set_findings(self, findings: list[Finding]) -> None:
        self.model.set_findings(findings)

    def set_annotations(self, annotations: list) -> None:
        self.model.set_annotations(annotations)

    def selected_rows(self) -> list[int]:
        return sorted({index.row() for index in self.view.selectionModel().selectedRows()})

    def select_row(self, row: int) -> None:
        if not 0 <= row < self.model.rowCount():
            return
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.view.scrollTo(index)

    def jump_to_line(self, line: int) -> bool:
        row = self.model.row_at_line(line)
        if row is None:
            return False
        self.select_row(row)
        self.view.setFocus()
        return True

    def add_row(self) -> int:
        rows = self.selected_rows()
        row = self.model.add_row(rows[-1] if rows else None)
        self.select_row(row)
        # start typing in the first empty cell (the prompt of a new task, the response...)
        for column, name in enumerate(self.model.columns):
            if (
                self.model.data(self.model.index(row, column), Qt.ItemDataRole.EditRole)
                in ("", None)
                and name != "id"
            ):
                self.view.setCurrentIndex(self.model.index(row, column))
                break
        return row

    def duplicate_selected(self) -> int | None:
        rows = self.selected_rows()
        if not rows:
            return None
        row = self.model.duplicate_row(rows[-1])
        self.select_row(row)
        return row

    def delete_selected(self) -> None:
        self.model.delete_rows(self.selected_rows())

    def move_selected(self, step: int) -> None:
        rows = self.selected_rows()
        if len(rows) != 1:
            return
        row = self.model.move_row(rows[0], rows[0] + step)
        self.select_row(row)

    # -- internals ----------------------------------------------------------------------

    def _model_changed(self) -> None:
        self._update_status()
        self._update_buttons()
        self.changed.emit()

    def _update_status(self) -> None:
        bad_rows = self.model.invalid_rows()
        bad_cells = self.model.invalid_cells()
        parts = [f"{self.model.rowCount()} rows"]
        if bad_rows:
            lines = ", ".join(str(line) for _i, line, _e in bad_rows[:5])
            parts.append(
                f"<span style='color:#c62828'>{len(bad_rows)} line(s) "
                f"are not valid JSON (line {lines}) — "
                "edit them here or in the Text view</span>"
            )
        if bad_cells:
            parts.append(
                f"<span style='color:#c62828'>{len(bad_cells)} cell(s) "
                "are not valid JSON and are not saved yet</span>"
            )
        self.status.setText(" · ".join(parts))

    def _show_details(self) -> None:
        row = self.view.currentIndex().row()
        if not 0 <= row < self.model.rowCount():
            self.details.clear()
            return
        parts = []
        for column, name in enumerate(self.model.columns):
            index = self.model.index(row, column)
            text = self.model.data(index, Qt.ItemDataRole.EditRole) or ""
            if not text:
                continue
            parts.append(
                f"<p style='margin:0 0 6px 0'><b>{html.escape(name)}</b><br>"
                f"{html.escape(text).replace(chr(10), '<br>')}</p>"
            )
        for finding in self.model.row_findings(row):
            parts.append(f"<p style='margin:0 0 6px 0'>{_finding_html(finding)}</p>")
        self.details.setHtml("".join(parts))

    def _update_buttons(self, *_args) -> None:
        rows = self.selected_rows()
        self.duplicate_button.setEnabled(bool(rows))
        self.delete_button.setEnabled(bool(rows))
        self.up_button.setEnabled(len(rows) == 1 and rows[0] > 0)
        self.down_button.setEnabled(len(rows) == 1 and rows[0] < self.model.rowCount() - 1)

    def _fit_columns(self) -> None:
        header = self.view.horizontalHeader()
        metrics = self.view.fontMetrics()
        stretch = next(
            (
                c
                for c, n in enumerate(self.model.columns)
                if n in ("prompt", "response", RAW_COLUMN)
            ),
            None,
        )
        for column, name in enumerate(self.model.columns):
            # The long text column takes the spare width; the others can be resized by hand.
            header.setSectionResizeMode(
                column,
                QHeaderView.ResizeMode.Stretch
                if column == stretch
                else QHeaderView.ResizeMode.Interactive,
            )
            if name in ("id", "task_id", "entry"):
                width = metrics.horizontalAdvance("mm-rate-10-copy") + 16
            elif column == stretch:
                continue
            else:
                width = metrics.horizontalAdvance("m" * 14)
            header.resizeSection(column, width)
        if stretch is None and self.model.columns:
            header.setStretchLastSection(True)
        self._update_status()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(800, 500)


def _tool(text: str, tip: str, slot) -> QToolButton:
    button = QToolButton(text=text, toolTip=tip)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setAutoRaise(True)
    button.clicked.connect(slot)
    return button
