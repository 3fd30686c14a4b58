"""The author's side of review in the Workspace: the "Review" tab beside the gauntlet, the
reviewers' threads as gutter markers, and applying a suggested replacement.

The open package's submission is the author's own submission to the bounty the package
answers (env.toml, else the draft it was started from, as when submitting). Its threads are
shown in a ThreadsPanel and, unresolved, as ReviewAnnotations in the editor; outdated ones sit
at the lines they were written on. Replies and resolves queue in the sync engine and sync now.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from app.editor.annotations import AnnotationState, ReviewAnnotation, text_with_suggestion
from app.errors import UserError
from app.ui.review.threads_panel import ThreadsPanel

log = logging.getLogger(__name__)

HIGHLIGHT_MS = 1600
_HIGHLIGHT = "QFrame#threadCard { background: rgba(255, 196, 0, 0.22); }"
_NOTICE_STYLE = {
    "ok": "background: #ecfdf3; color: #05603a; border: 1px solid #abefc6;",
    "error": "background: #fef3f2; color: #b42318; border: 1px solid #fecdca;",
}


def annotations_for(threads) -> list[ReviewAnnotation]:
    """Gutter markers for the unresolved threads that point at lines of a file."""
    marks = []
    for thread in threads:
        if thread.resolved or not thread.file or thread.start_line is None:
            continue
        first = thread.comments[0] if thread.comments else None
        marks.append(
            ReviewAnnotation(
                file=thread.file,
                start_line=int(thread.start_line),
                end_line=int(thread.end_line or thread.start_line),
                author=first.author if first else thread.author,
                body=first.body if first else "",
                state=AnnotationState(thread.anchor_state)
                if thread.anchor_state in tuple(AnnotationState)
                else AnnotationState.CURRENT,
                thread_id=thread.id,
            )
        )
    return marks


def _lines(start: int, end: int) -> str:
    return f"line {start}" if end <= start else f"lines {start}–{end}"


class AuthorReview(QObject):
    """Wires a WorkspaceView, a ThreadsPanel and the tab widget holding it to the platform."""

    def __init__(self, workspace, tabs: QTabWidget, platform=None, parent=None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.tabs = tabs
        self.platform = platform
        self.store = None
        self.submission = None
        self.highlighted: str | None = None  # the thread id flashed last (for tests, too)
        self._flash = QTimer(self)  # ends the highlight of the card a marker click opened
        self._flash.setSingleShot(True)
        self._flash.setInterval(HIGHLIGHT_MS)
        self._flash.timeout.connect(self._unflash)
        self._unflash_style: tuple[object, str] | None = None
        self.page = QWidget()
        layout = QVBoxLayout(self.page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.notice = QLabel()
        self.notice.setObjectName("reviewNotice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        layout.addWidget(self.notice)
        self.panel = ThreadsPanel()
        layout.addWidget(self.panel, 1)
        self.index = tabs.addTab(self.page, "Review")
        self.panel.thread_activated.connect(self.show_thread_lines)
        self.panel.applies_suggestions = True
        self.panel.suggestion_requested.connect(self.apply_suggestion)
        self.panel.changed.connect(self._sync_now)
        workspace.annotation_clicked.connect(self.open_thread)
        if platform is not None:
            platform.synced.connect(self._on_synced)

    # -- what to show -----------------------------------------------------------------------

    def set_store(self, store) -> None:
        self.store = store
        self.refresh()

    def refresh(self) -> None:
        """Find the open package's submission and show its threads (panel, gutter, tab)."""
        store = self._store()
        root = self.workspace.current_package()
        self.submission = None
        self.panel.store, self.panel.engine = store, self._engine()
        if store is None or root is None:
            self._show_nothing(
                "Not connected to a platform",
                "Reviewers' comments on your submission appear here once the app has "
                "synced with the platform (the status bar shows it).",
            )
            return
        try:
            from app.ui.submit import bounty_for

            bounty_id = bounty_for(store, Path(root))
        except UserError as exc:
            self._show_nothing("No bounty named", f"{exc.message} {exc.hint}")
            return
        except Exception as exc:  # an unreadable env.toml: the editor's findings explain it
            log.info("no bounty for %s: %s", root, exc)
            self._show_nothing(
                "No bounty named", "env.toml could not be read; fix the problems it shows."
            )
            return
        self.submission = store.submissions.for_bounty(bounty_id)
        if self.submission is None:
            self._show_nothing(
                "Not submitted yet",
                f"This environment has not been submitted to bounty {bounty_id} yet. "
                "Submit it from the Gauntlet tab; reviewers' comments then appear here "
                "and in the editor's margin.",
            )
            return
        self.panel.show_submission(self.submission.id)
        if self._flash.isActive():  # a sync rebuilt the cards mid-flash: keep it lit
            self._highlight()
        threads = store.reviews.threads_for(self.submission.id)
        if not self.panel.cards:
            self.panel.empty.set_text(
                "No review comments yet",
                "When a reviewer comments on your submission, the threads appear here "
                "and as markers in the editor's margin.",
            )
        self.workspace.set_annotations(annotations_for(threads))
        unresolved = sum(1 for t in threads if not t.resolved)
        self.tabs.setTabText(self.index, f"Review · {unresolved}")

    def _show_nothing(self, title: str, body: str) -> None:
        self.panel.show_submission(None)
        self.panel.empty.set_text(title, body)
        self.workspace.set_annotations([])
        self.tabs.setTabText(self.index, "Review")

    def _store(self):
        if self.platform is not None and self.platform.store is not None:
            return self.platform.store
        return self.store

    def _engine(self):
        session = self.platform.session if self.platform is not None else None
        return session.engine if session is not None else None

    def _on_synced(self, result) -> None:
        # Only when something changed: a rebuild would drop a reply being typed.
        if result.sent or result.pulled:
            self.refresh()

    def _sync_now(self) -> None:
        if self.platform is not None:
            self.platform.sync_now()

    # -- moving between the editor and the panel --------------------------------------------

    def open_thread(self, annotation: ReviewAnnotation) -> None:
        """A gutter marker was clicked: the Review tab, scrolled to its thread, flashed."""
        self.tabs.setCurrentIndex(self.index)
        card = self.panel.cards.get(annotation.thread_id)
        if card is None:
            return
        self.panel.scroll.ensureWidgetVisible(card)
        self.highlighted = annotation.thread_id
        self._highlight()
        self._flash.start()

    def _highlight(self) -> None:
        self._unflash()
        card = self.panel.cards.get(self.highlighted or "")
        if card is not None:
            self._unflash_style = (card, card.styleSheet())
            card.setStyleSheet(card.styleSheet() + _HIGHLIGHT)

    def _unflash(self) -> None:
        card, normal = self._unflash_style or (None, "")
        self._unflash_style = None
        try:
            if card is not None:
                card.setStyleSheet(normal)
        except RuntimeError:  # the card was rebuilt by a refresh meanwhile
            pass

    def shutdown(self) -> None:
        self._flash.stop()

    def show_thread_lines(self, thread) -> None:
        """A thread's location was clicked: its lines in the editor (a task: its table row)."""
        if thread is None or not thread.file:
            return
        self.workspace.jump_to(thread.file, thread.start_line or 1, 1)

    # -- applying a suggestion --------------------------------------------------------------

    def apply_suggestion(self, thread) -> None:
        """Replace the thread's lines with its suggestion, as one undoable edit; refuse when
        the lines are not the ones the reviewer commented on any more."""
        try:
            where = self._apply(thread)
        except UserError as exc:
            self.say("error", f"{exc.message} {exc.hint}".strip())
            return
        self.say("ok", f"Applied the suggestion to {where}. Undo with Ctrl+Z.")

    def _apply(self, thread) -> str:
        start, end = thread.start_line, thread.end_line or thread.start_line
        if thread.suggestion is None or not thread.file or start is None:
            raise UserError("This thread has no suggested replacement for lines of a file.")
        where = f"{thread.file} {_lines(start, end)}"
        if thread.anchor_state == AnnotationState.OUTDATED:
            raise UserError(
                f"Not applied: the lines this suggestion was written for ({where}) have "
                "changed since, so it could replace the wrong text.",
                "Compare the suggestion with the file and edit it by hand.",
            )
        tab = self.workspace.open_file(thread.file)
        if tab is None:
            raise UserError(
                f"Not applied: {thread.file} cannot be opened in this package.",
                "Check that the file still exists.",
            )
        text = tab.text()
        quote = (thread.data.get("anchor") or {}).get("quote")
        current = text.replace("\r\n", "\n").split("\n")[start - 1 : end]
        if quote is None or "\n".join(current) != quote.replace("\r\n", "\n"):
            raise UserError(
                f"Not applied: {where} no longer hold the text the reviewer commented on "
                "(they were edited after the review).",
                "Compare the suggestion with the file and edit it by hand.",
            )
        tab.replace_text(
            text_with_suggestion(text, start, end, thread.suggestion), "Apply suggestion"
        )
        tab.jump_to(start, 1)
        return where

    def say(self, kind: str, text: str) -> None:
        self.notice.setText(text)
        self.notice.setStyleSheet(f"QLabel#reviewNotice {{ {_NOTICE_STYLE[kind]} padding: 6px; }}")
        self.notice.setProperty("kind", kind)
        self.notice.setVisible(True)
