"""The selected turn, editable: its text and, for an assistant turn, its tool calls.

Each tool call is a box: the tool (from tools.py, read with `ast`), its schema (parameters,
types, descriptions), and the arguments as JSON. The arguments are checked as they are typed:
text that is not a JSON object stays on screen in red and is not written to the file; a JSON
object that does not fit the tool (a wrong parameter name, a missing one) is written, since a
negative may call a tool wrongly on purpose, and the box says what does not fit.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.envpack.tool_schemas import ToolSchema, ToolsFile, fitting_problem
from app.ui.trajectory.trajectory_doc import call_arguments_text, call_name, parse_arguments

ERROR_STYLE = "color: #b3261e;"
OK_STYLE = "color: #2e7d32;"


def schema_html(tool: ToolSchema | None, name: str) -> str:
    if tool is None:
        return f"<span style='{ERROR_STYLE}'>tools.py has no tool named {html.escape(name)}.</span>"
    rows = "".join(
        f"<tr><td><code>{html.escape(p.name)}</code></td>"
        f"<td>{html.escape(str(p.schema.get('type', 'any')))}</td>"
        f"<td>{'required' if p.required else 'optional'}</td>"
        f"<td>{html.escape(str(p.schema.get('description', '')))}</td></tr>"
        for p in tool.params
    )
    table = (
        "<table cellspacing='0' cellpadding='2'><tr><th align='left'>parameter</th>"
        f"<th align='left'>type</th><th></th><th align='left'>description</th></tr>{rows}</table>"
        if rows
        else "<br><i>no parameters: the arguments are {}</i>"
    )
    signature = html.escape(tool.signature())
    return f"<b><code>{signature}</code></b><br>{html.escape(tool.description)}{table}"


class ToolCallBox(QFrame):
    """One tool call: `edited(name, arguments)` when it holds a JSON object, `removed()`."""

    edited = Signal(str, object)
    removed = Signal()

    def __init__(self, number: int, call: Any, tools: ToolsFile | None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("toolCallBox")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.tools = tools
        self.title = QLabel(f"<b>Tool call {number}</b>")
        self.tool = QComboBox()
        self.tool.setObjectName("toolChoice")
        self.tool.setEditable(False)
        self.tool.setToolTip("The tool to call: the public functions of tools.py")
        names = [t.name for t in tools.tools] if tools is not None else []
        name = call_name(call)
        self.tool.addItems(names if name in names or not name else [*names, name])
        self.tool.setCurrentText(name)
        self.remove_button = QPushButton("Remove call")
        self.remove_button.setObjectName("flat")
        self.remove_button.clicked.connect(self.removed)
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addWidget(self.tool, 1)
        top.addWidget(self.remove_button)
        self.schema = QLabel()
        self.schema.setObjectName("toolSchema")
        self.schema.setWordWrap(True)
        self.schema.setTextFormat(Qt.TextFormat.RichText)
        self.arguments = QPlainTextEdit(call_arguments_text(call))
        self.arguments.setObjectName("toolArguments")
        self.arguments.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.arguments.setPlaceholderText('{"parameter": "value"}')
        self.arguments.setFixedHeight(96)
        self.problem = QLabel()
        self.problem.setObjectName("callProblem")
        self.problem.setWordWrap(True)
        # Never squeezed by the scroll area: the schema and the problem stay readable.
        for label in (self.schema, self.problem):
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSizeConstraint(QVBoxLayout.SizeConstraint.SetMinimumSize)
        layout.addLayout(top)
        layout.addWidget(self.schema)
        layout.addWidget(QLabel("Arguments (JSON):"))
        layout.addWidget(self.arguments)
        layout.addWidget(self.problem)
        self.tool.currentTextChanged.connect(lambda _t: self._changed())
        self.arguments.textChanged.connect(self._changed)
        self._check()

    def set_read_only(self, read_only: bool) -> None:
        self.tool.setEnabled(not read_only)
        self.arguments.setReadOnly(read_only)
        self.remove_button.setVisible(not read_only)

    def _selected_tool(self) -> ToolSchema | None:
        return self.tools.get(self.tool.currentText()) if self.tools is not None else None

    def _check(self) -> dict[str, Any] | None:
        """Show the schema and what is wrong; the arguments when they are a JSON object."""
        name = self.tool.currentText()
        tool = self._selected_tool()
        self.schema.setText(schema_html(tool, name))
        arguments, why = parse_arguments(self.arguments.toPlainText())
        if arguments is None:
            self._say(f"⚠ Not saved: the arguments are {why}.", ERROR_STYLE)
            return None
        problem = fitting_problem(tool, arguments) if tool is not None else ""
        if problem:
            self._say(f"⚠ The arguments do not fit {tool.signature()}: {problem}.", ERROR_STYLE)
        elif tool is not None:
            self._say(f"✓ Fits {tool.signature()}", OK_STYLE)
        else:
            self._say("⚠ Choose a tool that tools.py defines.", ERROR_STYLE)
        return arguments

    def _say(self, text: str, style: str) -> None:
        self.problem.setText(text)
        self.problem.setStyleSheet(style)

    def _changed(self) -> None:
        arguments = self._check()
        if arguments is not None:
            self.edited.emit(self.tool.currentText(), arguments)


class TurnEditor(QScrollArea):
    """The selected turn. Signals carry what changed; the owner edits the file."""

    content_edited = Signal(str)
    call_edited = Signal(int, str, object)  # call index, tool name, arguments
    call_removed = Signal(int)
    call_added = Signal(str)  # tool name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("turnEditor")
        self.setWidgetResizable(True)
        self.setMinimumWidth(360)
        inner = QWidget()
        self._layout = QVBoxLayout(inner)
        self._layout.setContentsMargins(10, 8, 10, 8)
        self.heading = QLabel("<b>Select a turn</b> in the conversation to edit it.")
        self.heading.setWordWrap(True)
        self.hint = QLabel(
            "Tool results are not written here: a replay gets them by running tools.py."
        )
        self.hint.setObjectName("dimText")
        self.hint.setWordWrap(True)
        self.content = QPlainTextEdit()
        self.content.setObjectName("turnContent")
        self.content.setPlaceholderText("What the assistant (or the user) says in this turn")
        self.content.setMinimumHeight(80)
        self.content.setMaximumHeight(160)
        self.content.textChanged.connect(
            lambda: self.content_edited.emit(self.content.toPlainText())
        )
        self.calls_box = QVBoxLayout()
        self.add_tool = QComboBox()
        self.add_tool.setObjectName("addToolChoice")
        self.add_call_button = QPushButton("+ Add tool call")
        self.add_call_button.setToolTip("Call the chosen tool in this turn")
        self.add_call_button.clicked.connect(
            lambda: self.call_added.emit(self.add_tool.currentText())
        )
        self.add_row = QWidget()
        add_layout = QHBoxLayout(self.add_row)
        add_layout.setContentsMargins(0, 0, 0, 0)
        add_layout.addWidget(QLabel("Call a tool:"))
        add_layout.addWidget(self.add_tool, 1)
        add_layout.addWidget(self.add_call_button)
        self._layout.addWidget(self.heading)
        self._layout.addWidget(self.hint)
        self._layout.addWidget(self.content)
        self._layout.addLayout(self.calls_box)
        self._layout.addWidget(self.add_row)
        self._layout.addStretch(1)
        self.setWidget(inner)
        self.boxes: list[ToolCallBox] = []
        self._read_only = False
        self.show_turn(None, None, None)

    def show_turn(self, index: int | None, turn: Any, tools: ToolsFile | None) -> None:
        """Fill the editor with turn `index` (None: nothing selected)."""
        for box in self.boxes:
            self.calls_box.removeWidget(box)
            box.hide()
            box.deleteLater()
        self.boxes = []
        is_turn = index is not None and isinstance(turn, dict)
        role = turn.get("role") if is_turn else None
        self.content.setVisible(is_turn)
        callable_tools = tools is not None and bool(tools.tools)  # no tools.py: nothing to call
        self.add_row.setVisible(role == "assistant" and not self._read_only and callable_tools)
        self.hint.setVisible(role == "assistant")
        if not is_turn:
            self.heading.setText("<b>Select a turn</b> in the conversation to edit it.")
            return
        who = {"assistant": "Assistant", "user": "User (recorded reply)"}.get(role, str(role))
        self.heading.setText(f"<b>Turn {index + 1} · {html.escape(who)}</b>")
        with QSignalBlocker(self.content):
            content = turn.get("content")
            self.content.setPlainText(content if isinstance(content, str) else "")
        self.add_tool.clear()
        self.add_tool.addItems([t.name for t in tools.tools] if tools is not None else [])
        self.add_call_button.setEnabled(self.add_tool.count() > 0)
        calls = turn.get("tool_calls") if role == "assistant" else None
        for number, call in enumerate(calls if isinstance(calls, list) else []):
            box = ToolCallBox(number + 1, call, tools)
            box.set_read_only(self._read_only)
            box.edited.connect(lambda name, args, n=number: self.call_edited.emit(n, name, args))
            box.removed.connect(lambda n=number: self.call_removed.emit(n))
            self.calls_box.addWidget(box)
            self.boxes.append(box)

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.content.setReadOnly(read_only)
        self.add_row.setVisible(self.add_row.isVisible() and not read_only)
        for box in self.boxes:
            box.set_read_only(read_only)
