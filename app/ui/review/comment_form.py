"""Start a review thread on a selection: lines of a file (the selected text is shown) or a row
of the task table. Severity, a markdown body with a preview, and an optional suggested
replacement prefilled with the selected lines. OK queues it in the sync engine's outbox."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError
from app.ui.review.outbox_view import where
from app.ui.review.review_widgets import SEVERITIES, SEVERITY_HELP, MarkdownEditor, dim_label

MAX_BODY = 20_000  # the platform's limit on a comment


class NewThreadForm(QDialog):
    created = Signal(object)  # the queued OutboxEntry

    def __init__(
        self,
        engine,
        submission_id: str,
        revision: int,
        *,
        path: str | None = None,
        start_line: int | None = None,
        end_line: int | None = None,
        selected_text: str = "",
        task_id: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.submission_id, self.revision = submission_id, revision
        self.path, self.task_id = path, task_id
        self.start_line = start_line
        self.end_line = end_line if end_line is not None else start_line
        self.selected_text = selected_text
        self.entry = None
        place = where(path, start_line, self.end_line, task_id)
        self.setWindowTitle(f"New thread on {place}")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        title = QLabel(f"<b>New thread on {html.escape(place)}</b> · revision {revision}")
        title.setObjectName("formTitle")
        layout.addWidget(title)
        self._selection(layout)
        self._severity(layout)
        layout.addWidget(QLabel("Comment (markdown)"))
        self.body = MarkdownEditor("What should the author know or change here?")
        self.body.setMinimumHeight(140)
        layout.addWidget(self.body)
        self._suggestion(layout)
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d92d20; font-weight: 600;")
        self.error.setVisible(False)
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Start thread")
        self.ok_button.setObjectName("primary")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        for edit in (self.body.editor, self.suggestion):
            edit.textChanged.connect(self._clear_error)
        self.suggest_box.toggled.connect(self._clear_error)
        self._check_location()

    # -- parts --------------------------------------------------------------------------------

    def _selection(self, layout: QVBoxLayout) -> None:
        self.selection_view = QPlainTextEdit(self.selected_text)
        self.selection_view.setReadOnly(True)
        self.selection_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.selection_view.setMaximumHeight(90)
        self.selection_view.setVisible(bool(self.selected_text))
        if self.selected_text:
            layout.addWidget(dim_label("Selected text:"))
        layout.addWidget(self.selection_view)

    def _severity(self, layout: QVBoxLayout) -> None:
        row = QHBoxLayout()
        row.addWidget(QLabel("Severity:"))
        self.severity_group = QButtonGroup(self)
        self.severity_buttons: dict[str, QRadioButton] = {}
        for name in SEVERITIES:
            button = QRadioButton(name)
            button.setToolTip(SEVERITY_HELP[name])
            button.setChecked(name == "normal")
            self.severity_group.addButton(button)
            self.severity_buttons[name] = button
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)

    def _suggestion(self, layout: QVBoxLayout) -> None:
        self.suggest_box = QCheckBox("Suggest a replacement for these lines")
        self.suggest_box.setToolTip("The author can apply it with one click (and undo it).")
        self.suggestion = QPlainTextEdit(self.selected_text)
        self.suggestion.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.suggestion.setMaximumHeight(110)
        self.suggestion.setEnabled(False)
        self.suggest_box.toggled.connect(self.suggestion.setEnabled)
        can_suggest = bool(self.path or self.task_id)
        self.suggest_box.setEnabled(can_suggest)
        if not can_suggest:
            self.suggest_box.setToolTip("A suggestion replaces lines: select lines or a task row.")
        layout.addWidget(self.suggest_box)
        layout.addWidget(self.suggestion)

    # -- validating and sending -------------------------------------------------------------------

    def severity(self) -> str:
        return next(n for n, b in self.severity_buttons.items() if b.isChecked())

    def _check_location(self) -> None:
        problem = self._location_problem()
        if problem:
            self._fail(problem)
            self.ok_button.setEnabled(False)

    def _location_problem(self) -> str:
        if self.engine is None:
            return "Read-only: connect to the platform (Settings → Platform) to start threads."
        if self.path and self.start_line is None:
            return f"No lines selected in {self.path}: select the lines the comment is about."
        if self.start_line is not None and (
            self.start_line < 1 or (self.end_line or 0) < self.start_line
        ):
            return (
                f"Lines {self.start_line}-{self.end_line} are not a range: lines count from 1 "
                "and the range must not run backwards. Select the lines again."
            )
        return ""

    def validate(self) -> str:
        """The first problem with what was typed, in words the user can act on ('' = fine)."""
        body = self.body.text()
        if not body.strip():
            return "The comment is empty: write what the author should know or change."
        if len(body) > MAX_BODY:
            return f"The comment is {len(body):,} characters; the platform takes {MAX_BODY:,}."
        if self.suggest_box.isChecked() and self.suggestion.toPlainText() == self.selected_text:
            return (
                "The suggested replacement is the same as the selected lines: change it, or "
                "untick 'Suggest a replacement'."
            )
        return ""

    def submit(self) -> None:
        problem = self._location_problem() or self.validate()
        if problem:
            self._fail(problem)
            return
        suggestion = self.suggestion.toPlainText() if self.suggest_box.isChecked() else None
        try:
            self.entry = self.engine.queue_thread(
                self.submission_id,
                revision=self.revision,
                body=self.body.text(),
                path=self.path,
                start_line=self.start_line,
                end_line=self.end_line,
                severity=self.severity(),
                suggestion=suggestion,
                task_id=self.task_id,
            )
        except UserError as exc:
            self._fail(f"{exc.message} {exc.hint}".strip())
            return
        self.created.emit(self.entry)
        self.accept()

    def _clear_error(self) -> None:
        if self.ok_button.isEnabled():  # a location problem stays: typing cannot fix it
            self.error.setVisible(False)

    def _fail(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(True)
