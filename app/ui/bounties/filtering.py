"""The store's `BountyFilter` applied in memory, for the bounty browser's table.

The table filters in memory rather than asking SQLite on every keystroke: the rows are loaded
once per sync, each with a lower-cased search text, so a keystroke on 10,000 bounties is a few
milliseconds of string tests. `BountyMatcher` gives a filter the meaning the store gives it in
SQL (`app.sync.store.bounty_repo`), so the browser and the CLI agree on what matches.
"""

from __future__ import annotations

import operator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the store's modules load after the window's first paint
    from app.sync.store.records import BountyFilter, BountyRow

DEADLINE_WINDOWS = {  # label -> days ahead (None: any deadline)
    "Any deadline": None,
    "Due within 7 days": 7,
    "Due within 30 days": 30,
    "Due within 90 days": 90,
}


def search_text(row: BountyRow) -> str:
    return " ".join([row.title, row.summary, row.domain, *row.tags]).lower()


def deadline_date(row: BountyRow) -> date | None:
    if not row.deadline:
        return None
    try:
        return datetime.fromisoformat(str(row.deadline).replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(str(row.deadline)[:10])
        except ValueError:
            return None


def due_within(days: int | None, today: date | None = None) -> tuple[str | None, str | None]:
    """(deadline_after, deadline_before) for "due within `days` days" from today (UTC), both
    days included; (None, None) for any deadline."""
    if days is None:
        return None, None
    today = today or datetime.now(UTC).date()
    return today.isoformat(), (today + timedelta(days=days)).isoformat()


class BountyMatcher:
    """Compiled once per filter; `matches` tests one row with its prepared search text and
    deadline date. Sorting and paging (`sort`, `limit`, `offset`) are the table's own business."""

    def __init__(self, filters: BountyFilter) -> None:
        self.words = filters.words()
        self.domains = frozenset(filters.domains)
        self.statuses = frozenset(filters.statuses)
        self.tag = filters.tag
        self.env_kind = filters.env_kind
        self.min_reward = filters.min_reward
        self.max_reward = filters.max_reward
        self.after = _deadline_bound(filters.deadline_after)
        self.before = _deadline_bound(filters.deadline_before)
        # Nothing but words to look for: the table's fast path does that alone.
        self.text_only = not (
            self.domains
            or self.statuses
            or self.tag
            or self.env_kind
            or self.min_reward is not None
            or self.max_reward is not None
            or self.after is not None
            or self.before is not None
        )

    def matches(self, row: BountyRow, text: str, deadline: date | None) -> bool:
        if self.domains and row.domain not in self.domains:
            return False
        if self.statuses and row.status not in self.statuses:
            return False
        if self.tag and self.tag not in row.tags:
            return False
        if self.env_kind and row.env_kind != self.env_kind:
            return False
        if self.min_reward is not None and row.reward < self.min_reward:
            return False
        if self.max_reward is not None and row.reward > self.max_reward:
            return False
        if not self._deadline_fits(row, deadline):
            return False
        return all(word in text for word in self.words)

    def _deadline_fits(self, row: BountyRow, deadline: date | None) -> bool:
        for bound, fits in ((self.after, operator.ge), (self.before, operator.le)):
            if bound is None:
                continue
            if deadline is None:  # no deadline, or one that cannot be read: outside any window
                return False
            # A bare date bounds whole days; a date-time compares as the store's SQL does.
            value = deadline if isinstance(bound, date) else str(row.deadline)
            if not fits(value, bound):
                return False
        return True


def _deadline_bound(value: str | None) -> date | str | None:
    if not value:
        return None
    from app.sync.store.records import checked_time

    checked_time(value)
    return date.fromisoformat(value) if len(value) == 10 else value
