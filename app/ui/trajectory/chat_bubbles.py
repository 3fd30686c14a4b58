"""A conversation drawn as chat bubbles: the user (and the task's prompt) on the left, the
assistant on the right, tool results under the call that made them, problems in red inside the
bubble they are about. Used by the trajectory editor (the author's turns) and the replay (the
replayed messages). Bubbles have their own light colours and dark text, so they read the same in
the light and dark themes.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from app.ui.trajectory.trajectory_doc import call_arguments_text, call_name

# kind -> (background, border, left-aligned)
_LOOK = {
    "prompt": ("#eef1f5", "#c9d1dc", True),
    "system": ("#f4f0fa", "#d3c6e8", True),
    "user": ("#eef1f5", "#c9d1dc", True),
    "assistant": ("#e3efff", "#a9c6f5", False),
    "tool": ("#fff8e6", "#e8d49a", True),
}
_TEXT = "#1f2430"
_DIM = "#5b6472"
_ERROR = "#b3261e"
_SELECTED = "#2f6fde"
ARGUMENT_CHARS = 400  # a call's arguments, cut in the bubble (the turn editor shows them whole)
RESULT_CHARS = 1200


@dataclass(slots=True)
class BubbleSpec:
    kind: str  # prompt | system | user | assistant | tool
    title: str
    body_html: str
    problems: list[str] = field(default_factory=list)
    new: bool = False  # the replay: a message this step added


def text_html(text: Any, limit: int | None = None) -> str:
    value = "" if text is None else str(text)
    if limit is not None and len(value) > limit:
        value = value[:limit] + f"… ({len(value) - limit} more characters)"
    return html.escape(value).replace("\n", "<br>")


def calls_html(calls: Any) -> str:
    """Each tool call as "▸ calls name" and its arguments, in monospace."""
    parts = []
    for call in calls if isinstance(calls, list) else []:
        arguments = call_arguments_text(call)
        try:
            arguments = json.dumps(json.loads(arguments), ensure_ascii=False)
        except ValueError:
            pass
        parts.append(
            f"<div style='margin-top:4px'>▸ calls <b>{html.escape(call_name(call) or '?')}</b>"
            f"<br><code style='color:{_DIM}'>{text_html(arguments, ARGUMENT_CHARS)}</code></div>"
        )
    return "".join(parts)


def turn_body(turn: Any) -> str:
    """An author's turn (or a replayed assistant message): its text, then its tool calls."""
    if not isinstance(turn, dict):
        return f"<i>{text_html(json.dumps(turn))}</i>"
    content = turn.get("content")
    text = text_html(content) if content else ""
    if not text and not turn.get("tool_calls"):
        text = f"<i style='color:{_DIM}'>(empty: type the message or add a tool call)</i>"
    return text + calls_html(turn.get("tool_calls"))


def message_spec(message: dict[str, Any], new: bool = False) -> BubbleSpec:
    """A replayed message (OpenAI chat format) as a bubble."""
    role = message.get("role")
    spec = _message_spec(message, role)
    if new:
        spec.new = True
        spec.title += " · new in this step"
    return spec


def _message_spec(message: dict[str, Any], role: Any) -> BubbleSpec:
    if role == "tool":
        content = str(message.get("content") or "")
        failed = content.startswith("Error:")
        body = text_html(content, RESULT_CHARS)
        if failed:
            body = f"<span style='color:{_ERROR}'>{body}</span>"
        return BubbleSpec("tool", f"Tool result · {message.get('name', '')}", body)
    if role == "assistant":
        return BubbleSpec("assistant", "Assistant", turn_body(message))
    if role == "system":
        return BubbleSpec("system", "System", text_html(message.get("content")))
    return BubbleSpec("user", "User", text_html(message.get("content")))


def turn_spec(index: int, turn: Any, problems: list[str]) -> BubbleSpec:
    role = turn.get("role") if isinstance(turn, dict) else None
    if role == "user":
        return BubbleSpec("user", f"Turn {index + 1} · User (recorded)", turn_body(turn), problems)
    title = f"Turn {index + 1} · Assistant" if role == "assistant" else f"Turn {index + 1} · {role}"
    return BubbleSpec(
        "assistant" if role == "assistant" else "user", title, turn_body(turn), problems
    )


