"""The bounty table's Qt model: all rows in memory, filtered and sorted by the model itself
(a proxy model re-tests every row through Python on every keystroke and is several times
slower on 10,000 rows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from app.ui.bounties.filtering import BountyMatcher, deadline_date, search_text

if TYPE_CHECKING:  # the store's modules load after the window's first paint
    from app.sync.store.records import BountyFilter, BountyRow

COLUMNS = ("Title", "Domain", "Reward", "Deadline", "Status")
TITLE, DOMAIN, REWARD, DEADLINE, STATUS = range(len(COLUMNS))
BountyIdRole = Qt.ItemDataRole.UserRole + 1
SortKeyRole = Qt.ItemDataRole.UserRole + 2

_Index = QModelIndex | QPersistentModelIndex
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_ROLES_WE_ANSWER = frozenset({_DISPLAY, _TOOLTIP, _ALIGNMENT, int(BountyIdRole), int(SortKeyRole)})
_RIGHT_ALIGNED = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def format_reward(amount: float, currency: str) -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency.upper(), "")
    whole = f"{amount:,.0f}" if amount == int(amount) else f"{amount:,.2f}"
    return f"{symbol}{whole}" if symbol else f"{whole} {currency}"


def describe_deadline(deadline: date | None, today: date | None = None) -> str:
    if deadline is None:
        return "No deadline"
    today = today or datetime.now(UTC).date()
    days = (deadline - today).days
    when = deadline.strftime("%d %b %Y")
    if days < 0:
        return f"{when} (closed)"
    if days == 0:
        return f"{when} (today)"
    if days == 1:
        return f"{when} (tomorrow)"
    return f"{when} ({days} days)" if days <= 60 else when


class BountyTableModel(QAbstractTableModel):
    filtered = Signal(int, int)  # (shown, total)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[BountyRow] = []
        self._texts: list[str] = []
        self._deadlines: list[date | None] = []
        self._visible: list[int] = []
        self._display: dict[int, tuple[str, ...]] = {}  # the cells' texts, made when first shown
        self._order: list[int] = []  # every row, in the current sort order (sorted once per sort)
        self._filters: BountyFilter | None = None  # None: nothing asked yet, every row
        self._sort_column = DEADLINE
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._today = datetime.now(UTC).date()

    # -- data in --------------------------------------------------------------------------------

    def set_bounties(self, rows: Sequence[BountyRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._texts = [search_text(r) for r in self._rows]
        self._deadlines = [deadline_date(r) for r in self._rows]
        self._today = datetime.now(UTC).date()
        self._display = {}
        self._sort_all()
        self._visible = self._filtered_indices(self._order)
        self.endResetModel()
        self.filtered.emit(len(self._visible), len(self._rows))

    def set_filters(self, filters: BountyFilter | None) -> None:
        if filters == self._filters:
            return
        previous, self._filters = self._filters, filters
        # Typing forward only narrows the result: test just the rows still shown.
        candidates = self._visible if _narrows(previous, filters) else self._order
        visible = self._filtered_indices(candidates)
        if visible != self._visible:
            # A layout change, not a reset: a reset makes the view drop its selection and
            # scroll position and lay out everything again, which is the slow part of a keystroke.
            self._change_layout(lambda: visible)
        self.filtered.emit(len(self._visible), len(self._rows))

    @property
    def filters(self) -> BountyFilter | None:
        return self._filters

    def total_count(self) -> int:
        return len(self._rows)

    def domains(self) -> list[str]:
        return sorted({r.domain for r in self._rows if r.domain})

    def statuses(self) -> list[str]:
        return sorted({r.status for r in self._rows if r.status})

    def bounty_at(self, row: int) -> BountyRow:
        return self._rows[self._visible[row]]

    def row_of(self, bounty_id: str) -> int | None:
        for position, index in enumerate(self._visible):
            if self._rows[index].id == bounty_id:
                return position
        return None

    # -- Qt model API -------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._visible)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ):  # noqa: N802
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = _DISPLAY):
        # Qt asks for a dozen roles per cell on every paint; answer the ones we do not use first.
        if role not in _ROLES_WE_ANSWER:
            return None
        number = index.row()
        if not 0 <= number < len(self._visible) or not index.isValid():
            return None
        position = self._visible[number]
        column = index.column()
        if role == _DISPLAY:
            texts = self._display.get(position)
            if texts is None:
                texts = self._display[position] = self._display_texts(position)
            return texts[column]
        row = self._rows[position]
        if role == _TOOLTIP:
            return (row.summary or row.title) if column == TITLE else None
        if role == _ALIGNMENT:
            return _RIGHT_ALIGNED if column == REWARD else None
        if role == BountyIdRole:
            return row.id
        return self._sort_key(position, column)  # SortKeyRole

    def _display_texts(self, position: int) -> tuple[str, ...]:
        row = self._rows[position]
        return (
            row.title,
            row.domain.capitalize(),
            format_reward(row.reward, row.currency),
            describe_deadline(self._deadlines[position], self._today),
            row.status.replace("_", " ").capitalize(),
        )

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        self._sort_column, self._sort_order = column, order

        def resorted() -> list[int]:
            self._sort_all()
            shown = set(self._visible)
            return [p for p in self._order if p in shown]

        self._change_layout(resorted)

    # -- internals --------------------------------------------------------------------------------

    def _change_layout(self, new_visible) -> None:
        """Replace the shown rows (filtered or re-sorted), keeping selections on their bounties."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids = [
            self._rows[self._visible[i.row()]].id
            if i.isValid() and i.row() < len(self._visible)
            else None
            for i in persistent
        ]
        self._visible = new_visible()
        if persistent:
            wanted = set(ids)
            where = {
                self._rows[p].id: n
                for n, p in enumerate(self._visible)
                if self._rows[p].id in wanted
            }
            self.changePersistentIndexList(
                persistent,
                [
                    self.index(where[i], p.column()) if i in where else QModelIndex()
                    for p, i in zip(persistent, ids, strict=True)
                ],
            )
        self.layoutChanged.emit()

    def _filtered_indices(self, candidates: list[int]) -> list[int]:
        if self._filters is None:
            return list(candidates)
        matcher = BountyMatcher(self._filters)
        words = matcher.words
        texts = self._texts
        if matcher.text_only and not words:
            return list(candidates)  # nothing to filter on: every row
        if matcher.text_only:
            # The common case, typing in the search box: plain substring tests, one word at a
            # time (the first word already removes most rows), no method calls.
            shown = candidates
            for word in sorted(words, key=len, reverse=True):  # a long word is the rarest
                shown = [i for i in shown if word in texts[i]]
            return shown if shown is not candidates else list(candidates)
        rows, deadlines = self._rows, self._deadlines
        return [i for i in candidates if matcher.matches(rows[i], texts[i], deadlines[i])]

    def _sort_key(self, position: int, column: int):
        row = self._rows[position]
        if column == TITLE:
            return row.title.lower()
        if column == DOMAIN:
            return row.domain.lower()
        if column == REWARD:
            return row.reward
        if column == DEADLINE:
            deadline = self._deadlines[position]
            return deadline.toordinal() if deadline else 10**9  # no deadline sorts last
        return row.status

    def _sort_all(self) -> None:
        column = self._sort_column
        self._order = list(range(len(self._rows)))
        self._order.sort(
            key=lambda p: (self._sort_key(p, column), self._rows[p].id),
            reverse=self._sort_order == Qt.SortOrder.DescendingOrder,
        )


def _narrows(before: BountyFilter | None, after: BountyFilter | None) -> bool:
    """True when every row `after` matches also matched `before` (only the text grew)."""
    if before is None:
        return True  # every row was shown
    if after is None or replace(before, text="") != replace(after, text=""):
        return False
    old, new = before.words(), after.words()
    if not old:
        return True
    # Each old word must still be required, as itself or inside a longer word.
    return all(any(o in n for n in new) for o in old)
