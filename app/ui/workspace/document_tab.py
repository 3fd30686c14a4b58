"""One open file in the workspace: a text editor, and for the files that have one, a friendlier
view (the task table for JSONL, the settings form for env.toml, the trajectory editor for the
trajectories of a multi-turn package) with a switch between the two.

Only one view holds the truth at a time: switching views hands the current text over as one
undoable step, so nothing typed in either view is ever lost.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.editor import CodeEditor, ReviewAnnotation
from app.errors import UserError
from app.findings import Finding
from app.ui.trajectory.trajectory_editor import TrajectoryEditor
from app.ui.workspace.file_document import FileDocument
from app.ui.workspace.manifest_form import ManifestForm
from app.ui.workspace.task_table import TaskTable

TEXT, TABLE, FORM, CHAT = "text", "table", "form", "chat"


def friendly_view_for(relpath: str, roles: dict[str, str], kind: str = "qa") -> str | None:
    """TABLE for the package's tasks/solutions/negatives files, FORM for env.toml, CHAT for the
    solutions and negatives of a multi-turn package."""
    if relpath == "env.toml":
        return FORM
    if kind == "multi-turn" and relpath in (roles.get("solutions"), roles.get("negatives")):
        return CHAT
    if relpath in roles.values() or relpath.endswith(".jsonl"):
        return TABLE
    return None


class Banner(QFrame):
    """A strip above the editor: the file changed on disk, with what the user can do."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fileBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.label, 1)
        self.primary = QPushButton()
        self.secondary = QPushButton()
        layout.addWidget(self.primary)
        layout.addWidget(self.secondary)
        self.hide()
        self._actions: dict[QPushButton, object] = {}
        self.primary.clicked.connect(lambda: self._run(self.primary))
        self.secondary.clicked.connect(lambda: self._run(self.secondary))

    def show_message(
        self,
        html: str,
        primary: tuple[str, object] | None = None,
        secondary: tuple[str, object] | None = None,
    ) -> None:
        self.label.setText(html)
        for button, spec in ((self.primary, primary), (self.secondary, secondary)):
            button.setVisible(spec is not None)
            if spec is not None:
                button.setText(spec[0])
                self._actions[button] = spec[1]
        self.show()

    def _run(self, button: QPushButton) -> None:
        action = self._actions.get(button)
        self.hide()
        if callable(action):
            action()


