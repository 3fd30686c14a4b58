"""The strip left of the text: line numbers, finding icons and review-annotation markers.

Spyder-style: the editor owns the data, the gutter only paints the visible blocks and turns
hovers and clicks into questions for the editor ("what is on line N?").
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPolygonF
from PySide6.QtWidgets import QToolTip, QWidget

from app.editor.annotations import ReviewAnnotation
from app.editor.diagnostics import tooltip_html
from app.findings import Severity

if TYPE_CHECKING:
    from app.editor.code_editor import CodeEditor

ICON_COLUMN = 18
MARKER_COLUMN = 13
PADDING = 6


class Gutter(QWidget):
    def __init__(self, editor: CodeEditor) -> None:
        super().__init__(editor)
        self._editor = editor
        self.setMouseTracking(True)
        self.setObjectName("editorGutter")

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.preferred_width(), 0)

    def preferred_width(self, line_count: int | None = None) -> int:
        """Width for the editor's line count, or for `line_count` (a text about to be loaded)."""
        digits = max(3, len(str(self._editor.blockCount() if line_count is None else line_count)))
        number_width = self._editor.fontMetrics().horizontalAdvance("9") * digits
        return MARKER_COLUMN + ICON_COLUMN + number_width + PADDING * 2

    # -- painting -----------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        editor = self._editor
        theme = editor.theme
        painter = QPainter(self)
        painter.fillRect(event.rect(), theme.gutter_background)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(editor.font())
        painter.setFont(font)
        painter.setPen(theme.gutter_foreground)
        current_line = editor.textCursor().blockNumber()
        line_height = editor.fontMetrics().height()
        icon_x = MARKER_COLUMN
        number_right = self.width() - PADDING

        severities = editor.line_severities()
        annotations = editor.annotations_by_line()

        bold = QFont(font)
        bold.setBold(True)
        block = editor.firstVisibleBlock()
        top = round(editor.blockBoundingGeometry(block).translated(editor.contentOffset()).top())
        align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        while block.isValid() and top <= event.rect().bottom():
            height = round(editor.blockBoundingRect(block).height())
            if block.isVisible() and top + height >= event.rect().top():
                number = block.blockNumber()
                if number == current_line:  # the one line drawn differently: switch fonts only here
                    painter.setPen(theme.gutter_current)
                    painter.setFont(bold)
                    painter.drawText(
                        QRect(0, top, number_right, line_height), align, str(number + 1)
                    )
                    painter.setFont(font)
                    painter.setPen(theme.gutter_foreground)
                else:
                    painter.drawText(
                        QRect(0, top, number_right, line_height), align, str(number + 1)
                    )
                severity = severities.get(number)
                if severity is not None:
                    size = min(line_height - 2, ICON_COLUMN - 4)
                    rect = QRectF(
                        icon_x + (ICON_COLUMN - size) / 2,
                        top + (line_height - size) / 2,
                        size,
                        size,
                    )
                    paint_severity_icon(painter, rect, severity, theme.severity[severity])
                marks = annotations.get(number)
                if marks:
                    starts_here = any(a.start_line - 1 == number for a in marks)
                    color = theme.annotation[str(marks[0].state)]
                    paint_annotation_marker(
                        painter, QRectF(1, top, MARKER_COLUMN - 3, height), color, starts_here
                    )
            block = block.next()
            top += height
        painter.end()

    # -- interaction --------------------------------------------------------------------

    def line_at(self, y: float) -> int | None:
        block = self._editor.cursorForPosition(
            self._editor.viewport().mapFromParent(self.mapToParent(QPointF(0, y).toPoint()))
        ).block()
        return block.blockNumber() if block.isValid() else None

    def event(self, event) -> bool:  # noqa: D401
        if event.type() == event.Type.ToolTip:
            line = self.line_at(event.pos().y())
            text = self._tooltip_for(line) if line is not None else ""
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def _tooltip_for(self, line: int) -> str:
        parts = []
        findings = self._editor.findings_on_line(line)
        if findings:
            parts.append(tooltip_html(findings)[4:-5])
        for annotation in self._editor.annotations_by_line().get(line, []):
            parts.append(annotation_html(annotation))
        return "<qt>" + "".join(parts) + "</qt>" if parts else ""

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        line = self.line_at(event.position().y())
        over_marker = (
            line is not None
            and event.position().x() < MARKER_COLUMN + ICON_COLUMN
            and (line in self._editor.annotations_by_line())
        )
        self.setCursor(
            Qt.CursorShape.PointingHandCursor if over_marker else Qt.CursorShape.ArrowCursor
        )
        super().mouseMoveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        line = self.line_at(event.position().y())
        if line is None:
            return None
        marks = self._editor.annotations_by_line().get(line)
        if marks and event.position().x() < MARKER_COLUMN + ICON_COLUMN:
            self._editor.annotation_clicked.emit(marks[0])
            return None
        self._editor.select_line(line + 1)
        return None

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        event.accept()  # clicks are handled on press; nothing below should get the release


def annotation_html(annotation: ReviewAnnotation) -> str:
    lines = (
        f"line {annotation.start_line}"
        if annotation.end_line <= annotation.start_line
        else f"lines {annotation.start_line}–{annotation.end_line}"
    )
    state = f" <i>({html.escape(annotation.state_label)})</i>" if annotation.state_label else ""
    return (
        "<p style='margin:0 0 6px 0; "
        f"white-space:pre-wrap'><b>Review · {html.escape(annotation.author)}</b>"
        f" <span style='color:gray'>{lines}</span>{state}<br>{html.escape(annotation.body)}"
        "<br><span style='color:gray'>Click the marker to open the thread.</span></p>"
    )


def paint_severity_icon(painter: QPainter, rect: QRectF, severity: Severity, color: QColor) -> None:
    """A filled shape with a white glyph: error ●×, warning ▲!, info ●i
    (readable without colour).
    """
    painter.save()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    glyph = {Severity.ERROR: "×", Severity.WARNING: "!"}.get(severity, "i")
    if severity == Severity.WARNING:
        painter.drawPolygon(
            QPolygonF(
                [QPointF(rect.center().x(), rect.top()), rect.bottomRight(), rect.bottomLeft()]
            )
        )
        glyph_rect = rect.adjusted(0, rect.height() * 0.25, 0, 0)
    else:
        painter.drawEllipse(rect)
        glyph_rect = rect
    font = QFont(painter.font())
    font.setBold(True)
    font.setPixelSize(max(7, int(rect.height() * (0.62 if severity == Severity.WARNING else 0.8))))
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(glyph_rect, Qt.AlignmentFlag.AlignCenter, glyph)
    painter.restore()


def paint_annotation_marker(
    painter: QPainter, rect: QRectF, color: QColor, starts_here: bool
) -> None:
    """A coloured bar down the annotated lines, with a small speech bubble where it starts."""
    painter.save()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRect(QRectF(rect.left() + 1, rect.top(), 3, rect.height()))
    if starts_here:
        size = min(rect.height() - 4, 11.0)
        bubble = QRectF(rect.left(), rect.top() + 2, size, size * 0.8)
        path = QPainterPath()
        path.addRoundedRect(bubble, 2, 2)
        tail = QPolygonF(
            [
                QPointF(bubble.left() + 2, bubble.bottom() - 0.5),
                QPointF(bubble.left() + 2, bubble.bottom() + 3),
                QPointF(bubble.left() + 5, bubble.bottom() - 0.5),
            ]
        )
        path.addPolygon(tail)
        painter.drawPath(path)
    painter.restore()
