"""The reviewer's screen: the queue of submissions assigned to me, and one of them opened in
review mode; "← Review queue" goes back."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from app.ui.review.queue_screen import ReviewQueueScreen
from app.ui.widgets import fill_with_pages


class ReviewScreen(QWidget):
    problem = Signal(object)
    changed = Signal()  # something was queued: the window syncs

    def __init__(self, *, settings, credentials, job_runner, parent: QWidget | None = None):
        super().__init__(parent)
        from app.ui.review.review_page import ReviewPage

        self.queue = ReviewQueueScreen(job_runner)
        self.page = ReviewPage(settings=settings, credentials=credentials, job_runner=job_runner)
        self.stack = fill_with_pages(self, self.queue, self.page)
        self.queue.open_requested.connect(self.open_submission)
        self.page.back_requested.connect(self.show_queue)
        for child in (self.queue, self.page):
            child.problem.connect(self.problem)
        self.page.changed.connect(self.changed)

    def set_store(self, store) -> None:
        self.queue.set_store(store)

    def set_session(self, session) -> None:
        self.page.set_session(session)
        if session is not None:
            self.queue.set_store(session.store)

    def refresh(self) -> None:
        self.queue.refresh()
        if self.stack.currentWidget() is self.page:
            self.page.refresh()

    def open_submission(self, submission_id: str) -> None:
        self.stack.setCurrentWidget(self.page)
        self.page.open_submission(submission_id)

    def show_queue(self) -> None:
        self.queue.refresh()
        self.stack.setCurrentWidget(self.queue)

    def shutdown(self) -> None:
        self.page.shutdown()