class DocumentTab(QWidget):
    changed = Signal()  # the text changed (typing, table or form edit, undo, reload)
    annotation_clicked = Signal(object)

    def __init__(
        self,
        document: FileDocument,
        friendly: str | None,
        table_role: str = "tasks",
        parent: QWidget | None = None,
        tasks_file: str = "tasks.jsonl",
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.friendly_kind = friendly
        self.table_role = table_role
        self.conflict = False  # the disk changed while we had unsaved edits: autosave waits
        self.banner = Banner()
        self.editor = CodeEditor(file_name=document.relpath)
        self.editor.setObjectName("workspaceEditor")
        self.table: TaskTable | None = None
        self.form: ManifestForm | None = None
        self.chat: TrajectoryEditor | None = None
        self._findings: list[Finding] = []
        self._mode = TEXT

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.switch_bar = self._build_switch_bar()
        layout.addWidget(self.switch_bar)
        layout.addWidget(self.banner)
        self.stack = QStackedWidget()
        layout.addWidget(self.stack, 1)
        self.stack.addWidget(self.editor)

        if friendly == TABLE:
            self._add_table(table_role)
        elif friendly == FORM:
            self._add_form()
        elif friendly == CHAT:
            self._add_chat(table_role, tasks_file)
        self.switch_bar.setVisible(friendly is not None)
        self.friendly_button.clicked.connect(lambda: self.set_mode(friendly or TEXT))
        self.text_button.clicked.connect(lambda: self.set_mode(TEXT))
        self.editor.document().contentsChanged.connect(self._text_changed)
        self.editor.annotation_clicked.connect(self.annotation_clicked)

    # -- building -----------------------------------------------------------------------

    def _build_switch_bar(self) -> QWidget:
        """The Table/Form | Text switch, a hint about the view, and the form's Undo/Redo."""
        bar = QWidget()
        bar.setObjectName("viewSwitch")
        switch = QHBoxLayout(bar)
        switch.setContentsMargins(8, 6, 8, 2)
        switch.setSpacing(0)
        self.friendly_button = QPushButton()
        self.text_button = QPushButton("Text")
        self.text_button.setToolTip("Edit the file itself")
        self._group = QButtonGroup(self)
        for button in (self.friendly_button, self.text_button):
            button.setCheckable(True)
            button.setObjectName("segment")
            self._group.addButton(button)
            switch.addWidget(button)
        self.view_hint = QLabel()
        self.view_hint.setObjectName("viewHint")
        switch.addSpacing(12)
        switch.addWidget(self.view_hint, 1)
        # The form has no toolbar of its own; its history lives here (the table has buttons).
        self.form_undo = QPushButton("Undo")
        self.form_redo = QPushButton("Redo")
        for button in (self.form_undo, self.form_redo):
            button.setObjectName("flat")
            button.hide()
            switch.addWidget(button)
        return bar

    def _add_table(self, table_role: str) -> None:
        """The friendly view of a tasks/solutions/negatives file: its rows as a table."""
        self.table = TaskTable(table_role)
        self.stack.addWidget(self.table)
        self.friendly_button.setText("Table")
        self.friendly_button.setToolTip("Edit the rows as a table")
        self.table.changed.connect(self._friendly_changed)

    def _add_chat(self, role: str, tasks_file: str) -> None:
        """The friendly view of a multi-turn package's trajectories: conversations."""
        self.chat = TrajectoryEditor(role, self.document.root, tasks_file)
        self.stack.addWidget(self.chat)
        self.friendly_button.setText("Conversations")
        self.friendly_button.setToolTip("Edit the trajectories as conversations")
        self.chat.changed.connect(self._friendly_changed)

    def _add_form(self) -> None:
        """The friendly view of env.toml: a form, its history on the switch bar's buttons."""
        self.form = ManifestForm()
        self.stack.addWidget(self.form)
        self.friendly_button.setText("Form")
        self.friendly_button.setToolTip("Edit the settings with explanations")
        self.form.changed.connect(self._friendly_changed)
        self.form_undo.clicked.connect(self.form.undo_stack.undo)
        self.form_redo.clicked.connect(self.form.undo_stack.redo)
        self.form_undo.setToolTip("Undo the last change in the form (Ctrl+Z)")
        self.form_redo.setToolTip("Redo (Ctrl+Shift+Z)")
        self.form.undo_stack.canUndoChanged.connect(self.form_undo.setEnabled)
        self.form.undo_stack.canRedoChanged.connect(self.form_redo.setEnabled)
        self.form_undo.setEnabled(False)
        self.form_redo.setEnabled(False)

    # -- content ------------------------------------------------------------------------

    @property
    def relpath(self) -> str:
        return self.document.relpath

    @property
    def mode(self) -> str:
        return self._mode

    def load(self, text: str) -> None:
        """Fresh content from disk: every view shows it, histories start empty."""
        self.editor.set_text(text)
        if self.table is not None:
            self.table.load_text(text)
            self.set_mode(TABLE)
        elif self.chat is not None:
            self.chat.load_text(text)
            self.set_mode(CHAT)
        elif self.form is not None:
            try:
                self.form.load_text(text)
                self.set_mode(FORM)
            except UserError as exc:
                self.set_mode(TEXT, quiet=True)
                self._explain_text_only(exc)
        else:
            self.set_mode(TEXT)

    def text(self) -> str:
        """The current text, from whichever view holds it."""
        if self._mode == TABLE and self.table is not None:
            return self.table.text()
        if self._mode == FORM and self.form is not None:
            return self.form.text()
        if self._mode == CHAT and self.chat is not None:
            return self.chat.text()
        return self.editor.text()

    def replace_text(self, text: str, label: str) -> None:
        """New content the user can take back with Undo (a reload from disk)."""
        if self._mode == TABLE and self.table is not None:
            self.table.replace_text(text, label)
        elif self._mode == CHAT and self.chat is not None:
            self.chat.replace_text(text, label)
        elif self._mode == FORM and self.form is not None:
            try:
                self.form.replace_text(text, label)
            except UserError as exc:
                self.editor.replace_text_undoably(text)
                self.set_mode(TEXT, quiet=True)
                self._explain_text_only(exc)
        else:
            self.editor.replace_text_undoably(text)

    def set_read_only(self, read_only: bool) -> None:
        """Someone else's file, under review: readable and selectable, never changed."""
        self.editor.setReadOnly(read_only)
        self._sync_buttons()
        if self.table is not None:
            self.table.set_read_only(read_only)
        if self.form is not None:
            self.form.setEnabled(not read_only)
        if self.chat is not None:
            self.chat.set_read_only(read_only)

    def is_dirty(self) -> bool:
        return self.document.is_dirty(self.text())

    # -- views --------------------------------------------------------------------------

    def set_mode(self, mode: str, quiet: bool = False) -> bool:
        """Switch views, carrying the text over. False when the text cannot be shown there."""
        if mode == self._mode and self.stack.currentWidget() is self._widget_for(mode):
            self._sync_buttons()
            return True
        current = self.text()
        if mode == TABLE and self.table is not None:
            self.table.replace_text(current, "Edit as text")
        elif mode == CHAT and self.chat is not None:
            self.chat.replace_text(current, "Edit as text")
        elif mode == FORM and self.form is not None:
            try:
                self.form.replace_text(current, "Edit as text")
            except UserError as exc:
                if not quiet:
                    self._explain_text_only(exc)
                self._sync_buttons()
                return False
        elif mode == TEXT:
            self.editor.replace_text_undoably(current)
        self._mode = mode
        self.stack.setCurrentWidget(self._widget_for(mode))
        self._sync_buttons()
        self.set_findings(self._findings)
        return True

    def _widget_for(self, mode: str) -> QWidget:
        return {TABLE: self.table, FORM: self.form, CHAT: self.chat}.get(mode) or self.editor

    def _sync_buttons(self) -> None:
        self.form_undo.setVisible(self._mode == FORM)
        self.form_redo.setVisible(self._mode == FORM)
        self.friendly_button.setChecked(self._mode != TEXT)
        self.text_button.setChecked(self._mode == TEXT)
        hints = {
            TABLE: "One row per line of the file. Double-click a cell to edit it.",
            FORM: "Each setting of env.toml, explained. Comments in the file are kept.",
            CHAT: "One conversation per line of the file. Click a turn to edit it.",
            TEXT: "The file as written. Problems are underlined; hover for how to fix them.",
        }
        if self.editor.isReadOnly():
            hints[TABLE] = "One row per line of the file. Read-only: select rows to comment."
            hints[TEXT] = "The file as submitted. Read-only: select lines to comment."
            hints[CHAT] = "One conversation per line of the file. Read-only."
        self.view_hint.setText(hints[self._mode])

    def _explain_text_only(self, exc: UserError) -> None:
        where = f" ({exc.where})" if exc.where else ""
        self.banner.show_message(
            f"<b>The form cannot show this file yet{where}.</b> {exc.message} {exc.hint}",
            ("Try the form again", lambda: self.set_mode(FORM)),
        )

    # -- findings, navigation, history --------------------------------------------------

    def set_findings(self, findings: list[Finding]) -> None:
        self._findings = list(findings)
        self.editor.set_diagnostics(self._findings if self._mode == TEXT else [])
        if self.table is not None:
            self.table.set_findings(self._findings if self._mode == TABLE else [])
        if self.form is not None and self._mode == FORM:
            self.form.set_findings(self._findings)
        if self.chat is not None:
            self.chat.set_findings(self._findings if self._mode == CHAT else [])

    def set_annotations(self, annotations: list[ReviewAnnotation]) -> None:
        mine = [a for a in annotations if a.file == self.relpath]
        self.editor.set_annotations(mine)
        if self.table is not None:
            self.table.set_annotations(mine)

    def jump_to(self, line: int, column: int = 1) -> None:
        """Show `line`: select the row in the table, else the text view at line:column."""
        if self._mode == TABLE and self.table is not None and self.table.jump_to_line(line):
            return
        if self._mode == FORM and self.form is not None and self.form.focus_line(line):
            return
        if self._mode == CHAT and self.chat is not None and self.chat.jump_to_line(line):
            return
        if self._mode != TEXT:
            self.set_mode(TEXT)
        self.editor.go_to_line(line, column)

    def undo(self) -> None:
        stack = self._undo_stack()
        stack.undo() if stack is not None else self.editor.undo()

    def redo(self) -> None:
        stack = self._undo_stack()
        stack.redo() if stack is not None else self.editor.redo()

    def _undo_stack(self):
        if self._mode == TABLE and self.table is not None:
            return self.table.undo_stack
        if self._mode == FORM and self.form is not None:
            return self.form.undo_stack
        if self._mode == CHAT and self.chat is not None:
            return self.chat.undo_stack
        return None

    def shutdown(self) -> None:
        if self.chat is not None:
            self.chat.shutdown()
        self.editor.close_editor()

    # -- change plumbing ----------------------------------------------------------------

    def _text_changed(self) -> None:
        if self._mode == TEXT:
            self.changed.emit()

    def _friendly_changed(self) -> None:
        if self._mode != TEXT:
            self.changed.emit()
