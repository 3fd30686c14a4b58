"""My bounties: the lab's bounties (New, Edit, Close), the submissions to the selected one with
the platform's check results and their reviewers, and "Assign reviewer…"."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMessageBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.sync import lab
from app.ui.lab.assign_dialog import AssignDialog
from app.ui.lab.bounty_form import BountyForm
from app.ui.lab.calls import NOT_CONNECTED, ClientFactory, LabCalls, words
from app.ui.widgets import PageHeader, button_row, push_button, screen_layout

Confirm = Callable[[QWidget, str, str], bool]
BOUNTY_COLUMNS = ("Title", "Domain", "State", "Submissions", "Reward", "Deadline")
SUBMISSION_COLUMNS = ("Submission", "Author", "State", "Revision", "Platform check", "Reviewers")


def ask_yes_no(parent: QWidget, title: str, text: str) -> bool:
    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel
    answer = QMessageBox.question(parent, title, text, buttons, QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


def _table(columns: tuple[str, ...], stretch: int) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


def _fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))


class MyBountiesScreen(QWidget):
    problem = Signal(object)  # an error to report (also shown on the screen)
    loaded = Signal()  # the bounty list was refreshed
    submissions_loaded = Signal()

    def __init__(self, job_runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.calls = LabCalls(job_runner)
        self.confirm: Confirm = ask_yes_no
        self.bounties: list[dict] = []
        self._generation = 0
        self._notice = ""  # what the last action did, said above the count after the reload
        self.submissions: list[dict] = []
        self.form: BountyForm | None = None
        self.assign_dialog: AssignDialog | None = None
        header = PageHeader(
            "My bounties",
            "Post bounties, follow what authors submit and what the platform's checks found, "
            "and pick the experts who review each submission.",
        )
        layout = screen_layout(self, header)
        self.status = QLabel()
        self.status.setObjectName("dimText")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.new_button = push_button("New bounty…", self.new_bounty, primary=True)
        self.edit_button = push_button("Edit…", self.edit_selected)
        self.close_button = push_button(
            "Close bounty",
            self.close_selected,
            tip="Take no new submissions; the bounty stays visible",
        )
        self.refresh_button = push_button("Refresh", self.refresh)
        layout.addLayout(
            button_row(self.new_button, self.edit_button, self.close_button, self.refresh_button)
        )
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.table = _table(BOUNTY_COLUMNS, 0)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _index: self.edit_selected())
        splitter.addWidget(self.table)
        splitter.addWidget(self._build_submissions())
        splitter.setSizes([300, 300])
        layout.addWidget(splitter, 1)
        self._update_buttons()
        self.status.setText(NOT_CONNECTED)

    def _build_submissions(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 8, 0, 0)
        self.submissions_title = QLabel("Select a bounty to see its submissions.")
        self.submissions_title.setObjectName("sectionTitle")
        layout.addWidget(self.submissions_title)
        self.submission_table = _table(SUBMISSION_COLUMNS, 5)
        self.submission_table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.submission_table, 1)
        self.assign_button = push_button(
            "Assign reviewer…",
            self.assign_selected,
            tip="Pick an expert vetted in the bounty's domain",
        )
        self.card_button = push_button(
            "Pack card…",
            self.open_card,
            tip="The author's calibration against real models, with your targets met or not",
        )
        layout.addLayout(button_row(self.assign_button, self.card_button))
        return box

    # -- the list ----------------------------------------------------------------------------

    def set_client_factory(self, factory: ClientFactory | None) -> None:
        self.calls.factory = factory
        if factory is None:
            self._show_bounties([])
            self.status.setText(NOT_CONNECTED)
        self._update_buttons()

    def refresh(self) -> None:
        self._generation += 1
        generation = self._generation

        def show(bounties: list[dict]) -> None:
            if generation == self._generation:  # an older, slower answer must not win
                self._show_bounties(bounties)

        if self.calls.run(lab.lab_bounties, show, self._failed):
            self.status.setText("Loading your bounties…")

    def _show_bounties(self, bounties: list[dict]) -> None:
        selected = self.selected_bounty()
        self.bounties = bounties
        _fill(
            self.table,
            [
                (
                    b["title"],
                    b["domain"],
                    b["status"],
                    str(b["submissions"]),
                    f"{b['reward']:,} {b['currency']}",
                    b["deadline"][:10],
                )
                for b in bounties
            ],
        )
        if self.calls.factory is not None:
            count = (
                f"{len(bounties)} bount{'y' if len(bounties) == 1 else 'ies'} posted by you."
                if bounties
                else "You have not posted a bounty yet. Press “New bounty…” to post one."
            )
            self.status.setText(f"{self._notice} {count}".strip())
            self._notice = ""
        ids = [b["id"] for b in bounties]
        if selected is not None and selected["id"] in ids:
            self.table.selectRow(ids.index(selected["id"]))
        self._update_buttons()
        self.loaded.emit()

    def selected_bounty(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows()
        return self.bounties[rows[0].row()] if rows and rows[0].row() < len(self.bounties) else None

    def select_bounty(self, bounty_id: str) -> None:
        self.table.selectRow([b["id"] for b in self.bounties].index(bounty_id))

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(words(exc))
        self.problem.emit(exc)

    def _update_buttons(self) -> None:
        connected = self.calls.factory is not None
        bounty = self.selected_bounty()
        self.new_button.setEnabled(connected)
        self.refresh_button.setEnabled(connected)
        self.edit_button.setEnabled(connected and bounty is not None)
        self.close_button.setEnabled(connected and bool(bounty) and bounty["status"] != "closed")
        submission = self.selected_submission()
        self.assign_button.setEnabled(connected and submission is not None)
        self.card_button.setEnabled(connected and bool(submission and submission.get("card")))

    # -- new, edit, close --------------------------------------------------------------------

    def new_bounty(self) -> BountyForm:
        return self._open_form(None, None)

    def edit_selected(self) -> None:
        bounty = self.selected_bounty()
        if bounty is None:
            return
        self.status.setText(f"Opening {bounty['title']}…")
        self.calls.run(
            lambda client: lab.read_bounty(client, bounty["id"]),
            lambda result: self._open_form(*result),
            self._failed,
        )

    def _open_form(self, bounty: dict | None, etag: str | None) -> BountyForm:
        self.form = BountyForm(self.calls, bounty, etag, parent=self)
        self.form.saved.connect(self._saved)
        self.form.open()
        return self.form

    def _saved(self, bounty: dict) -> None:
        self._notice = f"Saved “{bounty['title']}”: it is live on the platform."
        self.refresh()

    def close_selected(self) -> None:
        bounty = self.selected_bounty()
        if bounty is None or not self.confirm(
            self,
            "Close bounty?",
            f"Close “{bounty['title']}”? Authors can no longer submit to it. Submissions "
            "already made stay, and their reviews go on.",
        ):
            return
        self.calls.run(
            lambda client: lab.close_bounty(client, bounty["id"]), self._closed, self._failed
        )

    def _closed(self, result: tuple[dict, bool]) -> None:
        self._notice = f"Closed “{result[0]['title']}”: it takes no new submissions."
        self.refresh()

    # -- submissions -------------------------------------------------------------------------

    def _selection_changed(self) -> None:
        self._update_buttons()
        bounty = self.selected_bounty()
        if bounty is None:
            return
        self.submissions_title.setText(f"Submissions to “{bounty['title']}”: loading…")
        self.calls.run(
            lambda client: lab.bounty_submissions(client, bounty["id"]),
            self._show_submissions,
            self._failed,
        )

    def _show_submissions(self, result: tuple[dict, list[dict]]) -> None:
        bounty, rows = result
        self.submissions = rows
        count = f"{len(rows)} submission{'' if len(rows) == 1 else 's'}" if rows else "none yet"
        self.submissions_title.setText(f"Submissions to “{bounty['title']}”: {count}")
        _fill(
            self.submission_table,
            [
                (
                    s["id"],
                    s["author"]["name"],
                    s["state"],
                    str(s["current_revision"] or "–"),
                    lab.check_words(s["check"]),
                    ", ".join(r["name"] for r in s["reviewers"]) or "no reviewer yet",
                )
                for s in rows
            ],
        )
        self._update_buttons()
        self.submissions_loaded.emit()

    def selected_submission(self) -> dict | None:
        rows = self.submission_table.selectionModel().selectedRows()
        ok = rows and rows[0].row() < len(self.submissions)
        return self.submissions[rows[0].row()] if ok else None

    def open_card(self) -> None:
        """The selected submission's pack card, fetched from the platform, in a window."""
        from app.sync.cards import fetch_card
        from app.ui.funnel.calibration_view import open_card_window

        submission = self.selected_submission()
        if submission is None or not submission.get("card"):
            return
        sid, number = submission["id"], submission["current_revision"]

        def show(result) -> None:
            open_card_window(self, result, f"{sid} revision {number}")  # a child: kept alive

        self.calls.run(lambda client: fetch_card(client, sid, number), show, self._failed)

    def assign_selected(self) -> AssignDialog | None:
        bounty, submission = self.selected_bounty(), self.selected_submission()
        if bounty is None or submission is None:
            return None
        self.assign_dialog = AssignDialog(self.calls, bounty, submission, parent=self)
        self.assign_dialog.assigned.connect(lambda _s: self._selection_changed())
        self.assign_dialog.open()
        return self.assign_dialog
