"""The local SQLite store of what the app knows about the platform (see `local_store`)."""

from app.sync.store.bounty_repo import BOUNTY_SORTS
from app.sync.store.database import StoreCorrupt
from app.sync.store.local_store import LocalStore
from app.sync.store.records import (
    Bounty,
    BountyFilter,
    BountyRow,
    Comment,
    Draft,
    OutboxEntry,
    Review,
    Revision,
    Submission,
    Thread,
)

__all__ = [
    "BOUNTY_SORTS",
    "Bounty",
    "BountyFilter",
    "BountyRow",
    "Comment",
    "Draft",
    "LocalStore",
    "OutboxEntry",
    "Review",
    "Revision",
    "StoreCorrupt",
    "Submission",
    "Thread",
]
