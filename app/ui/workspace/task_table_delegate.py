"""How a task-table cell is drawn and edited: a type badge on value cells, and a multi-line
box for long text (as napari's `_layer_delegate` draws and edits its list's rows)."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QPlainTextEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

from app.ui.workspace.task_table_model import TYPE_ROLE

_BADGE_COLOURS = {
    "number": "#1565c0",
    "text": "#616161",
    "list": "#6a1b9a",
    "object": "#6a1b9a",
    "true/false": "#2e7d32",
    "null": "#9e9e9e",
}


class CellDelegate(QStyledItemDelegate):
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
