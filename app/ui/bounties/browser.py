"""The Bounties screen: search and filter the bounties in the local store, read one, and start
an environment for it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError
from app.ui.bounties import start_environment
from app.ui.bounties.detail_html import bounty_html
from app.ui.bounties.filtering import DEADLINE_WINDOWS, due_within
from app.ui.bounties.table_model import DEADLINE, DOMAIN, REWARD, STATUS, TITLE, BountyTableModel
from app.ui.widgets import EmptyState, PageHeader, push_button, screen_layout

if TYPE_CHECKING:
    from app.sync.store.records import BountyFilter

log = logging.getLogger(__name__)

FolderPicker = Callable[[QWidget, str], str | None]
REWARD_STEPS: dict[str, float | None] = {
    "Any reward": None,
    "$500 or more": 500.0,
    "$1,000 or more": 1000.0,
    "$2,500 or more": 2500.0,
    "$5,000 or more": 5000.0,
}


def ask_for_folder(parent: QWidget, title: str) -> str | None:
    folder = QFileDialog.getExistingDirectory(parent, title, str(Path.home()))
    return folder or None


class BountyBrowser(QWidget):
    environment_created = Signal(Path)  # the new package folder: open it in the Workspace
    problem = Signal(object)  # an exception to report

    def __init__(
        self,
        job_runner,
        *,
        folder_picker: FolderPicker = ask_for_folder,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._job_runner = job_runner
        self._folder_picker = folder_picker
        self._store = None
        self._loading = False
        self._current: Any = None  # the selected bounty in full
        self.model = BountyTableModel(self)

        self.header = PageHeader(
            "Bounties",
            "Labs pay for environments that teach and test AI models. "
            "Pick one, read its brief, then start an environment for it.",
        )
        layout = screen_layout(self, self.header)

        layout.addLayout(self._build_filters())
        self.count_label = QLabel("")
        self.count_label.setObjectName("dimText")
        layout.addWidget(self.count_label)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self._build_list())
        self.splitter.addWidget(self._build_detail())
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([640, 400])
        layout.addWidget(self.splitter, 1)
        self.model.filtered.connect(self._on_filtered)
        self._on_filtered(0, 0)

    # -- building --------------------------------------------------------------------------------

    def _build_filters(self) -> QHBoxLayout:
        """The search box and the domain, status, reward and deadline choices."""
        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search titles, domains and tags…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._apply_filters)
        filters.addWidget(self.search, 3)
        self.domain_filter = QComboBox()
        self.domain_filter.setToolTip("Only bounties in this field")
        self.status_filter = QComboBox()
        self.status_filter.setToolTip("Open bounties take submissions")
        self.reward_filter = QComboBox()
        self.reward_filter.addItems(list(REWARD_STEPS))
        self.deadline_filter = QComboBox()
        self.deadline_filter.addItems(list(DEADLINE_WINDOWS))
        for combo in (
            self.domain_filter,
            self.status_filter,
            self.reward_filter,
            self.deadline_filter,
        ):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.currentIndexChanged.connect(self._apply_filters)
            filters.addWidget(combo)
        self._fill_combo(self.domain_filter, "All domains", [])
        self._fill_combo(self.status_filter, "Any status", [])
        return filters

    def _build_list(self) -> QStackedWidget:
        """The bounty table, or what to say when nothing is in it."""
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(DEADLINE, Qt.SortOrder.AscendingOrder)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(TITLE, QHeaderView.ResizeMode.Stretch)
        for column, width in ((DOMAIN, 115), (REWARD, 85), (DEADLINE, 170), (STATUS, 75)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.doubleClicked.connect(lambda _index: self.start_environment())

        self.no_match = EmptyState(
            "No bounty matches these filters",
            "Try fewer words, another domain, or a longer deadline.",
            "Clear filters",
        )
        self.no_match.action_button.clicked.connect(self.clear_filters)
        self.no_bounties = EmptyState(
            "No bounties yet",
            "Bounties appear here once the app has talked to the platform. "
            "If you are offline, they will arrive when you are back online.",
        )
        self.list_stack = QStackedWidget()
        self.list_stack.addWidget(self.table)
        self.list_stack.addWidget(self.no_match)
        self.list_stack.addWidget(self.no_bounties)
        return self.list_stack

    def _build_detail(self) -> QWidget:
        """The selected bounty's brief, and the button that starts an environment for it."""
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        self.detail_view = QTextBrowser()
        self.detail_view.setOpenExternalLinks(True)
        self.detail_view.document().setDocumentMargin(14)
        self.detail_view.document().setDefaultStyleSheet(
            ".title { font-size: 15pt; font-weight: 600; }"
        )
        self.detail_view.setPlaceholderText("Select a bounty on the left to read its brief.")
        detail_layout.addWidget(self.detail_view, 1)
        actions = QHBoxLayout()
        self.draft_note = QLabel("")
        self.draft_note.setObjectName("dimText")
        self.draft_note.setWordWrap(True)
        actions.addWidget(self.draft_note, 1)
        self.start_button = push_button(
            "Start environment…",
            self.start_environment,
            tip="Create a new environment for this bounty from a ready-made "
            "example, in a folder you choose, and open it",
            primary=True,
        )
        self.start_button.setEnabled(False)
        actions.addWidget(self.start_button)
        detail_layout.addLayout(actions)
        return detail

    # -- data ------------------------------------------------------------------------------------

    def set_store(self, store) -> None:
        self._store = store
        self.reload()

    def reload(self) -> None:
        """Read the bounties from the store in a worker thread (10,000 rows take a moment)."""
        if self._store is None or self._loading:
            return
        self._loading = True
        self._job_runner.run_in_thread(
            self._store.bounties.list, on_done=self._on_loaded, on_error=self._on_load_failed
        )

    def set_bounties(self, rows) -> None:
        selected = self._current.row.id if self._current is not None else None
        self.model.set_bounties(rows)
        self._fill_combo(self.domain_filter, "All domains", self.model.domains())
        self._fill_combo(self.status_filter, "Any status", self.model.statuses(), preferred="open")
        self._apply_filters()
        if selected:
            self.select_bounty(selected)

    def select_bounty(self, bounty_id: str) -> bool:
        row = self.model.row_of(bounty_id)
        if row is None:
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))
        return True

    def _on_loaded(self, rows) -> None:
        self._loading = False
        self.set_bounties(rows)

    def _on_load_failed(self, exc: BaseException) -> None:
        self._loading = False
        self.problem.emit(exc)

    # -- filters ---------------------------------------------------------------------------------

    def filters(self) -> BountyFilter:
        """What the search box and the choices ask for, in the store's terms."""
        from app.sync.store.records import BountyFilter  # loaded after the first paint

        domain = self.domain_filter.currentData() or ""
        status = self.status_filter.currentData() or ""
        after, before = due_within(DEADLINE_WINDOWS.get(self.deadline_filter.currentText()))
        return BountyFilter(
            text=self.search.text(),
            domains=(domain,) if domain else (),
            statuses=(status,) if status else (),
            min_reward=REWARD_STEPS.get(self.reward_filter.currentText()),
            deadline_after=after,
            deadline_before=before,
        )

    def clear_filters(self) -> None:
        for combo in (
            self.domain_filter,
            self.status_filter,
            self.reward_filter,
            self.deadline_filter,
        ):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.search.clear()
        self._apply_filters()

    def _apply_filters(self, *_args) -> None:
        self.model.set_filters(self.filters())

    def _fill_combo(
        self, combo: QComboBox, everything: str, values: list[str], preferred: str = ""
    ) -> None:
        current = combo.currentData()
        had_choice = combo.count() > 1
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(everything, "")
        for value in values:
            combo.addItem(value.replace("_", " ").capitalize(), value)
        wanted = current if had_choice else (preferred if preferred in values else "")
        index = combo.findData(wanted)
        combo.setCurrentIndex(max(index, 0))
        combo.blockSignals(False)

    def _on_filtered(self, shown: int, total: int) -> None:
        if total == 0:
            self.list_stack.setCurrentWidget(self.no_bounties)
            self.count_label.setText("")
        elif shown == 0:
            self.list_stack.setCurrentWidget(self.no_match)
            self.count_label.setText(f"None of {total:,} bounties match.")
        else:
            self.list_stack.setCurrentWidget(self.table)
            self.count_label.setText(
                f"Showing {shown:,} of {total:,} bounties"
                if shown != total
                else f"{total:,} bounties"
            )
        if self._current is not None and self.model.row_of(self._current.row.id) is None:
            self._show_bounty(None)

    # -- detail ------------------------------------------------------------------------------------

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if not indexes or self._store is None:
            return
        bounty_id = self.model.bounty_at(indexes[0].row()).id
        try:
            self._show_bounty(self._store.bounties.get(bounty_id))
        except Exception as exc:  # a corrupt row must not break browsing
            self.problem.emit(exc)

    def _show_bounty(self, bounty) -> None:
        self._current = bounty
        if bounty is None:
            self.detail_view.clear()
            self.start_button.setEnabled(False)
            self.draft_note.setText("")
            return
        self.detail_view.setHtml(bounty_html(bounty))
        open_for_submissions = bounty.row.status in ("open", "")
        self.start_button.setEnabled(open_for_submissions)
        self.draft_note.setText(
            "" if open_for_submissions else "This bounty no longer takes submissions."
        )
        drafts = [d for d in self._drafts() if d.bounty_id == bounty.row.id]
        if drafts and open_for_submissions:
            self.draft_note.setText(f"You already started one in {drafts[0].path}")

    def _drafts(self) -> list:
        try:
            return list(self._store.drafts.list()) if self._store is not None else []
        except Exception:
            return []

    # -- start environment ----------------------------------------------------------------------

    def start_environment(self) -> None:
        bounty = self._current
        if bounty is None or not self.start_button.isEnabled():
            return
        folder = self._folder_picker(
            self, f"Where should the environment for “{bounty.row.title}” go?"
        )
        if not folder:
            return
        try:
            plan = start_environment.plan_for(bounty, Path(folder))
        except UserError as exc:
            self.problem.emit(exc)
            return
        self.start_button.setEnabled(False)
        self.start_button.setText("Creating…")
        self._job_runner.run_in_thread(
            start_environment.create,
            plan,
            on_done=self._on_created,
            on_error=self._on_create_failed,
        )

    def _on_created(self, path: Path) -> None:
        self.start_button.setText("Start environment…")
        self.start_button.setEnabled(True)
        bounty = self._current
        if self._store is not None and bounty is not None:
            try:
                self._store.drafts.add(path, bounty.row.id, bounty.row.title)
            except Exception:
                log.warning("could not remember the draft for %s", path, exc_info=True)
        self._show_bounty(bounty)
        self.environment_created.emit(Path(path))

    def _on_create_failed(self, exc: BaseException) -> None:
        self.start_button.setText("Start environment…")
        self.start_button.setEnabled(True)
        self.problem.emit(exc)
