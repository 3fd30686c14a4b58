"""The reviewer's queue: the submissions assigned to me, the longest-waiting first, with their
state, how long they have waited, the platform's automated verdict, the revision and my last
verdict. Read from the local store after a sync (app/sync/review_queue.py, as `gauntlet review
list` does); opening one is the window's business (`open_requested`)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.sync.review_queue import queue_rows
from app.ui.icons import SEMANTIC_COLOURS
from app.ui.store_views import VERDICTS, IdRole, state_words
from app.ui.widgets import EmptyState, PageHeader, button_row, push_button, screen_layout

COLUMNS = ["Bounty", "State", "Waiting", "Automated check", "Revision", "Your last verdict"]
CHECK_COLUMN = 3
EMPTY_TITLE = "Nothing is assigned to you yet"
EMPTY_BODY = (
    "When a lab assigns you a submission (or the platform picks you for its domain), it "
    "appears here after a sync, with the platform's automated verdict. Open one to read its "
    "files and report, see what changed since your last review, comment and decide."
)


def check_words(check: dict[str, Any]) -> tuple[str, str]:
    """The automated check in words, and its colour: pass green, fail red, pending amber."""
    verdict, status = check.get("verdict"), check.get("status") or ""
    if verdict == "pass" or status == "passed":
        return "Passed", SEMANTIC_COLOURS["pass"]
    if verdict == "fail" or status == "failed":
        return "Failed", SEMANTIC_COLOURS["error"]
    if verdict == "error" or status == "error":
        return "Could not run", SEMANTIC_COLOURS["error"]
    if status in ("queued", "running"):
        return ("Running" if status == "running" else "Waiting to run"), SEMANTIC_COLOURS["warning"]
    return "Not checked yet", SEMANTIC_COLOURS["offline"]


def _waiting(age: str) -> str:
    return "just now" if age.endswith("s") else age


class ReviewQueueScreen(QWidget):
    problem = Signal(object)
    open_requested = Signal(str)  # a submission id

    def __init__(self, job_runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._jobs = job_runner
        self._store = None
        self._generation = 0  # a refresh that finishes after a newer one is dropped
        self.rows: list[dict[str, Any]] = []
        layout = screen_layout(
            self,
            PageHeader(
                "Review queue",
                "Submissions assigned to you, the longest-waiting first. Double-click one "
                "(or press Enter) to open it for review.",
            ),
        )
        self.tree = _QueueTree()
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        for column, width in enumerate((0, 230, 80, 160, 80, 180)):
            if width:
                header.resizeSection(column, width)
        self.tree.itemDoubleClicked.connect(lambda *_: self._open_current())
        self.tree.enter_pressed.connect(self._open_current)
        self.tree.currentItemChanged.connect(lambda *_: self._update_button())
        self.open_button = push_button(
            "Open for review", self._open_current, primary=True, tip="Open the selected one"
        )
        self.empty = EmptyState(EMPTY_TITLE, EMPTY_BODY)
        self.table_page = QWidget()
        page = QVBoxLayout(self.table_page)
        page.setContentsMargins(0, 0, 0, 0)
        page.addWidget(self.tree, 1)
        page.addLayout(button_row(self.open_button))
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table_page)
        self.stack.addWidget(self.empty)
        self.stack.setCurrentWidget(self.empty)
        layout.addWidget(self.stack, 1)
        self._update_button()

    def set_store(self, store) -> None:
        """Show the queue of this local store (a LocalStore; None empties the screen)."""
        self._store = store
        self.refresh()

    def refresh(self) -> None:
        """Read the queue again (in a worker thread: many assignments mean many queries)."""
        self._generation += 1
        generation = self._generation
        if self._store is None:
            self._fill(generation, [])
            return
        store = self._store
        self._jobs.run_in_thread(
            lambda: queue_rows(store, store.get_meta("me_id")),
            on_done=lambda rows: self._fill(generation, rows),
            on_error=self.problem.emit,
        )

    def _fill(self, generation: int, rows: list[dict[str, Any]]) -> None:
        if generation != self._generation:
            return
        selected = self.selected_id()
        self.rows = rows
        self.tree.clear()
        for row in rows:
            item = _row_item(row)
            self.tree.addTopLevelItem(item)
            if row["id"] == selected:
                self.tree.setCurrentItem(item)
        if rows and self.tree.currentItem() is None:
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self.stack.setCurrentWidget(self.table_page if rows else self.empty)
        self._update_button()

    def selected_id(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, IdRole) if item is not None else None

    def _open_current(self) -> None:
        submission_id = self.selected_id()
        if submission_id:
            self.open_requested.emit(submission_id)

    def _update_button(self) -> None:
        self.open_button.setEnabled(self.selected_id() is not None)


def _row_item(row: dict[str, Any]) -> QTreeWidgetItem:
    check, colour = check_words(row["check"])
    mine = row["my_last_verdict"]
    last = (
        f"{VERDICTS.get(mine, mine)} (r{row['my_last_revision']})" if mine else "Not reviewed yet"
    )
    item = QTreeWidgetItem(
        [
            row["bounty_title"] or row["bounty_id"] or "Unknown bounty",
            state_words(row["state"]),
            _waiting(row["age"]),
            check,
            str(row["revision"] or "?"),
            last,
        ]
    )
    item.setData(0, IdRole, row["id"])
    item.setForeground(CHECK_COLUMN, QBrush(QColor(colour)))
    font = item.font(CHECK_COLUMN)
    font.setBold(True)
    item.setFont(CHECK_COLUMN, font)
    item.setToolTip(0, row["id"])
    item.setToolTip(2, f"Waiting since {(row['waiting_since'] or '?').replace('T', ' ')[:16]}")
    item.setToolTip(CHECK_COLUMN, _check_tip(row["check"]))
    return item


def _check_tip(check: dict[str, Any]) -> str:
    status = check.get("status") or "none"
    return f"The platform's own gauntlet on this revision: {status.replace('_', ' ')}"


class _QueueTree(QTreeWidget):
    """Enter opens the selected submission (what activates an item differs per platform)."""

    enter_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentItem():
            self.enter_pressed.emit()
            return
        super().keyPressEvent(event)
