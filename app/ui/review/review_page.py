"""Review mode: one submission assigned to me, opened read-only.

Left, the submission's files in the workspace (file tree, task table, manifest form), read-only.
Right, in tabs: what changed since my last review, the threads, the rubric and verdict, the
gauntlet run locally (Docker only: this is someone else's code), and the platform's funnel
report next to the author's own. "Comment on selection" starts a thread on the lines (or task
rows) selected on the left.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QSplitter, QTabWidget, QTextBrowser, QWidget

from app.errors import UserError
from app.ui.funnel.panel import FunnelPanel
from app.ui.review.changes_view import ChangesView
from app.ui.review.comment_form import NewThreadForm
from app.ui.review.threads_panel import ThreadsPanel
from app.ui.review.verdict_form import VerdictForm
from app.ui.store_views import report_summary_html, state_words
from app.ui.widgets import PageHeader, button_row, push_button, screen_layout

DOCKER_ONLY = (
    "Runs in the Docker sandbox only: this is someone else's code, so the weaker process "
    "backend is refused."
)


class ReviewPage(QWidget):
    problem = Signal(object)
    back_requested = Signal()
    changed = Signal()  # a thread, reply or verdict was queued: the window syncs
    opened = Signal(str)  # the submission id, once its files are on screen

    def __init__(self, *, settings, credentials, job_runner, parent: QWidget | None = None):
        super().__init__(parent)
        self._job_runner = job_runner
        self.session = None
        self.submission_id: str | None = None
        self.revision: int | None = None
        self.header = PageHeader("Review", "")
        layout = screen_layout(self, self.header, spacing=8)
        self.back_button = push_button("← Review queue", self.back_requested)
        self.comment_button = push_button(
            "Comment on selection…",
            self.comment_on_selection,
            tip="Start a thread on the selected lines, or the selected task rows (Ctrl+Alt+M)",
            primary=True,
        )
        self.card_button = push_button(
            "Pack card…",
            self.open_card,
            tip="The author's calibration against real models, with the bounty's targets",
        )
        self.card_button.setEnabled(False)
        self.status = QLabel()
        self.status.setObjectName("dimText")
        self.status.setWordWrap(True)
        layout.addLayout(button_row(self.back_button, self.comment_button, self.card_button))
        layout.addWidget(self.status)
        self.workspace = self._make_workspace()
        self.tabs = QTabWidget()
        self.changes = ChangesView(job_runner)
        self.threads = ThreadsPanel()
        self.verdict = VerdictForm()
        self.funnel = FunnelPanel(settings=settings, credentials=credentials, job_runner=job_runner)
        self.reports = QTextBrowser()
        self.reports.setOpenExternalLinks(False)
        for widget, title in (
            (self.changes, "Changes"),
            (self.threads, "Threads"),
            (self.verdict, "Verdict"),
            (self.funnel, "Run locally"),
            (self.reports, "Reports"),
        ):
            self.tabs.addTab(widget, title)
        self.tabs.setTabToolTip(3, DOCKER_ONLY)
        for widget in (self.threads, self.verdict):
            widget.changed.connect(self.changed)
            widget.problem.connect(self.problem)
        self.funnel.problem.connect(self.problem)
        self.threads.thread_activated.connect(self._show_thread)
        self.changes.problem.connect(self.problem)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.workspace)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([600, 600])
        layout.addWidget(self.splitter, 1)
        QShortcut(QKeySequence("Ctrl+Alt+M"), self, self.comment_on_selection)
        self._set_ready(False)

    def _make_workspace(self):
        from app.ui.workspace import WorkspaceView

        view = WorkspaceView()
        view.read_only = True
        return view

    # -- what the window gives ------------------------------------------------------------------

    def set_session(self, session) -> None:
        """The reviewer's SyncSession (None while not connected: reading only)."""
        self.session = session
        engine = session.engine if session is not None else None
        for widget in (self.threads, self.verdict):
            widget.set_engine(engine)
        self._set_ready(self.submission_id is not None)

    def refresh(self) -> None:
        """After a sync: threads, refusals and the verdict form read the store again."""
        self.threads.refresh()
        self.verdict.refresh()

    # -- opening a submission ------------------------------------------------------------------

    def open_submission(self, submission_id: str) -> None:
        from app.sync.review_queue import submission_detail
        from app.sync.revision_files import fetch_checkout

        session = self.session
        if session is None:
            self.problem.emit(
                UserError(
                    "Not connected to the platform, so the submission's files cannot be fetched.",
                    "Check Settings → Platform, then open it again.",
                )
            )
            return
        store = session.store
        try:
            detail = submission_detail(store, submission_id, store.get_meta("me_id"))
        except UserError as exc:
            self.problem.emit(exc)
            return
        latest, since = detail["revision"], detail["last_reviewed_revision"]
        self.submission_id, self.revision = submission_id, latest
        self._show_header(detail)
        self.status.setText(f"Fetching revision {latest}…")
        blobs = session.engine.blobs

        async def fetch():
            new = await fetch_checkout(store, session.client, blobs, submission_id, latest)
            old = None
            if since is not None and since != latest:
                old = await fetch_checkout(store, session.client, blobs, submission_id, since)
            return new, old

        self._job_runner.run_coroutine(
            fetch(), on_done=lambda pair: self._show(detail, *pair), on_error=self._fetch_failed
        )

    def _show_header(self, detail: dict) -> None:
        check = detail.get("check") or {}
        verdict = check.get("verdict") or check.get("status") or "not checked yet"
        self.header.set_text(
            f"Review: {detail.get('bounty_title') or detail['bounty_id']}",
            f"Revision {detail['revision']} by {detail.get('author') or 'the author'} · "
            f"{state_words(detail.get('state') or '')} · platform check: {verdict}",
        )

    def _show(self, detail: dict, new, old) -> None:
        if detail["id"] != self.submission_id:
            return  # another submission was opened meanwhile
        self.workspace.open_package(new.root)
        # The checkout's folder means nothing to a reviewer; say what it is instead.
        self.workspace.package_path.setText(f"Revision {new.number} as submitted · read-only")
        self.workspace.package_path.setToolTip(str(new.root))
        self.changes.show_changes(old, new)
        self.threads.show_submission(self.submission_id, self.revision)
        self.verdict.set_store(self.session.store)
        self.verdict.show_submission(self.submission_id)
        self.funnel.set_package(new.root)
        self.funnel.set_submit_visible(False)
        self.reports.setHtml(self._reports_html(detail))
        self.card_button.setEnabled(self._card_sent(detail))
        since = detail["last_reviewed_revision"]
        self.status.setText(
            f"Showing what changed since your review of revision {since}."
            if old is not None
            else "Your first review of this submission: every file is new to you."
        )
        self.tabs.setCurrentWidget(self.changes)
        self._set_ready(True)
        self.opened.emit(self.submission_id)

    def _fetch_failed(self, exc: BaseException) -> None:
        self.status.setText("The submission's files could not be fetched.")
        self.problem.emit(exc)

    def _revision(self, detail: dict):
        revisions = self.session.store.submissions.revisions(detail["id"])
        return next((r for r in revisions if r.number == detail["revision"]), None)

    def _card_sent(self, detail: dict) -> bool:
        revision = self._revision(detail)
        return revision is not None and bool(revision.data.get("card"))

    def _reports_html(self, detail: dict) -> str:
        store = self.session.store
        revision = self._revision(detail)
        platform = store.submissions.report_for(revision.id) if revision is not None else None
        authors = (revision.data.get("client_report") if revision is not None else None) or None
        card = (
            "The author sent the pack card of a calibration against real models: "
            "<b>Pack card…</b> shows it, with the bounty's targets met or not."
            if self._card_sent(detail)
            else "No pack card came with this revision: the author did not run "
            "<code>gauntlet calibrate</code>."
        )
        return (
            "<h3>The platform's check</h3>"
            + report_summary_html(platform)
            + "<h3>The author's own run, sent with the submission</h3>"
            + report_summary_html(authors)
            + f"<h3>Calibration (pack card)</h3><p>{card}</p>"
        )

    def open_card(self) -> None:
        """Fetch the revision's pack card from the platform and show it in a window."""
        from app.sync.cards import fetch_card
        from app.ui.funnel.calibration_view import open_card_window

        if self.session is None or self.submission_id is None or self.revision is None:
            return
        number, sid = self.revision, self.submission_id

        def show(result) -> None:
            open_card_window(self, result, f"{sid} revision {number}")  # a child: kept alive

        self._job_runner.run_coroutine(
            fetch_card(self.session.client, sid, number), on_done=show, on_error=self.problem.emit
        )

    def _set_ready(self, ready: bool) -> None:
        self.comment_button.setEnabled(ready and self.session is not None)

    # -- threads ----------------------------------------------------------------------------

    def _show_thread(self, thread) -> None:
        if thread.file:
            self.workspace.jump_to(thread.file, thread.start_line or 1)

    def comment_on_selection(self) -> None:
        """A new thread on the selected lines of the open file, or its selected task rows."""
        if self.submission_id is None or self.session is None:
            return
        try:
            place = self._selected_place()
        except UserError as exc:
            self.problem.emit(exc)
            return
        form = NewThreadForm(
            self.session.engine, self.submission_id, self.revision, parent=self, **place
        )
        form.created.connect(lambda _entry: (self.threads.refresh(), self.changed.emit()))
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.thread_form = form
        form.open()

    def _selected_place(self) -> dict:
        tab = self.workspace.current_tab()
        if tab is None:
            raise UserError("No file is open.", "Open a file on the left and select lines first.")
        if tab.mode == "table" and tab.table is not None:
            rows = tab.table.selected_rows()
            if not rows:
                raise UserError("No task row is selected.", "Click a row, then comment.")
            model = tab.table.model
            first, last = model.line_of(rows[0]), model.line_of(rows[-1])
            task_id = _row_id(model, rows[0]) if len(rows) == 1 else None
            text = "\n".join(tab.text().splitlines()[first - 1 : last])
            return dict(
                path=tab.relpath,
                start_line=first,
                end_line=last,
                selected_text=text,
                task_id=task_id,
            )
        cursor = tab.editor.textCursor()
        document = tab.editor.document()
        start = document.findBlock(cursor.selectionStart())
        end = document.findBlock(cursor.selectionEnd())
        if cursor.hasSelection() and end.position() == cursor.selectionEnd() and end != start:
            end = end.previous()  # a selection ending at a line's start does not take that line
        first, last = start.blockNumber() + 1, end.blockNumber() + 1
        text = "\n".join(tab.text().splitlines()[first - 1 : last])
        return dict(path=tab.relpath, start_line=first, end_line=last, selected_text=text)

    def shutdown(self) -> None:
        self.funnel.shutdown()
        self.workspace.shutdown()


def _row_id(model, row: int) -> str | None:
    if "id" not in model.columns:
        return None
    value = model.data(model.index(row, model.columns.index("id")), Qt.ItemDataRole.EditRole)
    return html.unescape(str(value)).strip().strip('"') or None
