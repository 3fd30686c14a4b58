"""The review threads of one submission, for the reviewer and the author alike.

Outdated threads (the lines they were about changed) come first and are never hidden; then
the open ones (with new threads still waiting to sync); then the resolved ones, collapsed.
Reply, Resolve and Reopen queue a change in the sync engine's outbox and emit `changed` (the
window syncs and then calls `refresh`). Changes the platform refused are shown on top with
the server's words and the text the user wrote, to send again or discard.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QScrollArea, QToolButton, QVBoxLayout, QWidget

from app.errors import UserError
from app.ui.review.outbox_view import split_entries
from app.ui.review.review_widgets import RefusalBox
from app.ui.review.thread_card import WAITING, ThreadCard, ThreadView
from app.ui.widgets import EmptyState, PageHeader

READ_ONLY = "Read-only: connect to the platform (Settings → Platform) to reply or resolve."
_OUTDATED_HINT = "They stay here until someone resolves them: check each against the new text."
_REFUSAL_HINT = (
    "Your text is kept until you send it again or discard it. 'Send again' helps once the "
    "cause is fixed (e.g. you were assigned meanwhile); otherwise discard it."
)


class ThreadsPanel(QWidget):
    thread_activated = Signal(object)  # a Thread: the window moves the editor to its lines
    suggestion_requested = Signal(object)  # a Thread whose suggestion the user wants applied
    changed = Signal()  # a change was queued: the window syncs
    problem = Signal(object)  # a UserError to show

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = None
        self.engine = None
        self.submission_id: str | None = None
        self.revision: int | None = None
        self.cards: dict[str, ThreadCard] = {}
        self.applies_suggestions = False  # the author's panel: "Apply suggestion" is offered
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.header = PageHeader("Review threads", "")
        layout.addWidget(self.header)
        self.refusals = RefusalBox()
        self.refusals.retry_requested.connect(self._retry)
        self.refusals.discard_requested.connect(self._discard)
        layout.addWidget(self.refusals)
        self.empty = EmptyState("No review threads", "Open a submission to see its threads.")
        layout.addWidget(self.empty)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout.addWidget(self.scroll, 1)
        self.resolved_toggle: QToolButton | None = None  # "Resolved · n", when there are any
        self._resolved_open = False  # kept across refreshes
        self._resolved_box: QWidget | None = None
        self._show_content(False)

    # -- what to show ---------------------------------------------------------------------------

    def set_store(self, store) -> None:
        self.store = store
        self.refresh()

    def set_engine(self, engine) -> None:
        """The SyncEngine that queues replies and resolves; None makes the panel read-only."""
        self.engine = engine
        if engine is not None and self.store is None:
            self.store = engine.store
        self.refresh()

    def show_submission(self, submission_id: str | None, revision: int | None = None) -> None:
        self.submission_id, self.revision = submission_id, revision
        self.refresh()

    def refresh(self) -> None:
        """Re-read the threads and the outbox (after a sync, or a change queued here)."""
        if self.store is None or not self.submission_id:
            self.header.subtitle.setVisible(False)
            self.refusals.show_refusals([], "")
            self._show_content(False)
            return
        threads = self.store.reviews.threads_for(self.submission_id)
        waiting, refused = split_entries(self.store, self.engine, self.submission_id)
        self.refusals.show_refusals(refused, _REFUSAL_HINT)
        views = self._views(threads, waiting)
        outdated = [v for v in views if v.state == "outdated" and not v.resolved]
        open_ = [v for v in views if v.state != "outdated" and not v.resolved]
        resolved = [v for v in views if v.resolved]
        self._subtitle(len(open_), len(outdated), len(resolved))
        if not views:
            self.empty.set_text(
                "No review threads yet",
                "Select lines in a file, or a row in the task table, to start one.",
            )
            self._show_content(False)
            return
        self._show_content(True)
        self._build(outdated, open_, resolved)

    def _views(self, threads, waiting) -> list[ThreadView]:
        resolving = {
            e.payload.get("thread_id"): bool(e.payload.get("resolved"))
            for e in waiting
            if e.kind == "resolve"
        }
        views = []
        for thread in threads:
            note = ""
            if thread.id in resolving:
                note = ("resolving, " if resolving[thread.id] else "reopening, ") + WAITING
            views.append(ThreadView.of_thread(thread, note))
        me = self.engine.ctx.me if self.engine is not None else "you"
        views += [ThreadView.of_entry(e, me) for e in waiting if e.kind == "thread"]
        return views

    def _subtitle(self, open_: int, outdated: int, resolved: int) -> None:
        latest = self.store.submissions.get(self.submission_id)
        revision = self.revision or (latest.latest_revision if latest else None)
        parts = [f"Submission {self.submission_id}"]
        if revision:
            parts.append(f"revision {revision}")
        parts.append(f"{open_} open · {outdated} outdated · {resolved} resolved")
        if self.engine is None:
            parts.append("read-only")
        self.header.subtitle.setText(" · ".join(parts))
        self.header.subtitle.setVisible(True)

    def _show_content(self, has_threads: bool) -> None:
        self.empty.setVisible(not has_threads)
        self.scroll.setVisible(has_threads)

    # -- building the list ------------------------------------------------------------------------

    def _build(self, outdated, open_, resolved) -> None:
        self.cards = {}
        self.resolved_toggle = None
        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 4, 0)
        column.setSpacing(8)
        if outdated:
            column.addWidget(_section(f"Outdated (the lines changed) · {len(outdated)}"))
            column.addWidget(_hint(_OUTDATED_HINT))
            for view in outdated:
                column.addWidget(self._card(view))
        column.addWidget(_section(f"Open · {len(open_)}"))
        if not open_:
            column.addWidget(_hint("No open threads."))
        for view in open_:
            column.addWidget(self._card(view))
        self._resolved_box = QWidget()
        box = QVBoxLayout(self._resolved_box)
        box.setContentsMargins(0, 0, 0, 0)
        for view in resolved:
            box.addWidget(self._card(view))
        if resolved:
            self.resolved_toggle = self._new_toggle(len(resolved))
            column.addWidget(self.resolved_toggle)
            column.addWidget(self._resolved_box)
            self._resolved_box.setVisible(self._resolved_open)
        column.addStretch(1)
        self.scroll.setWidget(content)  # the old content is deleted with its cards

    def _new_toggle(self, count: int) -> QToolButton:
        was_open = self._resolved_open
        toggle = QToolButton()
        toggle.setCheckable(True)
        toggle.setChecked(was_open)
        toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toggle.setArrowType(Qt.ArrowType.DownArrow if was_open else Qt.ArrowType.RightArrow)
        toggle.setText(f"Resolved · {count}")
        toggle.setAutoRaise(True)
        toggle.toggled.connect(self._show_resolved)
        return toggle

    def _show_resolved(self, shown: bool) -> None:
        self._resolved_open = shown
        if self.resolved_toggle is not None:
            arrow = Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
            self.resolved_toggle.setArrowType(arrow)
        if self._resolved_box is not None:
            self._resolved_box.setVisible(shown)

    def _card(self, view: ThreadView) -> ThreadCard:
        card = ThreadCard(view, read_only_reason="" if self.engine is not None else READ_ONLY)
        card.activated.connect(self.thread_activated)
        card.suggestion_requested.connect(self.suggestion_requested)
        if not self.applies_suggestions and getattr(card, "apply_button", None) is not None:
            card.apply_button.hide()  # a reviewer proposes; only the author's copy can change
        card.reply_requested.connect(lambda thread, text: self._reply(card, thread, text))
        card.resolve_requested.connect(self._resolve)
        self.cards[view.key] = card
        return card

    # -- actions ----------------------------------------------------------------------------------

    def _reply(self, card: ThreadCard, thread, text: str) -> None:
        try:
            self.engine.queue_reply(thread.id, text, parent_id=card.view.opener_id)
        except UserError as exc:
            card.show_reply_error(f"{exc.message} {exc.hint}".strip())
            self.problem.emit(exc)
            return
        self._queued()

    def _resolve(self, thread, resolved: bool) -> None:
        self.engine.queue_resolve(thread.id, resolved)
        self._queued()

    def _retry(self, seq: int) -> None:
        self.engine.retry(seq)
        self._queued()

    def _discard(self, seq: int) -> None:
        self.engine.discard(seq)
        self.refresh()

    def _queued(self) -> None:
        self.refresh()
        self.changed.emit()


def _section(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("sectionTitle")
    return label


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("dimText")
    label.setWordWrap(True)
    return label
