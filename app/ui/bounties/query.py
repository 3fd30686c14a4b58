"""What the user asked the bounty browser for, and the in-memory matcher behind it.

The table filters in memory rather than asking SQLite on every keystroke: the rows are loaded
once per sync, each with a lower-cased search text, so a keystroke on 10,000 bounties is a few
milliseconds of string tests (the store's `BountyFilter` has the same meaning, for the CLI).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

DEADLINE_WINDOWS = {  # label -> days ahead (None: any deadline)
    "Any deadline": None,
    "Due within 7 days": 7,
    "Due within 30 days": 30,
    "Due within 90 days": 90,
}


class BountyLike(Protocol):
    id: str
    title: str
    domain: str
    status: str
    reward: float
    currency: str
    deadline: str | None
    env_kind: str
    summary: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BountyQuery:
    text: str = ""
    domain: str = ""  # "" = every domain
    status: str = ""  # "" = every status
    min_reward: float = 0.0
    deadline_within_days: int | None = None
    today: date | None = None  # fixed in tests; None = today (UTC)

    def words(self) -> list[str]:
        return self.text.lower().split()


def search_text(row: BountyLike) -> str:
    return " ".join([row.title, row.summary, row.domain, *row.tags]).lower()


def deadline_date(row: BountyLike) -> date | None:
    if not row.deadline:
        return None
    try:
        return datetime.fromisoformat(str(row.deadline).replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(str(row.deadline)[:10])
        except ValueError:
            return None


class BountyMatcher:
    """Compiled once per query; `matches(i)` tests the i-th row of the prepared columns."""

    def __init__(self, query: BountyQuery) -> None:
        self.words = query.words()
        self.domain = query.domain
        self.status = query.status
        self.min_reward = query.min_reward
        self.latest: date | None = None
        self.earliest: date | None = None
        if query.deadline_within_days is not None:
            today = query.today or datetime.now(UTC).date()
            self.earliest = today
            self.latest = today + timedelta(days=query.deadline_within_days)

    def matches(self, row: BountyLike, text: str, deadline: date | None) -> bool:
        if self.domain and row.domain != self.domain:
            return False
        if self.status and row.status != self.status:
            return False
        if self.min_reward and row.reward < self.min_reward:
            return False
        if self.latest is not None and (
            deadline is None or not self.earliest <= deadline <= self.latest
        ):
            return False
        return all(word in text for word in self.words)
