"""The records the store's read API returns: frozen dataclasses, and the bounty filter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.errors import UserError


@dataclass(frozen=True, slots=True)
class BountyFilter:
    """What a bounty search asks for: the store answers it in SQL (`bounties.list`), the
    browser's table tests its rows in memory with the same meaning. Empty fields do not filter."""

    text: str = ""  # every word must appear in title, summary, domain or tags
    domains: Sequence[str] = ()
    tag: str = ""
    statuses: Sequence[str] = ()
    min_reward: float | None = None
    max_reward: float | None = None
    deadline_after: str | None = None  # ISO date or datetime, inclusive
    deadline_before: str | None = None
    env_kind: str = ""
    sort: str = "deadline"  # one of BOUNTY_SORTS
    limit: int | None = None
    offset: int = 0

    def words(self) -> list[str]:
        """The words of `text`, lower-cased: each must appear for a bounty to match."""
        return self.text.lower().split()


def checked_time(value: str) -> str:
    """A deadline bound as given (an ISO date or date-time), or a UserError saying how to
    write one."""
    try:
        if len(value) == 10:
            date.fromisoformat(value)
        else:
            datetime.fromisoformat(value)
    except ValueError as exc:
        raise UserError(
            f"'{value}' is not a date.",
            "Write dates as YYYY-MM-DD (e.g. 2027-01-31) or a full ISO time.",
        ) from exc
    return value


@dataclass(frozen=True, slots=True)
class BountyRow:
    """One line of the bounty table (no brief: that comes with `bounties.get`)."""

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
class Bounty:
    """A bounty in full: the row plus the brief (markdown), rubric and constraints."""

    row: BountyRow
    brief: str
    rubric: Any
    constraints: Any
    detail: dict[str, Any]

    def __getattr__(self, name: str) -> Any:  # bounty.title etc. read through to the row
        return getattr(self.row, name)


@dataclass(frozen=True, slots=True)
class Draft:
    id: int
    path: str
    bounty_id: str | None
    title: str
    created_at: str
    updated_at: str
    last_digest: str | None


@dataclass(frozen=True, slots=True)
class Submission:
    id: str  # the server's id, or "pending:<key>" for a submission not yet sent
    bounty_id: str
    author: str
    state: str  # what the user should see (a queued change shows its intended state)
    server_state: str  # what the server last said ("" when not sent yet)
    pending: bool  # a local change to it is waiting in the outbox
    etag: str | None
    latest_revision: int | None
    created_at: str | None
    updated_at: str | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Revision:
    id: str
    submission_id: str
    number: int
    check_state: str
    created_at: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Review:
    id: str
    submission_id: str
    revision_id: str | None
    reviewer: str
    verdict: str | None
    created_at: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Comment:
    id: str
    thread_id: str
    parent_id: str | None
    author: str
    body: str
    created_at: str | None
    pending: bool  # written offline, not yet on the server


@dataclass(frozen=True, slots=True)
class Thread:
    id: str
    submission_id: str
    revision_id: str | None
    file: str
    start_line: int | None
    end_line: int | None
    anchor_state: str  # current | moved | outdated
    resolved: bool
    author: str
    created_at: str | None
    data: dict[str, Any]
    comments: tuple[Comment, ...] = ()
    severity: str = "normal"  # blocking | normal | nit
    suggestion: str | None = None  # replacement text for the lines
    task_id: str | None = None  # the tasks.jsonl row it is about


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    seq: int
    kind: str
    payload: dict[str, Any]
    idempotency_key: str
    state: str  # pending | conflict | failed
    attempts: int
    next_attempt_at: float
    last_error: str | None
    created_at: str


# -- how server objects become rows ------------------------------------------------------------


def revision_id(submission_id: str, number: Any) -> str:
    """Revisions are numbered inside their submission; the store keys them "<sub>/<n>"."""
    return f"{submission_id}/{number}"


def person(value: Any) -> str:
    """Authors/reviewers come as {"id", "name"}; the store keeps the name for display."""
    if isinstance(value, dict):
        return str(value.get("name") or value.get("id") or "")
    return str(value or "")


def str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
