"""The bounty form's scoring criteria: an editable table (name, weight, description) with the sum
of the weights under it, turned into the platform's rubric."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.sync import lab_fields as fields
from app.ui.widgets import button_row, push_button

NAME, WEIGHT, DESCRIPTION = range(3)
DEFAULT_MAX_SCORE = 5


class CriteriaEditor(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Criterion", "Weight", "What a reviewer looks for"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(DESCRIPTION, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(NAME, 180)
        self.table.setColumnWidth(WEIGHT, 70)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setMinimumHeight(130)
        self.table.itemChanged.connect(self._update_sum)
        layout.addWidget(self.table)
        self.sum_label = QLabel()
        self.sum_label.setObjectName("fieldHelp")
        self.sum_label.setWordWrap(True)
        self.add_button = push_button("Add criterion", self.add_row)
        self.remove_button = push_button("Remove", self._remove_selected)
        row = button_row(self.add_button, self.remove_button)
        row.addWidget(self.sum_label, 1)
        layout.addLayout(row)
        self._ids: list[str | None] = []  # a criterion's id kept across edits (scores use it)
        self._max_scores: list[int] = []
        self._update_sum()

    def add_row(self, name: str = "", weight: str = "1", description: str = "") -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for column, text in ((NAME, name), (WEIGHT, weight), (DESCRIPTION, description)):
            item = QTableWidgetItem(text)
            if column == WEIGHT:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, column, item)
        self._ids.append(None)
        self._max_scores.append(DEFAULT_MAX_SCORE)
        self._update_sum()

    def set_rubric(self, rubric: list[dict[str, Any]]) -> None:
        self.table.setRowCount(0)
        self._ids.clear()
        self._max_scores.clear()
        for item in rubric:
            self.add_row(item["title"], f"{item['weight']:g}", item.get("description", ""))
            self._ids[-1] = item["id"]
            self._max_scores[-1] = item.get("max_score", DEFAULT_MAX_SCORE)

    def rubric(self) -> list[dict[str, Any]]:
        """The rows as rubric items (blank rows skipped); FieldError names the bad row."""
        items = []
        for row in range(self.table.rowCount()):
            name, weight, description = (self._text(row, c) for c in (NAME, WEIGHT, DESCRIPTION))
            if not (name or description) and weight in ("", "1"):
                continue
            if not name:
                raise fields.FieldError(
                    "criteria",
                    f"Criterion {row + 1} has no name.",
                    "",
                    form_hint="Name what reviewers score, e.g. “Answers are correct”.",
                    row=row,
                )
            ident = self._ids[row] or fields.criterion_id(name)
            item = fields.criterion(ident, name, weight, row=row)
            items.append({**item, "description": description, "max_score": self._max_scores[row]})
        return fields.distinct_criteria(items)

    def _text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text().strip() if item is not None else ""

    def _remove_selected(self) -> None:
        for row in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)
            del self._ids[row], self._max_scores[row]
        self._update_sum()

    def _update_sum(self, *_: object) -> None:
        total = 0.0
        for row in range(self.table.rowCount()):
            try:
                total += max(0.0, float(self._text(row, WEIGHT)))
            except ValueError:
                continue
        if not self.table.rowCount():
            self.sum_label.setText("No criteria: reviewers give one overall verdict.")
        else:
            self.sum_label.setText(
                f"Weights add up to {total:g}: a criterion of weight w counts w/{total:g} "
                "of the score."
                if total
                else "Weights add up to 0: give at least one criterion a weight."
            )
