"""One review thread as a card: where it is (a link that moves the editor there), severity,
author, the first comment as markdown, the replies, a suggested replacement as a diff, and
Reply (an inline box) / Resolve / Reopen."""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.sync.store import OutboxEntry
from app.ui.review.outbox_view import where
from app.ui.review.review_widgets import (
    MarkdownView,
    dim_label,
    severity_chip,
    suggestion_diff_html,
)
from app.ui.widgets import push_button

WAITING = "waiting to sync"
_STATE_NOTE = {
    "moved": "moved: the lines shifted since the comment",
    "outdated": "outdated: the lines it was about have changed",
}


@dataclass(frozen=True, slots=True)
class Reply:
    author: str
    body: str
    pending: bool = False


@dataclass(frozen=True, slots=True)
class ThreadView:
    """What a card shows, from a synced thread or from a new one still in the outbox."""

    key: str  # thread id, or "pending:<seq>"
    where: str
    severity: str
    author: str
    body: str
    replies: tuple[Reply, ...] = ()
    suggestion: str | None = None
    quote: str | None = None  # the lines the suggestion replaces, as first commented on
    state: str = "current"  # current | moved | outdated
    resolved: bool = False
    waiting: str = ""  # why it is marked "waiting to sync" (empty: it is synced)
    thread: object = None  # the store's Thread (None while the new thread waits to sync)
    opener_id: str | None = None  # the opening comment, the parent of replies

    @classmethod
    def of_thread(cls, thread, waiting: str = "") -> ThreadView:
        # The opening comment: replies written here name it as their parent, which orders
        # them even when both have the same timestamp (the platform's are to the second).
        synced = [c for c in thread.comments if not c.pending]
        roots = [c for c in synced if c.parent_id is None]
        first = roots[0] if roots else (synced[0] if synced else None)
        comments = [c for c in thread.comments if c is not first]
        anchor = thread.data.get("anchor") if isinstance(thread.data.get("anchor"), dict) else {}
        return cls(
            key=thread.id,
            where=where(thread.file, thread.start_line, thread.end_line, thread.task_id),
            severity=thread.severity,
            author=first.author if first else thread.author,
            body=first.body if first else "",
            replies=tuple(Reply(c.author, c.body, c.pending) for c in comments),
            suggestion=thread.suggestion,
            quote=anchor.get("quote"),
            state=thread.anchor_state,
            resolved=thread.resolved,
            waiting=waiting,
            thread=thread,
            opener_id=first.id if first else None,
        )

    @classmethod
    def of_entry(cls, entry: OutboxEntry, me: str) -> ThreadView:
        p = entry.payload
        return cls(
            key=f"pending:{entry.seq}",
            where=where(p.get("path"), p.get("start_line"), p.get("end_line"), p.get("task_id")),
            severity=str(p.get("severity") or "normal"),
            author=me,
            body=str(p.get("body") or ""),
            suggestion=p.get("suggestion"),
            waiting="new thread, " + WAITING,
        )


