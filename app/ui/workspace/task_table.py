"""tasks.jsonl / solutions.jsonl / negatives.jsonl as a table, for people who never want to
see JSON.

The widget: the table view with its toolbar (add, duplicate, delete, move, undo, redo), a status
line and the selected row in full. The rows and their edits are `task_table_model`, how a cell
is drawn and edited is `task_table_delegate`, what a cell means is `task_table_cells` (the split
napari uses for its layer list: qt_layer_model / _layer_delegate / qt_layer_list).
"""

from __future__ import annotations

import html

from PySide6.QtCore import QItemSelectionModel, QSize, Qt, Signal
from PySide6.QtGui import QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.findings import Finding
from app.ui.workspace.task_table_cells import RAW_COLUMN, finding_html
from app.ui.workspace.task_table_delegate import CellDelegate
from app.ui.workspace.task_table_model import JsonlTableModel


class TaskTable(QWidget):
    """The table plus its toolbar: add, duplicate, delete, move up/down, undo, redo."""

    changed = Signal()

    def __init__(self, role: str = "tasks", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("taskTable")
        self.model = JsonlTableModel(role, self)
        self.view = self._build_view()
        bar = self._build_toolbar()
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
        self._add_shortcuts()
        self._connect_model()
        self._update_buttons()

    def _build_view(self) -> QTableView:
        view = QTableView()
        view.setObjectName("taskTableView")
        view.setModel(self.model)
        view.setItemDelegate(CellDelegate(view))
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        view.setEditTriggers(_EDIT_TRIGGERS)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.setTextElideMode(Qt.TextElideMode.ElideRight)
        view.verticalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        )
        view.horizontalHeader().setHighlightSections(False)
        view.horizontalHeader().setStretchLastSection(False)
        return view

    def _build_toolbar(self) -> QHBoxLayout:
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
        return bar

    def _add_shortcuts(self) -> None:
        self._edit_actions = []
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
            self._edit_actions.append(action)

    def set_read_only(self, read_only: bool) -> None:
        """For a reviewer: rows can be read, selected and commented on, not changed."""
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.NoEditTriggers if read_only else _EDIT_TRIGGERS
        )
        for action in self._edit_actions:
            action.setEnabled(not read_only)
        for button in (
            self.add_button,
            self.duplicate_button,
            self.delete_button,
            self.up_button,
            self.down_button,
            self.undo_button,
            self.redo_button,
        ):
            button.setVisible(not read_only)

    def _connect_model(self) -> None:
        self.model.changed.connect(self._model_changed)
        self.model.rowSelected.connect(self.select_row)
        self.model.modelReset.connect(self._fit_columns)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._show_details())
        self.model.dataChanged.connect(lambda *_: self._show_details())
        self.model.modelReset.connect(self._show_details)

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
            parts.append(f"<p style='margin:0 0 6px 0'>{finding_html(finding)}</p>")
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


_EDIT_TRIGGERS = (
    QAbstractItemView.EditTrigger.DoubleClicked
    | QAbstractItemView.EditTrigger.EditKeyPressed
    | QAbstractItemView.EditTrigger.AnyKeyPressed
)


def _tool(text: str, tip: str, slot) -> QToolButton:
    button = QToolButton(text=text, toolTip=tip)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setAutoRaise(True)
    button.clicked.connect(slot)
    return button
