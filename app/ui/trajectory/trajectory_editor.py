"""The trajectory editor: solutions.jsonl / negatives.jsonl of a multi-turn package as
conversations (DESIGN §4.2).

Above, which trajectory (task id and line, the note of a negative), its task and the task's
prompt, system message and user (scripted replies or persona). Below, the turns as chat bubbles
and, beside them, the selected turn's editor (`turn_editor`). Every edit rewrites the one line
of the file it changes (`trajectory_doc`, through `jsonl_edit`): the other lines keep their
exact text. Each edit is one undoable step (typing in one field merges into one). "Replay"
grades every prefix of the trajectory in the sandbox and shows it step by step (`replay_view`).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError
from app.findings import Finding
from app.funnel.replay_steps import checked_turns
from app.ui.trajectory import trajectory_doc as tdoc
from app.ui.trajectory import turn_edits as edits
from app.ui.trajectory.chat_bubbles import BubbleSpec, ChatColumn, task_html, text_html, turn_spec
from app.ui.trajectory.replay_job import ReplayJob
from app.ui.trajectory.replay_view import ReplayView
from app.ui.trajectory.turn_editor import TurnEditor

_MERGE_ID = 4711
_ERROR = "#b3261e"


class _Edit(QUndoCommand):
    """One change of the file: the text (and what was selected) before and after."""

    def __init__(self, editor: TrajectoryEditor, label: str, before, after, key) -> None:
        super().__init__(label)
        self.editor, self.before, self.after, self.key = editor, before, after, key
        self._first = True

    def id(self) -> int:  # noqa: A003 - Qt's name
        return _MERGE_ID if self.key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802
        if not isinstance(other, _Edit) or other.key != self.key:
            return False
        self.after = other.after
        return True

    def redo(self) -> None:
        if self._first:
            self._first = False
            return
        self.editor._restore(self.after)

    def undo(self) -> None:
        self.editor._restore(self.before)


class TrajectoryEditor(QWidget):
    """Public API like the task table's: `load_text`, `replace_text`, `text`, `undo_stack`,
    `set_findings`, `set_read_only`, `jump_to_line`, `changed`; plus `select_trajectory(row)`,
    `select_turn(i)`, `set_replay(job_runner, backend_name, before_replay)`, `replay()`."""

    changed = Signal()

    def __init__(
        self, role: str, root: Path | None, tasks_file: str = "tasks.jsonl", parent=None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("trajectoryEditor")
        self.role = role
        self.root = root
        self.tasks_file = tasks_file
        self.doc = tdoc.parse("")
        self.row = 0
        self.turn: int | None = None
        self.context = tdoc.PackageContext({}, None)
        self.undo_stack = QUndoStack(self)
        self._findings: list[Finding] = []
        self._overall: list[str] = []  # problems of the whole trajectory (not of one turn)
        self._replay_title = ""
        self._read_only = False
        self._job: ReplayJob | None = None
        self._before_replay: Callable[[], object] | None = None
        self.chat = ChatColumn()
        self.turn_editor = TurnEditor()
        self.replay_view = ReplayView()
        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_edit_page())
        self.pages.addWidget(self.replay_view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
        self._connect()

    # -- building -----------------------------------------------------------------------

    def _build_edit_page(self) -> QWidget:
        self.picker = QComboBox()
        self.picker.setObjectName("trajectoryPicker")
        self.picker.setToolTip("Which trajectory (line of the file) to edit")
        self.task_choice = QComboBox()
        self.task_choice.setObjectName("trajectoryTask")
        self.task_choice.setToolTip("The task this trajectory answers (its task_id)")
        self.note = QLineEdit()
        self.note.setObjectName("trajectoryNote")
        self.note.setPlaceholderText("Why this answer is wrong (the note of a negative)")
        self.note.setVisible(self.role == "negatives")
        top = QHBoxLayout()
        top.setContentsMargins(8, 6, 8, 0)
        top.addWidget(QLabel("Trajectory"))
        top.addWidget(self.picker, 3)
        top.addSpacing(8)
        top.addWidget(QLabel("Task"))
        top.addWidget(self.task_choice, 1)
        self.task_header = QLabel()
        self.task_header.setObjectName("trajectoryTaskHeader")
        self.task_header.setWordWrap(True)
        self.task_header.setTextFormat(Qt.TextFormat.RichText)
        self.task_header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.task_header.setContentsMargins(10, 4, 10, 4)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.chat)
        split.addWidget(self.turn_editor)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([600, 420])
        self.problems = QLabel()
        self.problems.setObjectName("trajectoryProblems")
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.RichText)
        self.problems.setContentsMargins(10, 2, 10, 4)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        if self.role == "negatives":
            note_row = QHBoxLayout()
            note_row.setContentsMargins(8, 0, 8, 0)
            note_row.addWidget(QLabel("Note"))
            note_row.addWidget(self.note, 1)
            layout.addLayout(note_row)
        layout.addWidget(self.task_header)
        layout.addLayout(self._build_toolbar())
        layout.addWidget(split, 1)
        layout.addWidget(self.problems)
        return page

    def _build_toolbar(self) -> QHBoxLayout:
        self.new_button = _tool(
            "New trajectory", "Add a trajectory for this task", self.add_trajectory
        )
        self.add_assistant_button = _tool(
            "+ Assistant turn", "Add an assistant turn after the selected one", self.add_assistant
        )
        self.add_user_button = _tool(
            "+ User turn",
            "Add a recorded user reply after the selected turn (a persona's words)",
            self.add_user,
        )
        self.up_button = _tool(
            "↑", "Move the selected turn up (Alt+Up)", lambda: self.move_turn(-1)
        )
        self.down_button = _tool(
            "↓", "Move the selected turn down (Alt+Down)", lambda: self.move_turn(1)
        )
        self.delete_button = _tool("Delete turn", "Delete the selected turn", self.delete_turn)
        self.undo_button = _tool("Undo", "Undo (Ctrl+Z)", self.undo_stack.undo)
        self.redo_button = _tool("Redo", "Redo (Ctrl+Shift+Z)", self.undo_stack.redo)
        self.undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.undo_stack.canRedoChanged.connect(self.redo_button.setEnabled)
        self.undo_button.setEnabled(False)
        self.redo_button.setEnabled(False)
        self.replay_button = _tool(
            "▶ Replay step by step",
            "Replay this trajectory in the sandbox: the reward and each criterion after every "
            "assistant turn",
            self.replay,
        )
        self.replay_button.setObjectName("primary")
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 2)
        bar.setSpacing(4)
        self._edit_buttons = (
            self.new_button,
            self.add_assistant_button,
            self.add_user_button,
            self.up_button,
            self.down_button,
            self.delete_button,
            self.undo_button,
            self.redo_button,
        )
        for index, button in enumerate(self._edit_buttons):
            if index in (1, 6):
                bar.addSpacing(10)
            bar.addWidget(button)
        bar.addStretch(1)
        bar.addWidget(self.replay_button)
        return bar

    def _connect(self) -> None:
        self.picker.currentIndexChanged.connect(self._picked)
        self.task_choice.activated.connect(
            lambda _i: self._set_task(self.task_choice.currentText())
        )
        self.note.textEdited.connect(self._set_note)
        self.chat.bubble_clicked.connect(self.select_turn)
        self.turn_editor.content_edited.connect(self._set_content)
        self.turn_editor.call_edited.connect(self._set_call)
        self.turn_editor.call_removed.connect(self._remove_call)
        self.turn_editor.call_added.connect(self.add_call)
        self.replay_view.back_requested.connect(lambda: self.pages.setCurrentIndex(0))
        for sequence, slot in (
            (QKeySequence.StandardKey.Undo, self.undo_stack.undo),
            (QKeySequence.StandardKey.Redo, self.undo_stack.redo),
            ("Alt+Up", lambda: self.move_turn(-1)),
            ("Alt+Down", lambda: self.move_turn(1)),
        ):
            action = self.addAction("")
            action.setShortcut(QKeySequence(sequence))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)

    # -- the file -----------------------------------------------------------------------

    def load_text(self, text: str) -> None:
        self.doc = tdoc.parse(text)
        self.undo_stack.clear()
        self.row = min(self.row, max(0, len(self.doc.rows) - 1))
        self.turn = 0 if self.turns() else None
        self._show_all()

    def replace_text(self, text: str, label: str = "Edit as text") -> None:
        if text == self.doc.text():
            return
        before = self._snapshot()
        self.doc = tdoc.parse(text)
        self.row = min(self.row, max(0, len(self.doc.rows) - 1))
        self.undo_stack.push(_Edit(self, label, before, self._snapshot(), None))
        self._show_all()
        self.changed.emit()

    def text(self) -> str:
        return self.doc.text()

    def set_findings(self, findings: list[Finding]) -> None:
        self._findings = list(findings)
        self._show_problems()

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        for button in self._edit_buttons:
            button.setVisible(not read_only)
        self.note.setReadOnly(read_only)
        self.task_choice.setEnabled(not read_only)
        self.turn_editor.set_read_only(read_only)

    def jump_to_line(self, line: int) -> bool:
        row = self.doc.index_at_line(line)
        if row is None:
            return False
        self.select_trajectory(row)
        return True

    def shutdown(self) -> None:
        if self._job is not None:
            self._job.close()

    # -- selection ----------------------------------------------------------------------

    def select_trajectory(self, row: int) -> None:
        if 0 <= row < len(self.doc.rows):
            self.row = row
            turns = tdoc.turns_of(self.doc, row)
            self.turn = 0 if turns else None
            self._show_all()

    def select_turn(self, index: int | None) -> None:
        turns = self.turns()
        self.turn = index if index is not None and 0 <= index < len(turns) else None
        self.chat.select(self.turn)
        self._show_turn_editor()
        self._sync_buttons()

    def turns(self) -> list[dict[str, Any]]:
        return tdoc.turns_of(self.doc, self.row) if self.doc.rows else []

    def _picked(self, index: int) -> None:
        if index >= 0 and index != self.row:
            self.select_trajectory(index)

    # -- edits --------------------------------------------------------------------------

    def _edit(self, label: str, change, key=None, turn=...) -> None:
        """Apply `change(record)` to the current trajectory's line, as one undoable step."""
        if self._read_only or not self.doc.rows or not self.doc.rows[self.row].valid:
            return
        record = tdoc.record(self.doc, self.row)
        before = self._snapshot()
        change(record)
        if record == self.doc.rows[self.row].value:
            return
        self.doc.set(self.row, record)
        if turn is not ...:
            self.turn = turn
        self.undo_stack.push(_Edit(self, label, before, self._snapshot(), key))
        if key is None:
            self._show_all()
        else:  # typing: the field being typed in keeps its cursor
            self._show_bubbles()
            self._show_picker()
        self.changed.emit()

    def _set_content(self, text: str) -> None:
        if self.turn is not None:
            key = ("content", self.row, self.turn)
            self._edit(
                "Edit the turn's text", partial(edits.set_content, index=self.turn, text=text), key
            )

    def _set_call(self, number: int, name: str, arguments: dict[str, Any]) -> None:
        if self.turn is not None:
            change = partial(
                edits.set_call, index=self.turn, number=number, name=name, arguments=arguments
            )
            self._edit("Edit a tool call", change, key=("call", self.row, self.turn, number))

    def _remove_call(self, number: int) -> None:
        if self.turn is not None:
            self._edit(
                "Remove a tool call", partial(edits.remove_call, index=self.turn, number=number)
            )

    def add_call(self, name: str) -> None:
        """Add a call of tool `name` to the selected assistant turn, its required parameters
        filled with empty values of their types."""
        tools = self.context.tools
        arguments = tdoc.skeleton(tools.get(name) if tools is not None else None)
        if self.turn is not None and name and self.turns()[self.turn].get("role") == "assistant":
            change = partial(edits.add_call, index=self.turn, name=name, arguments=arguments)
            self._edit(f"Add a call of {name}", change)

    def _insert_turn(self, turn: dict[str, Any], label: str) -> None:
        at = (self.turn + 1) if self.turn is not None else len(self.turns())
        self._edit(label, partial(edits.insert_turn, at=at, turn=turn), turn=at)

    def add_assistant(self) -> None:
        self._insert_turn({"role": "assistant", "content": ""}, "Add an assistant turn")

    def add_user(self) -> None:
        self._insert_turn({"role": "user", "content": ""}, "Add a user turn")

    def delete_turn(self) -> None:
        if self.turn is None:
            return
        after = min(self.turn, len(self.turns()) - 2)
        change = partial(edits.delete_turn, index=self.turn)
        self._edit("Delete a turn", change, turn=after if after >= 0 else None)

    def move_turn(self, step: int) -> None:
        if self.turn is None or not 0 <= self.turn + step < len(self.turns()):
            return
        change = partial(edits.move_turn, index=self.turn, step=step)
        self._edit("Move a turn", change, turn=self.turn + step)

    def _set_note(self, text: str) -> None:
        change = partial(edits.set_field, key="note", value=text)
        self._edit("Edit the note", change, key=("note", self.row))

    def _set_task(self, task_id: str) -> None:
        self._edit("Change the task", partial(edits.set_field, key="task_id", value=task_id))

    def add_trajectory(self) -> None:
        """A new line for the current task, with one empty assistant turn to start from."""
        if self._read_only:
            return
        current = tdoc.record(self.doc, self.row) if self.doc.rows else {}
        task_id = current.get("task_id") or next(iter(self.context.tasks), "")
        value: dict[str, Any] = {
            "task_id": task_id,
            "turns": [{"role": "assistant", "content": ""}],
        }
        if self.role == "negatives":
            value["note"] = ""
        before = self._snapshot()
        self.row = self.doc.insert(self.row + 1 if self.doc.rows else 0, value)
        self.turn = 0
        self.undo_stack.push(_Edit(self, "New trajectory", before, self._snapshot(), None))
        self._show_all()
        self.changed.emit()

    def _snapshot(self) -> tuple[str, int, int | None]:
        return self.doc.text(), self.row, self.turn

    def _restore(self, snapshot: tuple[str, int, int | None]) -> None:
        text, self.row, self.turn = snapshot
        self.doc = tdoc.parse(text)
        self._show_all()
        self.changed.emit()

    # -- showing ------------------------------------------------------------------------

    def _show_all(self) -> None:
        if self.root is not None:
            self.context = tdoc.read_context(self.root, self.tasks_file)
        self._show_picker()
        record = tdoc.record(self.doc, self.row) if self.doc.rows else {}
        task_id = str(record.get("task_id") or "")
        with QSignalBlocker(self.task_choice):
            self.task_choice.clear()
            ids = list(self.context.tasks)
            self.task_choice.addItems(ids if task_id in ids or not task_id else [*ids, task_id])
            self.task_choice.setCurrentText(task_id)
        if self.note.text() != str(record.get("note") or ""):
            self.note.setText(str(record.get("note") or ""))
        self.task_header.setText(
            task_html(self.context.tasks.get(task_id), task_id) if self.doc.rows else ""
        )
        self._show_bubbles(rebuild=True)
        self._show_turn_editor()
        self._sync_buttons()

    def _show_picker(self) -> None:
        labels = [entry.label() for entry in tdoc.entries(self.doc)]
        with QSignalBlocker(self.picker):
            if [self.picker.itemText(i) for i in range(self.picker.count())] != labels:
                self.picker.clear()
                self.picker.addItems(labels)
            self.picker.setCurrentIndex(self.row if labels else -1)

    def _show_bubbles(self, rebuild: bool = False) -> None:
        turns = self.turns()
        per_turn, overall = tdoc.turn_problems(turns, self.context.tools)
        specs = [turn_spec(i, turn, per_turn.get(i, [])) for i, turn in enumerate(turns)]
        shown = [b for b in self.chat.bubbles if b.index >= 0]
        if rebuild or len(specs) != len(shown):
            task = self._task()
            if task is None:
                self.chat.set_bubbles(specs)
            else:  # the task's prompt opens the conversation; it is edited in the tasks file
                prompt = BubbleSpec("prompt", "Task prompt (from the tasks file)", "")
                prompt.body_html = text_html(task.get("prompt"))
                self.chat.set_bubbles([prompt, *specs], first_index=-1)
        else:
            for bubble in shown:
                bubble.update_spec(specs[bubble.index])
        self.chat.select(self.turn)
        self._overall = overall
        self._show_problems()

    def _task(self) -> dict[str, Any] | None:
        task_id = tdoc.record(self.doc, self.row).get("task_id") if self.doc.rows else None
        return self.context.tasks.get(task_id) if isinstance(task_id, str) else None

    def _show_problems(self) -> None:
        lines = list(self._overall)
        tools = self.context.tools
        if tools is not None and tools.error:
            lines.insert(0, f"{tools.error} (line {tools.error_line})")
        if self.doc.rows and not self.doc.rows[self.row].valid:
            lines.append(f"this line is not valid JSON: {self.doc.rows[self.row].error}")
        line = self.doc.line_of(self.row) if self.doc.rows else None
        lines += [f.message for f in self._findings if line is not None and f.line == line]
        if not self.doc.rows:
            lines = ["No trajectory yet: press “New trajectory”."]
        self.problems.setText(
            "".join(f"<div style='color:{_ERROR}'>⚠ {html.escape(x)}</div>" for x in lines)
        )
        self.problems.setVisible(bool(lines))

    def _show_turn_editor(self) -> None:
        turns = self.turns()
        turn = turns[self.turn] if self.turn is not None and self.turn < len(turns) else None
        self.turn_editor.show_turn(
            self.turn if turn is not None else None, turn, self.context.tools
        )

    def _sync_buttons(self) -> None:
        count = len(self.turns())
        chosen = self.turn is not None
        valid = bool(self.doc.rows) and self.doc.rows[self.row].valid
        for button in (self.add_assistant_button, self.add_user_button):
            button.setEnabled(valid)
        self.up_button.setEnabled(chosen and self.turn > 0)
        self.down_button.setEnabled(chosen and self.turn < count - 1)
        self.delete_button.setEnabled(chosen)
        self.replay_button.setEnabled(valid and count > 0 and self._job is not None)
        if self._job is None:
            self.replay_button.setToolTip("Replay runs in the Workspace of the app window.")

    # -- replay -------------------------------------------------------------------------

    def set_replay(self, job_runner, backend_name: Callable[[], str], before_replay=None) -> None:
        """Where replays run: the window's worker threads, the sandbox Settings choose."""
        self._job = ReplayJob(job_runner, backend_name, self)
        self._before_replay = before_replay
        self._job.finished.connect(self._replayed)
        self._job.failed.connect(self.replay_view.show_error)
        self._job.cancelled.connect(lambda: self.replay_view.show_problem("Cancelled."))
        self.replay_view.cancel_requested.connect(self._job.cancel)
        self._sync_buttons()

    def replay(self) -> None:
        if self._job is None or self._job.running or self.root is None or not self.doc.rows:
            return
        record = tdoc.record(self.doc, self.row)
        self.pages.setCurrentWidget(self.replay_view)
        self._replay_title = tdoc.entries(self.doc)[self.row].label()
        self.replay_view.show_running(self._replay_title)
        try:
            checked_turns(record.get("turns"))
        except UserError as exc:
            self.replay_view.show_error(exc)
            return
        if self._before_replay is not None:
            self._before_replay()
        self._job.start(self.root, str(record.get("task_id") or ""), record.get("turns"))

    def _replayed(self, replay) -> None:
        self.replay_view.show_replay(replay, self._replay_title)


def _tool(text: str, tip: str, slot) -> QToolButton:
    button = QToolButton(text=text, toolTip=tip)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setAutoRaise(True)
    button.clicked.connect(slot)
    return button