class ThreadCard(QFrame):
    activated = Signal(object)  # the Thread
    suggestion_requested = Signal(object)
    reply_requested = Signal(object, str)  # the Thread, the text
    resolve_requested = Signal(object, bool)  # the Thread, resolved?

    def __init__(
        self, view: ThreadView, *, read_only_reason: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.view = view
        self.setObjectName("threadCard")
        edge = {"outdated": "#d92d20", "moved": "#f79009"}.get(view.state, "#98a2b3")
        self.setStyleSheet(
            "QFrame#threadCard { border: 1px solid palette(mid); border-radius: 6px; "
            f"border-left: 4px solid {edge}; }}"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        layout.addLayout(self._header())
        if view.state in _STATE_NOTE and not view.resolved:
            note = dim_label(_STATE_NOTE[view.state])
            note.setObjectName("anchorNote")
            layout.addWidget(note)
        self.body = MarkdownView(view.body)
        layout.addWidget(self.body)
        for reply in view.replies:
            layout.addWidget(self._reply(reply))
        if view.suggestion is not None:
            layout.addWidget(self._suggestion())
        self.reply_box = self._reply_box()
        layout.addWidget(self.reply_box)
        self._actions(layout, read_only_reason)

    # -- parts --------------------------------------------------------------------------------

    def _header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        row.addWidget(severity_chip(self.view.severity))
        self.location = QLabel(
            f"<a href='#'>{html.escape(self.view.where)}</a>"
            if self.view.thread is not None
            else html.escape(self.view.where)
        )
        self.location.setToolTip("Show these lines in the editor")
        self.location.linkActivated.connect(lambda _link: self.activated.emit(self.view.thread))
        row.addWidget(self.location)
        row.addWidget(dim_label(f"by {self.view.author}"))
        row.addStretch(1)
        self.waiting_label = dim_label(f"{self.view.waiting}" if self.view.waiting else "")
        self.waiting_label.setVisible(bool(self.view.waiting))
        row.addWidget(self.waiting_label)
        return row

    def _reply(self, reply: Reply) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(16, 2, 0, 0)
        layout.setSpacing(0)
        mark = f" · {WAITING}" if reply.pending else ""
        layout.addWidget(dim_label(f"{reply.author} replied{mark}"))
        layout.addWidget(MarkdownView(reply.body))
        return box

    def _suggestion(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.addWidget(dim_label("Suggested replacement:"))
        diff = QLabel(suggestion_diff_html(self.view.quote, self.view.suggestion or ""))
        diff.setTextFormat(Qt.TextFormat.RichText)
        diff.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        diff.setObjectName("suggestionDiff")
        layout.addWidget(diff)
        return box

    def _reply_box(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 4, 0, 0)
        self.reply_edit = QPlainTextEdit()
        self.reply_edit.setPlaceholderText("Write a reply (markdown)…")
        self.reply_edit.setFixedHeight(70)
        layout.addWidget(self.reply_edit)
        self.reply_error = QLabel()
        self.reply_error.setStyleSheet("color: #d92d20;")
        self.reply_error.setVisible(False)
        layout.addWidget(self.reply_error)
        send = push_button("Send reply", self._send_reply, primary=True)
        cancel = push_button("Cancel", self._cancel_reply)
        row = QHBoxLayout()
        row.addWidget(send)
        row.addWidget(cancel)
        row.addStretch(1)
        layout.addLayout(row)
        box.setVisible(False)
        return box

    def _actions(self, layout: QVBoxLayout, read_only_reason: str) -> None:
        row = QHBoxLayout()
        self.reply_button = QPushButton("Reply")
        self.reply_button.clicked.connect(self.open_reply)
        resolved = self.view.resolved
        self.resolve_button = QPushButton("Reopen" if resolved else "Resolve")
        self.resolve_button.clicked.connect(
            lambda: self.resolve_requested.emit(self.view.thread, not resolved)
        )
        self.apply_button = QPushButton("Apply suggestion")
        self.apply_button.setToolTip("Replace the lines with the suggestion (undo with Ctrl+Z)")
        self.apply_button.clicked.connect(lambda: self.suggestion_requested.emit(self.view.thread))
        self.apply_button.setVisible(self.view.suggestion is not None and not resolved)
        for button in (self.reply_button, self.resolve_button, self.apply_button):
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        if self.view.thread is None:  # still in the outbox: nothing to act on yet
            reason = "This thread is not on the platform yet; it is sent with the next sync."
            read_only_reason = read_only_reason or reason
        if read_only_reason:
            for button in (self.reply_button, self.resolve_button):
                button.setEnabled(False)
                button.setToolTip(read_only_reason)

    # -- replying -------------------------------------------------------------------------------

    def open_reply(self) -> None:
        self.reply_box.setVisible(True)
        self.reply_edit.setFocus()

    def show_reply_error(self, message: str) -> None:
        self.reply_error.setText(message)
        self.reply_error.setVisible(True)

    def _send_reply(self) -> None:
        text = self.reply_edit.toPlainText()
        if not text.strip():
            self.show_reply_error("The reply is empty: write something before sending.")
            return
        self.reply_requested.emit(self.view.thread, text)

    def _cancel_reply(self) -> None:
        self.reply_edit.clear()
        self.reply_error.setVisible(False)
        self.reply_box.setVisible(False)
