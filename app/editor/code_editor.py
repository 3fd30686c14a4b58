"""The code editor: QPlainTextEdit with a gutter, highlighting, diagnostics and annotations."""

from __future__ import annotations

from collections import defaultdict

from PySide6.QtCore import QEvent, QRect, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPalette,
    QResizeEvent,
    QShortcut,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QToolTip, QWidget

from app.editor import indentation
from app.editor.annotations import ReviewAnnotation
from app.editor.diagnostics import SEVERITY_ORDER, finding_line, finding_range, tooltip_html
from app.editor.find_bar import FindReplaceBar, GoToLineBar
from app.editor.gutter import Gutter
from app.editor.highlighter import PygmentsHighlighter
from app.editor.theme import EditorTheme
from app.findings import Finding, Severity


class CodeEditor(QPlainTextEdit):
    """Plain-text editor for env pack files.

    Signals:
      annotation_clicked(ReviewAnnotation) — a review marker in the gutter was clicked.
      cursor_moved(line, column) — 1-based, for a status bar.
    """

    annotation_clicked = Signal(object)
    cursor_moved = Signal(int, int)

    #: paint each line's worst finding after its text (set False for a quieter editor)
    show_inline_messages = True

    def __init__(self, parent: QWidget | None = None, *, file_name: str = "untitled.txt") -> None:
        super().__init__(parent)
        self._file_name = file_name
        self._theme = EditorTheme.from_palette()
        self._findings: list[Finding] = []
        self._finding_cursors: list[tuple[Finding, QTextCursor]] = []
        self._annotations: list[ReviewAnnotation] = []
        self._annotations_by_line: dict[int, list[ReviewAnnotation]] = {}
        self._find_selections: list[QTextEdit.ExtraSelection] = []
        self._indent_unit = "    "

        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(_editor_font())
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 4)
        self.highlighter = PygmentsHighlighter(self, file_name, self._theme)
        self.gutter = Gutter(self)
        self.find_bar = FindReplaceBar(self)
        self.go_to_line_bar = GoToLineBar(self)

        self.blockCountChanged.connect(self._update_gutter_width)
        self.updateRequest.connect(self._update_gutter)
        self.cursorPositionChanged.connect(self._cursor_moved)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._follow_system_theme)
        self._shortcut(QKeySequence.StandardKey.Find, lambda: self.show_find(replace=False))
        self._shortcut(QKeySequence.StandardKey.Replace, lambda: self.show_find(replace=True))
        self._shortcut("Ctrl+H", lambda: self.show_find(replace=True))
        self._shortcut(QKeySequence.StandardKey.FindNext, self.find_bar.find_next)
        self._shortcut(QKeySequence.StandardKey.FindPrevious, self.find_bar.find_previous)
        self._shortcut("Ctrl+G", self.show_go_to_line)
        self._shortcut("Ctrl+L", self.show_go_to_line)
        self._shortcut("Ctrl+/", self.toggle_comment)
        self._apply_theme()
        self._update_gutter_width()
        self._refresh_extra_selections()

    # -- content ------------------------------------------------------------------------

    @property
    def file_name(self) -> str:
        return self._file_name

    @property
    def language(self) -> str:
        return self.highlighter.language

    @property
    def theme(self) -> EditorTheme:
        return self._theme

    def set_text(self, text: str) -> None:
        """Replace the whole text (a fresh load: clears undo history and the modified flag)."""
        self._indent_unit = indentation.detect_indent_unit(text, self.language)
        # Widen the gutter while the document is still the old one: changing the viewport
        # margins after the load would lay out all 20,000 lines again.
        self._update_gutter_width(line_count=text.count("\n") + 1)
        self.setPlainText(text)
        self.document().setModified(False)
        self.highlighter.highlight_visible()  # colour what the first paint shows

    def replace_text_undoably(self, text: str) -> None:
        """Replace the whole text as one undoable edit (e.g. a reload the user can take back)."""
        if text == self.toPlainText():
            return
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.endEditBlock()

    def text(self) -> str:
        return self.toPlainText()

    def close_editor(self) -> None:
        """Stop background work; call before the editor goes away (closeEvent does too)."""
        self.highlighter.stop()
        self.find_bar.hide()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.highlighter.schedule_visible()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.close_editor()
        super().closeEvent(event)

    # -- navigation ---------------------------------------------------------------------

    def go_to_line(self, line: int, column: int = 1) -> None:
        """Put the cursor on 1-based `line`/`column` (clamped) and scroll it into the middle."""
        block = self.document().findBlockByNumber(max(0, min(line - 1, self.blockCount() - 1)))
        cursor = QTextCursor(block)
        column = max(0, min(column - 1, block.length() - 1))
        cursor.movePosition(
            QTextCursor.MoveOperation.Right, QTextCursor.MoveMode.MoveAnchor, column
        )
        self.setTextCursor(cursor)
        self.centerCursor()
        self.setFocus()

    def select_line(self, line: int) -> None:
        block = self.document().findBlockByNumber(max(0, min(line - 1, self.blockCount() - 1)))
        cursor = QTextCursor(block)
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)

    def cursor_line_column(self) -> tuple[int, int]:
        cursor = self.textCursor()
        return cursor.blockNumber() + 1, cursor.positionInBlock() + 1

    def show_find(self, replace: bool = False) -> None:
        self.go_to_line_bar.hide()
        self.find_bar.open(replace=replace and not self.isReadOnly())

    def show_go_to_line(self) -> None:
        self.find_bar.hide()
        self.go_to_line_bar.open()

    # -- diagnostics --------------------------------------------------------------------

    def set_diagnostics(self, findings: list[Finding]) -> None:
        """Underline each finding's exact range and put its icon in the gutter.

        The ranges are kept as text cursors, so they move with the text while the user keeps
        typing until the next lint run replaces them.
        """
        self._findings = list(findings)
        document = self.document()
        self._finding_cursors = []
        for finding in self._findings:
            start, end = finding_range(finding, document)
            cursor = QTextCursor(document)
            cursor.setPosition(min(start, document.characterCount() - 1))
            cursor.setPosition(
                min(end, document.characterCount() - 1), QTextCursor.MoveMode.KeepAnchor
            )
            self._finding_cursors.append((finding, cursor))
        self._refresh_extra_selections()
        self.gutter.update()

    def diagnostics(self) -> list[Finding]:
        return list(self._findings)

    def diagnostic_ranges(self) -> list[tuple[Finding, int, int]]:
        """(finding, start, end) document positions as currently underlined."""
        return [(f, c.selectionStart(), c.selectionEnd()) for f, c in self._finding_cursors]

    def findings_at(self, position: int) -> list[Finding]:
        return [
            f
            for f, c in self._finding_cursors
            if c.selectionStart() <= position <= c.selectionEnd()
        ]

    def findings_on_line(self, line: int) -> list[Finding]:
        """Findings whose range starts on 0-based block `line`."""
        document = self.document()
        return [
            f
            for f, c in self._finding_cursors
            if document.findBlock(c.selectionStart()).blockNumber() == line
        ]

    def line_severities(self) -> dict[int, Severity]:
        """Worst severity per 0-based line, for the gutter icons."""
        worst: dict[int, Severity] = {}
        document = self.document()
        for finding, cursor in self._finding_cursors:
            line = document.findBlock(cursor.selectionStart()).blockNumber()
            if line < 0:
                line = finding_line(finding, document)
            if line not in worst or SEVERITY_ORDER[finding.severity] < SEVERITY_ORDER[worst[line]]:
                worst[line] = finding.severity
        return worst

    # -- review annotations -------------------------------------------------------------

    def set_annotations(self, annotations: list[ReviewAnnotation]) -> None:
        """Show reviewers' threads as gutter markers; clicking one emits `annotation_clicked`."""
        self._annotations = list(annotations)
        by_line: dict[int, list[ReviewAnnotation]] = defaultdict(list)
        last = self.blockCount()
        for annotation in self._annotations:
            start = max(1, min(annotation.start_line, last))
            end = max(start, min(annotation.end_line, last))
            for line in range(start, end + 1):
                by_line[line - 1].append(annotation)
        self._annotations_by_line = dict(by_line)
        self.gutter.update()

    def annotations(self) -> list[ReviewAnnotation]:
        return list(self._annotations)

    def annotations_by_line(self) -> dict[int, list[ReviewAnnotation]]:
        """0-based line -> annotations covering it."""
        return self._annotations_by_line

    # -- find matches (called by the find bar) ------------------------------------------

    def set_find_matches(
        self, matches: list[tuple[int, int]], current: tuple[int, int] | None
    ) -> None:
        self._find_selections = []
        for start, end in matches:
            selection = QTextEdit.ExtraSelection()
            selection.format.setBackground(
                self._theme.find_current if (start, end) == current else self._theme.find_match
            )
            cursor = QTextCursor(self.document())
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor
            self._find_selections.append(selection)
        self._refresh_extra_selections()

    # -- editing helpers ----------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if self.isReadOnly():
            return super().keyPressEvent(event)
        key = event.key()
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if key == Qt.Key.Key_Tab and modifiers == Qt.KeyboardModifier.NoModifier:
            self.indent()
            return None
        if key == Qt.Key.Key_Backtab:
            self.dedent()
            return None
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and modifiers in (
            Qt.KeyboardModifier.NoModifier,
            Qt.KeyboardModifier.ShiftModifier,
        ):
            self._newline_with_indent()
            return None
        if (
            key == Qt.Key.Key_Backspace
            and modifiers == Qt.KeyboardModifier.NoModifier
            and self._backspace_indent()
        ):
            return None
        if key == Qt.Key.Key_Escape and (
            self.find_bar.isVisible() or self.go_to_line_bar.isVisible()
        ):
            bar = self.find_bar if self.find_bar.isVisible() else self.go_to_line_bar
            bar.close_bar()
            return None
        return super().keyPressEvent(event)

    def indent(self) -> None:
        """Tab: indent the selected lines, or insert spaces up to the next tab stop."""
        cursor = self.textCursor()
        if cursor.hasSelection() and self._selection_spans_lines(cursor):
            self._for_selected_lines(
                lambda line: self._indent_unit + line if line.strip() else line
            )
            return
        if self._indent_unit == "\t":
            cursor.insertText("\t")
        else:
            width = len(self._indent_unit)
            cursor.insertText(
                " " * indentation.spaces_to_next_stop(cursor.positionInBlock(), width)
            )

    def dedent(self) -> None:
        """Shift+Tab: remove one indentation level from the current or selected lines."""
        self._for_selected_lines(lambda line: indentation.dedented(line, self._indent_unit))

    def toggle_comment(self) -> None:
        """Ctrl+/: comment the selected lines out, or back in when they all are."""
        prefix = indentation.comment_prefix(self.language)
        if prefix is None or self.isReadOnly():
            return
        cursor = self.textCursor()
        lines = self._selected_line_texts(cursor)
        code = [line for line in lines if line.strip()]
        uncomment = bool(code) and all(line.lstrip().startswith(prefix) for line in code)

        def change(line: str) -> str:
            if not line.strip():
                return line
            indent = indentation.leading_whitespace(line)
            body = line[len(indent) :]
            if uncomment:
                body = body[len(prefix) :]
                return indent + (body[1:] if body.startswith(" ") else body)
            return f"{indent}{prefix} {body}"

        self._for_selected_lines(change)

    def _newline_with_indent(self) -> None:
        cursor = self.textCursor()
        before = cursor.block().text()[: cursor.positionInBlock()]
        indent = indentation.indent_after(before, self.language, self._indent_unit)
        cursor.beginEditBlock()
        cursor.insertText("\n" + indent)
        cursor.endEditBlock()
        self.ensureCursorVisible()

    def _backspace_indent(self) -> bool:
        """Backspace inside leading spaces removes back to the previous indentation stop."""
        cursor = self.textCursor()
        if cursor.hasSelection() or self._indent_unit == "\t":
            return False
        column = cursor.positionInBlock()
        before = cursor.block().text()[:column]
        if column == 0 or before.strip(" ") or len(before) < 2:
            return False
        width = len(self._indent_unit)
        remove = column % width or width
        cursor.movePosition(QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, remove)
        cursor.removeSelectedText()
        return True

    @staticmethod
    def _selection_spans_lines(cursor: QTextCursor) -> bool:
        return "\u2029" in cursor.selectedText() or (
            cursor.selectionStart() == cursor.block().position()
            and cursor.selectionEnd() - cursor.selectionStart() == cursor.block().length() - 1
        )

    def _line_span(self, cursor: QTextCursor) -> tuple[int, int]:
        document = self.document()
        first = document.findBlock(cursor.selectionStart()).blockNumber()
        end_block = document.findBlock(cursor.selectionEnd())
        last = end_block.blockNumber()
        if cursor.hasSelection() and last > first and cursor.selectionEnd() == end_block.position():
            last -= 1  # a selection ending at a line start does not include that line
        return first, last

    def _selected_line_texts(self, cursor: QTextCursor) -> list[str]:
        first, last = self._line_span(cursor)
        document = self.document()
        return [document.findBlockByNumber(n).text() for n in range(first, last + 1)]

    def _for_selected_lines(self, change) -> None:
        """Rewrite each selected line with `change` as one undo step, keeping them selected."""
        cursor = self.textCursor()
        first, last = self._line_span(cursor)
        document = self.document()
        had_selection = cursor.hasSelection()
        column = cursor.positionInBlock()
        old_length = cursor.block().length()
        edit = QTextCursor(document)
        edit.beginEditBlock()
        for number in range(first, last + 1):
            block = document.findBlockByNumber(number)
            new = change(block.text())
            if new != block.text():
                line = QTextCursor(block)
                line.movePosition(
                    QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor
                )
                line.insertText(new)
        edit.endEditBlock()
        result = QTextCursor(document)
        if had_selection:
            result.setPosition(document.findBlockByNumber(first).position())
            last_block = document.findBlockByNumber(last)
            result.setPosition(
                last_block.position() + last_block.length() - 1, QTextCursor.MoveMode.KeepAnchor
            )
        else:
            block = document.findBlockByNumber(first)
            shift = block.length() - old_length
            result.setPosition(block.position() + max(0, min(column + shift, block.length() - 1)))
        self.setTextCursor(result)

    # -- look ---------------------------------------------------------------------------

    def _apply_theme(self) -> None:
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Base, self._theme.background)
        palette.setColor(QPalette.ColorRole.Text, self._theme.foreground)
        self.setPalette(palette)
        self.highlighter.set_theme(self._theme)
        self.set_diagnostics(self._findings)
        self.gutter.update()

    def _follow_system_theme(self, *_args) -> None:
        theme = EditorTheme.from_palette()
        if theme.dark != self._theme.dark or theme.background != self._theme.background:
            self._theme = theme
            self._apply_theme()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        # Our own setPalette also lands here; _follow_system_theme is a no-op then.
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ThemeChange):
            self._follow_system_theme()
        super().changeEvent(event)

    def _refresh_extra_selections(self) -> None:
        selections = []
        current = QTextEdit.ExtraSelection()
        current.format.setBackground(self._theme.current_line)
        current.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        current.cursor = self.textCursor()
        current.cursor.clearSelection()
        selections.append(current)
        selections.extend(self._find_selections)
        for finding, cursor in sorted(
            self._finding_cursors, key=lambda fc: -SEVERITY_ORDER[fc[0].severity]
        ):
            selection = QTextEdit.ExtraSelection()
            fmt = QTextCharFormat()
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            fmt.setUnderlineColor(self._theme.severity[finding.severity])
            if finding.severity in (Severity.ERROR, Severity.WARNING):
                # A faint wash as well: a wavy line alone is easy to miss at small font sizes.
                tint = QColor(self._theme.severity[finding.severity])
                tint.setAlpha(28 if finding.severity == Severity.ERROR else 24)
                fmt.setBackground(tint)
            selection.format = fmt
            selection.cursor = cursor
            selections.append(selection)
        self.setExtraSelections(selections)

    def _cursor_moved(self) -> None:
        self._refresh_extra_selections()
        line, column = self.cursor_line_column()
        self.cursor_moved.emit(line, column)

    # -- gutter and floating bars -------------------------------------------------------

    def _update_gutter_width(self, *_args, line_count: int | None = None) -> None:
        width = self.gutter.preferred_width(line_count)
        if width != self.viewportMargins().left():  # same margins again still re-lay out everything
            self.setViewportMargins(width, 0, 0, 0)

    def _update_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self.gutter.scroll(0, dy)
        else:
            self.gutter.update(0, rect.y(), self.gutter.width(), rect.height())
        if rect.contains(self.viewport().rect()):
            self._update_gutter_width()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.highlighter.schedule_visible()
        contents = self.contentsRect()
        self.gutter.setGeometry(
            QRect(contents.left(), contents.top(), self.gutter.preferred_width(), contents.height())
        )
        self.position_floating_bars()

    def position_floating_bars(self) -> None:
        viewport = self.viewport().geometry()
        for bar in (self.find_bar, self.go_to_line_bar):
            if bar.isVisible():
                bar.adjustSize()
                width = min(bar.sizeHint().width(), viewport.width() - 8)
                bar.setGeometry(
                    viewport.right() - width - 16,
                    viewport.top() + 4,
                    width,
                    bar.sizeHint().height(),
                )

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        if self.show_inline_messages and self._finding_cursors:
            self._paint_inline_messages()

    def _paint_inline_messages(self) -> None:
        """The worst finding of each visible line, in plain words after the line's end, so
        the problem is readable without hovering (the tooltip still has the fix hint)."""
        document = self.document()
        worst: dict[int, Finding] = {}
        count: dict[int, int] = defaultdict(int)
        for finding, cursor in self._finding_cursors:
            line = document.findBlock(cursor.selectionStart()).blockNumber()
            count[line] += 1
            if (
                line not in worst
                or SEVERITY_ORDER[finding.severity] < SEVERITY_ORDER[worst[line].severity]
            ):
                worst[line] = finding
        painter = QPainter(self.viewport())
        font = self.font()
        font.setItalic(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        offset = self.contentOffset()
        right = self.viewport().width() - 8
        block = self.firstVisibleBlock()
        bottom = self.viewport().height()
        while block.isValid():
            geometry = self.blockBoundingGeometry(block).translated(offset)
            if geometry.top() > bottom:
                break
            finding = worst.get(block.blockNumber())
            if finding is not None and block.isVisible():
                line = block.layout().lineAt(0)
                left = int(
                    geometry.left() + line.naturalTextWidth() + metrics.horizontalAdvance("    ")
                )
                if left < right - 40:
                    colour = QColor(self._theme.severity[finding.severity])
                    colour.setAlpha(200)
                    painter.setPen(colour)
                    more = count[block.blockNumber()] - 1
                    message = f"● {finding.message}" + (
                        f"  (+{more} more, hover to see)" if more else ""
                    )
                    text = metrics.elidedText(message, Qt.TextElideMode.ElideRight, right - left)
                    painter.drawText(left, int(geometry.top() + line.ascent()), text)
            block = block.next()
        painter.end()

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ToolTip:
            position = self.cursorForPosition(event.pos()).position()
            findings = self.findings_at(position)
            if findings:
                QToolTip.showText(event.globalPos(), tooltip_html(findings), self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def _shortcut(self, sequence, slot) -> None:
        shortcut = QShortcut(QKeySequence(sequence), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(slot)


def _editor_font():
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    app_font = QGuiApplication.font()
    if app_font.pointSizeF() > 0:
        font.setPointSizeF(app_font.pointSizeF())
    return font
