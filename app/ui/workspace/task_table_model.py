"""The task table's model: a JSONL file as rows and columns, each edit one undoable step.

The model edits an `app.envpack.jsonl_edit.JsonlDocument`, so rows nobody touched keep their
exact original text. What a cell means (its columns, how typed text becomes a value) is in
`task_table_cells`. A list or object that does not parse is kept on screen, marked red with the
reason, and not written until it is fixed. Every change is one QUndoCommand holding the rows
before and after (rows are immutable once built, so snapshots are cheap and exact).
"""

from __future__ import annotations

import bisect
import html
import itertools
import json
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPixmap, QUndoCommand, QUndoStack

from app.envpack.jsonl import field_columns
from app.envpack.jsonl_edit import JsonlDocument, JsonlRow
from app.errors import UserError
from app.findings import Finding, Severity
from app.ui.workspace.task_table_cells import (
    COLUMN_HELP,
    MISSING,
    PREFERRED_COLUMNS,
    RAW_COLUMN,
    compute_columns,
    finding_html,
    is_object,
    is_value_column,
    new_record,
    one_line,
    parses_as_json,
    typed_value,
    value_text,
    value_type_name,
)

#: item-data role: the type name of a value cell ("number", "text", ...), None for text columns
TYPE_ROLE = Qt.ItemDataRole.UserRole + 7
ERROR_BG = QColor(211, 47, 47, 45)
WARNING_BG = QColor(230, 160, 0, 45)
_DOT_COLOURS = {"current": "#7b3fc4", "moved": "#2f8f6b", "outdated": "#9aa0a6"}
_DISPLAY, _EDIT = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole


@dataclass(frozen=True, slots=True)
class _Cell:
    """What `data()` needs to know about one cell, looked up once per call."""

    row_index: int
    column: str
    row: JsonlRow
    invalid: tuple[str, str] | None  # (typed text, error) of a value that does not parse
    raw: bool  # an invalid line (or non-object row) shown as its text in the first column

    @property
    def value(self) -> Any:  # only for a valid object row that has the column
        return self.row.value[self.column]

    @property
    def broken_line(self) -> bool:
        return self.raw and not self.row.valid


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
        # Qt asks for a dozen roles per cell on every paint; refuse the unused ones first.
        answer = self._ROLES.get(role)
        if answer is None or not index.isValid():
            return None
        return answer(self, self._cell(index.row(), self._columns[index.column()]), role)

    def _cell(self, row_index: int, column: str) -> _Cell:
        invalid = self._invalid.get((self._tokens[row_index], column))
        raw = self._is_raw_cell(row_index, column)
        return _Cell(row_index, column, self._doc.rows[row_index], invalid, raw)

    def _text_of(self, cell: _Cell, role: int) -> str:
        """DisplayRole: one line to show; EditRole: the text that means the same when typed."""
        if cell.invalid is not None:
            return cell.invalid[0]
        if cell.raw:
            return cell.row.text
        if not is_object(cell.row) or cell.column not in cell.row.value:
            return ""
        value = cell.value
        if value is None:
            return ""  # null reads as "not filled in yet"
        if role == _DISPLAY:
            return one_line(value_text(value))
        if isinstance(value, str) and self.is_value_column(cell.column) and parses_as_json(value):
            return json.dumps(value, ensure_ascii=False)  # so editing it back keeps it text
        return value_text(value)

    def _type_of(self, cell: _Cell, _role: int = TYPE_ROLE) -> str | None:
        if cell.invalid is not None or cell.raw or not is_object(cell.row):
            return None
        if cell.column not in cell.row.value or not self.is_value_column(cell.column):
            return None
        return value_type_name(cell.value)

    def _background_of(self, cell: _Cell, _role: int) -> QBrush | None:
        if cell.invalid is not None or cell.broken_line:
            return QBrush(ERROR_BG)
        severity = self._cell_severity(cell.row_index, cell.column)
        if severity is None:
            return None
        return QBrush(ERROR_BG if severity == Severity.ERROR else WARNING_BG)

    def _tooltip_of(self, cell: _Cell, _role: int) -> str | None:
        parts = []
        if cell.invalid is not None:
            parts.append(
                f"<b>Not valid JSON</b>: {html.escape(cell.invalid[1])}<br><i>How "
                "to fix:</i> correct the value, or put text in "
                "quotes; until then the file keeps the previous value."
            )
        elif cell.broken_line:
            parts.append(
                "<b>This line is not valid JSON</b>: "
                f"{html.escape(cell.row.error or '')}<br><i>How to fix:</i> edit the line here "
                "or in the Text view."
            )
        parts += [finding_html(f) for f in self._cell_findings(cell.row_index, cell.column)]
        if parts:
            return "<qt>" + "<br>".join(parts) + "</qt>"
        kind = self._type_of(cell)
        if kind is not None:
            return _type_tooltip(kind, cell.value)
        text = self._text_of(cell, _EDIT)
        if len(text) > 60 or "\n" in text:
            return html.escape(text[:2000]).replace("\n", "<br>")
        return None

    def _foreground_of(self, cell: _Cell, _role: int) -> QBrush | None:
        return QBrush(QColor("#b71c1c")) if cell.broken_line else None

    def _font_of(self, cell: _Cell, _role: int) -> QFont | None:
        if not cell.raw:
            return None
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        return font

    _ROLES = {
        Qt.ItemDataRole.DisplayRole: _text_of,
        Qt.ItemDataRole.EditRole: _text_of,
        TYPE_ROLE: _type_of,
        Qt.ItemDataRole.BackgroundRole: _background_of,
        Qt.ItemDataRole.ToolTipRole: _tooltip_of,
        Qt.ItemDataRole.ForegroundRole: _foreground_of,
        Qt.ItemDataRole.FontRole: _font_of,
    }

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
        current = record.value.get(column, MISSING)
        value, error = typed_value(self.is_value_column(column), current, text)
        if error is not None:
            if self._invalid.get((token, column), ("", ""))[0] == text:
                return False
            self._invalid[(token, column)] = (text, error)
            self._after_edit(f"Edit {column}", before, row)
            return True
        had_invalid = self._invalid.pop((token, column), None) is not None
        if value is MISSING:
            if current is MISSING and not had_invalid:
                return False
            self._doc.remove_field(row, column)
        else:
            if (
                current is not MISSING
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
        position = self._doc.insert(
            position, new_record(self._doc.rows, self.role, self._columns, after)
        )
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

    def is_value_column(self, column: str) -> bool:
        """Whether `column` holds JSON values (see `task_table_cells.is_value_column`)."""
        return is_value_column(self._doc.rows, column)

    def _compute_columns(self) -> list[str]:
        return compute_columns(self._doc.rows, self.role)

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


_DOT_COLOURS = {"current": "#7b3fc4", "moved": "#2f8f6b", "outdated": "#9aa0a6"}


def _annotation_dot(state: str) -> QPixmap:
    pixmap = QPixmap(10, 10)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(_DOT_COLOURS.get(state, "#7b3fc4")))
    painter.drawEllipse(1, 1, 8, 8)
    painter.end()
    return pixmap


def _type_tooltip(kind: str, value: Any) -> str:
    """A value cell's type, its value in full and how to store it as text instead."""
    shown = html.escape(one_line(value_text(value))[:300])
    hint = (
        'Type <code>"42"</code> with quotes to store a number as text.'
        if kind == "text"
        else "Type it in quotes to store it as text instead."
    )
    return f"<qt><b>{html.escape(kind.capitalize())}</b>: {shown}<br><i>{hint}</i></qt>"
