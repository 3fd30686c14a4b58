"""Find / replace and go-to-line bars that float over the editor's top-right corner."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
)

if TYPE_CHECKING:
    from app.editor.code_editor import CodeEditor

MAX_MARKED_MATCHES = 2000  # beyond this, matches are counted but not all painted


class FloatingBar(QFrame):
    """A small framed panel the editor positions at its top-right corner."""

    closed = Signal()

    def __init__(self, editor: CodeEditor) -> None:
        super().__init__(editor)
        self._editor = editor
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setObjectName(type(self).__name__)
        self.hide()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.close_bar()
            return
        super().keyPressEvent(event)

    def close_bar(self) -> None:
        self.hide()
        self._editor.setFocus()
        self.closed.emit()


class FindReplaceBar(FloatingBar):
    """Find (Ctrl+F) and replace (Ctrl+H) with match count, case, whole word and regex."""

    def __init__(self, editor: CodeEditor) -> None:
        super().__init__(editor)
        self.find_edit = QLineEdit(placeholderText="Find")
        self.find_edit.setClearButtonEnabled(True)
        self.replace_edit = QLineEdit(placeholderText="Replace with")
        self.count_label = QLabel("")
        self.count_label.setMinimumWidth(90)
        self.case_button = _toggle("Aa", "Match case")
        self.word_button = _toggle("W", "Whole words only")
        self.regex_button = _toggle(".*", "Regular expression")
        previous_button = _button("↑", "Previous match (Shift+F3)", self.find_previous)
        next_button = _button("↓", "Next match (F3 or Enter)", self.find_next)
        close_button = _button("✕", "Close (Esc)", self.close_bar)
        self.replace_button = _button(
            "Replace", "Replace this match and go to the next", self.replace_current
        )
        self.replace_all_button = _button(
            "Replace all", "Replace every match (one undo step)", self.replace_all
        )

        grid = QGridLayout(self)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(4)
        grid.addWidget(self.find_edit, 0, 0)
        options = QHBoxLayout()
        options.setSpacing(2)
        for widget in (
            self.case_button,
            self.word_button,
            self.regex_button,
            self.count_label,
            previous_button,
            next_button,
            close_button,
        ):
            options.addWidget(widget)
        grid.addLayout(options, 0, 1)
        grid.addWidget(self.replace_edit, 1, 0)
        replace_row = QHBoxLayout()
        replace_row.setSpacing(2)
        replace_row.addWidget(self.replace_button)
        replace_row.addWidget(self.replace_all_button)
        replace_row.addStretch(1)
        grid.addLayout(replace_row, 1, 1)
        self.find_edit.setMinimumWidth(220)

        self.find_edit.textChanged.connect(self._pattern_changed)
        self.find_edit.returnPressed.connect(self.find_next)
        self.replace_edit.returnPressed.connect(self.replace_current)
        for button in (self.case_button, self.word_button, self.regex_button):
            button.toggled.connect(self._pattern_changed)
        QShortcut(
            QKeySequence(Qt.Modifier.SHIFT | Qt.Key.Key_Return), self.find_edit, self.find_previous
        )
        self._matches: list[tuple[int, int]] = []
        self._total = 0
        self._error = ""

    # -- opening ------------------------------------------------------------------------

    def open(self, replace: bool) -> None:
        selected = self._editor.textCursor().selectedText()
        if selected and "\u2029" not in selected:
            self.find_edit.setText(selected)
        self.set_replace_visible(replace)
        self.show()
        self.raise_()
        self._editor.position_floating_bars()
        self.find_edit.setFocus()
        self.find_edit.selectAll()
        self._pattern_changed()

    def set_replace_visible(self, visible: bool) -> None:
        for widget in (self.replace_edit, self.replace_button, self.replace_all_button):
            widget.setVisible(visible)
        self.adjustSize()

    def close_bar(self) -> None:
        self._matches = []
        self._editor.set_find_matches([], None)
        super().close_bar()

    # -- searching ----------------------------------------------------------------------

    def _flags(self, backward: bool = False) -> QTextDocument.FindFlag:
        flags = QTextDocument.FindFlag(0)
        if self.case_button.isChecked():
            flags |= QTextDocument.FindFlag.FindCaseSensitively
        if self.word_button.isChecked():
            flags |= QTextDocument.FindFlag.FindWholeWords
        if backward:
            flags |= QTextDocument.FindFlag.FindBackward
        return flags

    def _query(self) -> str | QRegularExpression | None:
        text = self.find_edit.text()
        if not text:
            return None
        if not self.regex_button.isChecked():
            return text
        options = QRegularExpression.PatternOption.NoPatternOption
        if not self.case_button.isChecked():
            options |= QRegularExpression.PatternOption.CaseInsensitiveOption
        expression = QRegularExpression(text, options)
        if not expression.isValid():
            self._error = expression.errorString()
            return None
        return expression

    def _find_from(self, position: int, backward: bool = False) -> QTextCursor | None:
        query = self._query()
        if query is None:
            return None
        document = self._editor.document()
        found = document.find(query, position, self._flags(backward))
        if found.isNull() or not found.hasSelection():
            # wrap around
            start = document.characterCount() - 1 if backward else 0
            found = document.find(query, start, self._flags(backward))
        return None if found.isNull() or not found.hasSelection() else found

    def _pattern_changed(self) -> None:
        self._error = ""
        self._collect_matches()
        self.find_edit.setStyleSheet(
            "QLineEdit { border: 1px solid #d32f2f; }" if self._error else ""
        )
        self.find_edit.setToolTip(
            f"Not a valid regular expression: {self._error}" if self._error else ""
        )
        if self.find_edit.text() and not self._error:
            # Move to the first match at or after the cursor's start, like every editor does.
            cursor = self._editor.textCursor()
            found = self._find_from(cursor.selectionStart())
            if found is not None:
                self._editor.setTextCursor(found)
        self._update_count()

    def _collect_matches(self) -> None:
        self._matches = []
        self._total = 0
        query = self._query()
        if query is None:
            self._editor.set_find_matches([], None)
            return
        document = self._editor.document()
        cursor = document.find(query, 0, self._flags())
        while not cursor.isNull() and cursor.hasSelection():
            self._total += 1
            if len(self._matches) < MAX_MARKED_MATCHES:
                self._matches.append((cursor.selectionStart(), cursor.selectionEnd()))
            cursor = document.find(query, cursor, self._flags())
        self._editor.set_find_matches(self._matches, None)

    def _update_count(self) -> None:
        if self._error:
            self.count_label.setText("Invalid pattern")
            return
        if not self.find_edit.text():
            self.count_label.setText("")
            return
        if not self._total:
            self.count_label.setText("No results")
            return
        cursor = self._editor.textCursor()
        current = (cursor.selectionStart(), cursor.selectionEnd())
        try:
            index = self._matches.index(current) + 1
            self.count_label.setText(f"{index} of {self._total}")
        except ValueError:
            self.count_label.setText(f"{self._total} found")
        self._editor.set_find_matches(self._matches, current if current in self._matches else None)

    @property
    def match_count(self) -> int:
        return self._total

    def find_next(self) -> bool:
        return self._step(backward=False)

    def find_previous(self) -> bool:
        return self._step(backward=True)

    def _step(self, backward: bool) -> bool:
        cursor = self._editor.textCursor()
        found = self._find_from(
            cursor.selectionStart() if backward else cursor.selectionEnd(), backward
        )
        if found is None:
            self._update_count()
            return False
        self._editor.setTextCursor(found)
        self._editor.centerCursor()
        self._update_count()
        return True

    # -- replacing ----------------------------------------------------------------------

    def _replacement_for(self, matched: str) -> str:
        replacement = self.replace_edit.text()
        if not self.regex_button.isChecked():
            return replacement
        flags = 0 if self.case_button.isChecked() else re.IGNORECASE
        try:
            return re.compile(self.find_edit.text(), flags).sub(replacement, matched, count=1)
        except (re.error, IndexError):
            return replacement

    def _selection_is_match(self) -> bool:
        cursor = self._editor.textCursor()
        return (
            cursor.hasSelection()
            and (cursor.selectionStart(), cursor.selectionEnd()) in self._matches
        )

    def replace_current(self) -> None:
        if self._editor.isReadOnly():
            return
        if not self._selection_is_match():
            self.find_next()
            if not self._selection_is_match():
                return
        cursor = self._editor.textCursor()
        cursor.insertText(self._replacement_for(cursor.selectedText()))
        self._editor.setTextCursor(cursor)
        self._collect_matches()
        self.find_next()

    def replace_all(self) -> int:
        if self._editor.isReadOnly():
            return 0
        query = self._query()
        if query is None:
            return 0
        document = self._editor.document()
        replaced = 0
        edit = QTextCursor(document)
        edit.beginEditBlock()
        cursor = document.find(query, 0, self._flags())
        while not cursor.isNull() and cursor.hasSelection():
            cursor.insertText(self._replacement_for(cursor.selectedText()))
            replaced += 1
            cursor = document.find(query, cursor, self._flags())
        edit.endEditBlock()
        self._collect_matches()
        self._update_count()
        self.count_label.setText(f"Replaced {replaced}")
        return replaced


class GoToLineBar(FloatingBar):
    """Ctrl+G: type a line number (or line:column) and press Enter."""

    def __init__(self, editor: CodeEditor) -> None:
        super().__init__(editor)
        self.line_edit = QLineEdit()
        self.line_edit.setMinimumWidth(200)
        self.hint_label = QLabel("")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(QLabel("Go to line:"))
        layout.addWidget(self.line_edit)
        layout.addWidget(self.hint_label)
        layout.addWidget(_button("✕", "Close (Esc)", self.close_bar))
        self.line_edit.returnPressed.connect(self.accept)

    def open(self) -> None:
        self.line_edit.setPlaceholderText(f"1 – {self._editor.blockCount()}  (or line:column)")
        self.line_edit.clear()
        self.hint_label.setText("")
        self.show()
        self.raise_()
        self._editor.position_floating_bars()
        self.line_edit.setFocus()

    def accept(self) -> bool:
        text = self.line_edit.text().strip()
        match = re.fullmatch(r"(\d+)(?:\s*[:,]\s*(\d+))?", text)
        if not match:
            self.hint_label.setText("Type a number, e.g. 42 or 42:7")
            return False
        self._editor.go_to_line(int(match.group(1)), int(match.group(2) or 1))
        self.close_bar()
        return True


def _toggle(text: str, tip: str) -> QToolButton:
    button = QToolButton(text=text, toolTip=tip, checkable=True)
    button.setAutoRaise(True)
    return button


def _button(text: str, tip: str, slot) -> QToolButton:
    button = QToolButton(text=text, toolTip=tip)
    button.setAutoRaise(True)
    button.clicked.connect(slot)
    return button
