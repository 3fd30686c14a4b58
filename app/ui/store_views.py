"""The Submissions and Reviews screens: what the local store knows, in plain words, honest
about what is empty. Read-only here (submitting and replying come with the review issue)."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from app.ui.widgets import EmptyState, PageHeader, screen_layout

SUBMISSION_STATES = {
    "submitted": "Submitted — waiting for the platform's checks",
    "checking": "Being checked by the platform",
    "check_failed": "Checks failed — fix and resubmit",
    "in_review": "With a reviewer",
    "changes_requested": "Changes requested by the reviewer",
    "accepted": "Accepted",
    "rejected": "Rejected",
    "withdrawn": "Withdrawn",
}
VERDICTS = {"approve": "Approved", "request_changes": "Changes requested", "reject": "Rejected"}
IdRole = Qt.ItemDataRole.UserRole + 1


def state_words(state: str) -> str:
    return SUBMISSION_STATES.get(state, state.replace("_", " ").capitalize() or "Not sent yet")


def _when(stamp: str | None) -> str:
    return (stamp or "").replace("T", " ")[:16]


class _StoreScreen(QWidget):
    problem = Signal(object)

    def __init__(
        self, title: str, subtitle: str, empty: EmptyState, columns: list[str], parent=None
    ) -> None:
        super().__init__(parent)
        self._store = None
        layout = screen_layout(self, PageHeader(title, subtitle))
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(columns)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setStretchLastSection(False)
        for column in range(1, len(columns)):
            self.tree.header().resizeSection(column, 180)
        self.tree.currentItemChanged.connect(lambda item, _prev: self._show(item))
        self.detail = QTextBrowser()
        self.detail.document().setDocumentMargin(12)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.empty = empty
        self.stack = QStackedWidget()
        self.stack.addWidget(self.splitter)
        self.stack.addWidget(self.empty)
        layout.addWidget(self.stack, 1)
        self.stack.setCurrentWidget(self.empty)

    def set_store(self, store) -> None:
        self._store = store
        self.refresh()

    def refresh(self) -> None:
        if self._store is None:
            return
        try:
            self._fill()
        except Exception as exc:  # a broken row must not take the screen down
            self.problem.emit(exc)
        has_rows = self.tree.topLevelItemCount() > 0
        self.stack.setCurrentWidget(self.splitter if has_rows else self.empty)
        if has_rows and self.tree.currentItem() is None:
            self.tree.setCurrentItem(self.tree.topLevelItem(0))

    def _bounty_title(self, bounty_id: str) -> str:
        bounty = self._store.bounties.get(bounty_id) if bounty_id else None
        return bounty.row.title if bounty is not None else bounty_id or "Unknown bounty"

    def _fill(self) -> None:  # pragma: no cover - subclasses
        raise NotImplementedError

    def _show(self, item: QTreeWidgetItem | None) -> None:  # pragma: no cover - subclasses
        raise NotImplementedError


class SubmissionsView(_StoreScreen):
    def __init__(self, parent=None) -> None:
        super().__init__(
            "Submissions",
            "Environments you sent to a bounty, and what the platform made of them.",
            EmptyState(
                "Nothing submitted yet",
                "Start an environment from a bounty, "
                "make it pass the gauntlet in the Workspace, then "
                "submit it with <b>gauntlet submit</b>. "
                "Its progress through the platform's checks and "
                "review shows up here.",
            ),
            ["Bounty", "State", "Updated"],
            parent,
        )

    def _fill(self) -> None:
        self.tree.clear()
        for sub in self._store.submissions.list():
            state = state_words(sub.state) + (" (waiting to be sent)" if sub.pending else "")
            item = QTreeWidgetItem(
                [self._bounty_title(sub.bounty_id), state, _when(sub.updated_at or sub.created_at)]
            )
            item.setData(0, IdRole, sub.id)
            item.setToolTip(1, state)
            self.tree.addTopLevelItem(item)

    def _show(self, item: QTreeWidgetItem | None) -> None:
        if item is None or self._store is None:
            self.detail.clear()
            return
        sub = self._store.submissions.get(item.data(0, IdRole))
        if sub is None:
            self.detail.setHtml(
                "<p>This submission is still waiting to be sent to the platform.</p>"
            )
            return
        parts = [
            f"<h3>{html.escape(self._bounty_title(sub.bounty_id))}</h3>",
            f"<p><b>{html.escape(state_words(sub.state))}</b></p>",
        ]
        revisions = self._store.submissions.revisions(sub.id)
        if not revisions:
            parts.append("<p><i>No revision has reached the platform yet.</i></p>")
        for rev in revisions:
            parts.append(f"<h4>Revision {rev.number} · {html.escape(_when(rev.created_at))}</h4>")
            parts.append(
                "<p>Platform checks: "
                f"{html.escape(rev.check_state.replace('_', ' ') or 'not started')}</p>"
            )
            report = self._store.submissions.report_for(rev.id)
            parts.append(report_summary_html(report))
        self.detail.setHtml("\n".join(parts))


class ReviewsView(_StoreScreen):
    def __init__(self, parent=None) -> None:
        super().__init__(
            "Reviews",
            "What reviewers said about your submissions: verdicts and comments on exact lines.",
            EmptyState(
                "No reviews yet",
                "When a reviewer reads one of your submissions, "
                "their verdict and their comments on "
                "your files appear here (and next to the lines in the editor).",
            ),
            ["Submission", "Verdict", "Comments"],
            parent,
        )

    def _fill(self) -> None:
        self.tree.clear()
        for sub in self._store.submissions.list():
            reviews = self._store.reviews.list(sub.id)
            threads = self._store.reviews.threads_for(sub.id)
            if not reviews and not threads:
                continue
            verdict = (
                VERDICTS.get(reviews[-1].verdict or "", "In progress") if reviews else "In progress"
            )
            open_threads = sum(1 for t in threads if not t.resolved)
            item = QTreeWidgetItem(
                [
                    self._bounty_title(sub.bounty_id),
                    verdict,
                    f"{len(threads)} ({open_threads} open)" if threads else "none",
                ]
            )
            item.setData(0, IdRole, sub.id)
            self.tree.addTopLevelItem(item)

    def _show(self, item: QTreeWidgetItem | None) -> None:
        if item is None or self._store is None:
            self.detail.clear()
            return
        submission_id = item.data(0, IdRole)
        parts = []
        for review in self._store.reviews.list(submission_id):
            verdict = VERDICTS.get(review.verdict or "", "No verdict yet")
            parts.append(
                f"<p><b>{html.escape(verdict)}</b> by {html.escape(review.reviewer)} "
                f"· {html.escape(_when(review.created_at))}</p>"
            )
            summary = review.data.get("summary") or review.data.get("body")
            if summary:
                parts.append(f"<blockquote>{html.escape(str(summary))}</blockquote>")
        for thread in self._store.reviews.threads_for(submission_id):
            lines = (
                f"line {thread.start_line}"
                if thread.start_line == thread.end_line or not thread.end_line
                else f"lines {thread.start_line}–{thread.end_line}"
            )
            state = {
                "current": "",
                "moved": " (the lines moved since)",
                "outdated": " (outdated: the code changed)",
            }.get(thread.anchor_state, "")
            resolved = " · resolved" if thread.resolved else ""
            parts.append(f"<h4>{html.escape(thread.file)}, {lines}{state}{resolved}</h4>")
            for comment in thread.comments:
                pending = " <i>(not sent yet)</i>" if comment.pending else ""
                parts.append(
                    f"<p><b>{html.escape(comment.author)}</b>: "
                    f"{html.escape(comment.body)}{pending}</p>"
                )
        self.detail.setHtml("\n".join(parts) or "<p><i>No comments yet.</i></p>")


def report_summary_html(report: dict[str, Any] | None) -> str:
    if not report:
        return "<p><i>No report from the platform yet.</i></p>"
    verdict = {"pass": "passed", "fail": "failed", "error": "could not finish"}.get(
        str(report.get("verdict")), "unknown"
    )
    findings = report.get("findings") or []
    errors = [f for f in findings if f.get("severity") == "error"]
    parts = [
        (
            f"<p>The platform's own gauntlet <b>{verdict}</b> "
            f"({len(errors)} error(s), {len(findings)} finding(s)).</p>"
        )
    ]
    if errors:
        parts.append(
            "<ul>"
            + "".join(
                f"<li>{html.escape(str(f.get('message', '')))}"
                + (
                    f" <span style='color:gray'>— {html.escape(str(f.get('hint')))}</span>"
                    if f.get("hint")
                    else ""
                )
                + "</li>"
                for f in errors[:20]
            )
            + "</ul>"
        )
    return "\n".join(parts)