def task_html(task: dict[str, Any] | None, task_id: str) -> str:
    """The task a trajectory answers: its system message, user and turn limit (its prompt is
    the conversation's first bubble)."""
    if task is None:
        return (
            f"<span style='color:{_ERROR}'>⚠ No task has the id {html.escape(task_id)!s}: "
            "choose the task this trajectory answers.</span>"
        )
    parts = []
    if isinstance(task.get("system"), str):
        parts.append(f"<b>System:</b> {text_html(task['system'])}")
    user = task.get("user")
    if isinstance(user, dict) and isinstance(user.get("persona"), str):
        model = f" (played by {html.escape(str(user['model']))})" if user.get("model") else ""
        parts.append(
            f"<b>User:</b> a persona{model}: <i>{text_html(user['persona'])}</i> — record its "
            "replies as user turns so a replay needs no model"
        )
    elif isinstance(user, list) and user:
        replies = "".join(f"<li>{text_html(u)}</li>" for u in user)
        parts.append(
            f"<b>User's scripted replies</b>, in order:<ol style='margin:0'>{replies}</ol>"
        )
    else:
        parts.append("<b>User:</b> no follow-up replies")
    parts.append(f"<b>At most</b> {html.escape(str(task.get('max_turns', 6)))} assistant turns")
    return "<br>".join(parts)


class ChatBubble(QFrame):
    clicked = Signal(int)

    def __init__(self, index: int, spec: BubbleSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.spec = spec
        self.setObjectName("chatBubble")
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setStyleSheet(f"color: {_TEXT}; background: transparent;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 8)
        layout.addWidget(self.label)
        self.selected = False
        self.update_spec(spec)

    def update_spec(self, spec: BubbleSpec) -> None:
        self.spec = spec
        problems = "".join(
            f"<div style='color:{_ERROR}; margin-top:4px'>⚠ {html.escape(p)}</div>"
            for p in spec.problems
        )
        self.label.setText(
            f"<div style='color:{_DIM}; font-size:small'><b>{html.escape(spec.title)}</b></div>"
            f"<div style='margin-top:2px'>{spec.body_html}</div>{problems}"
        )
        self._restyle()

    def set_selected(self, selected: bool) -> None:
        self.selected = selected
        self._restyle()

    def _restyle(self) -> None:
        background, border, _left = _LOOK.get(self.spec.kind, _LOOK["user"])
        if self.spec.problems:
            border = _ERROR
        width = 2 if self.selected or self.spec.new or self.spec.problems else 1
        if self.selected:
            border = _SELECTED
        self.setStyleSheet(
            f"QFrame#chatBubble {{ background: {background}; border: {width}px solid {border};"
            " border-radius: 10px; }"
        )

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.clicked.emit(self.index)
        super().mousePressEvent(event)


class ChatColumn(QScrollArea):
    """The bubbles, top to bottom; `bubble_clicked(index)` when one is clicked."""

    bubble_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setObjectName("chatColumn")
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        inner.setObjectName("chatInner")
        self._layout = QVBoxLayout(inner)
        self._layout.setContentsMargins(10, 10, 10, 10)
        self._layout.setSpacing(8)
        self._layout.addStretch(1)
        self.setWidget(inner)
        self.bubbles: list[ChatBubble] = []

    def set_bubbles(self, specs: list[BubbleSpec], first_index: int = 0) -> None:
        """Show `specs`; bubble i reports index first_index + i when clicked."""
        for bubble in self.bubbles:
            row = bubble.parentWidget()
            self._layout.removeWidget(row)
            row.hide()  # gone now, not when the event loop gets round to deleting it
            row.deleteLater()
        self.bubbles = []
        for offset, spec in enumerate(specs):
            bubble = ChatBubble(first_index + offset, spec)
            bubble.clicked.connect(self.bubble_clicked)
            self._layout.insertWidget(self._layout.count() - 1, _aligned(bubble))
            self.bubbles.append(bubble)

    def bubble(self, index: int) -> ChatBubble | None:
        return next((b for b in self.bubbles if b.index == index), None)

    def select(self, index: int | None) -> None:
        for bubble in self.bubbles:
            bubble.set_selected(bubble.index == index)
        chosen = self.bubble(index) if index is not None else None
        if chosen is not None:
            self.ensureWidgetVisible(chosen.parentWidget(), 0, 40)

    def scroll_to_end(self) -> None:
        self.widget().layout().activate()  # the new bubbles' height, before scrolling
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())


def _aligned(bubble: ChatBubble) -> QWidget:
    """The bubble in a row: 85% of the width, on its speaker's side."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    left = _LOOK.get(bubble.spec.kind, _LOOK["user"])[2]
    if not left:
        layout.addStretch(15)
    layout.addWidget(bubble, 85)
    if left:
        layout.addStretch(15)
    return row
