"""What is new since the user last looked: the numbers behind the sidebar's badges and the
"new on the platform" notification after a sync.

Each screen has a set of fingerprints, one per thing worth noticing (a review, a comment by
someone else, a submission's state or check result, an assignment or a new revision to
review). What the user has seen is kept in the local store, so a badge survives a restart and
clears when the screen is opened. No Qt here: the window only shows the numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

SCREENS = ("submissions", "reviews", "queue")
_WORDS = {
    "submissions": ("submission changed", "submissions changed"),
    "reviews": ("new review or comment", "new reviews or comments"),
    "queue": ("submission to review", "submissions to review"),
}


@dataclass(frozen=True, slots=True)
class Activity:
    unseen: dict[str, int]  # screen -> how many things the user has not seen there

    def summary(self) -> str:
        """'2 new reviews or comments, 1 submission changed', or '' when nothing is new."""
        parts = []
        for screen in SCREENS:
            n = self.unseen.get(screen, 0)
            if n:
                one, many = _WORDS[screen]
                parts.append(f"{n} {one if n == 1 else many}")
        return ", ".join(parts)


def fingerprints(store) -> dict[str, set[str]]:
    me_id = store.get_meta("me_id")
    me_name = store.get_meta("me")
    found: dict[str, set[str]] = {screen: set() for screen in SCREENS}
    for sub in store.submissions.list():
        if sub.id.startswith("pending:"):
            continue
        revisions = store.submissions.revisions(sub.id)
        check = (revisions[-1].data.get("check") or {}) if revisions else {}
        status = check.get("status", "") if isinstance(check, dict) else ""
        found["submissions"].add(f"{sub.id}:{sub.state}:{status}")
        reviewers = {r.get("id") for r in sub.data.get("reviewers") or [] if isinstance(r, dict)}
        if me_id and me_id in reviewers:
            found["queue"].add(f"{sub.id}:r{sub.latest_revision}")
        for review in store.reviews.list(sub.id):
            found["reviews"].add(f"review:{review.id}")
        for thread in store.reviews.threads_for(sub.id):
            for comment in thread.comments:
                if not comment.pending and comment.author != me_name:
                    found["reviews"].add(f"comment:{comment.id}")
    return found


def _seen(store, screen: str) -> set[str] | None:
    raw = store.get_meta(f"seen:{screen}")
    if raw is None:
        return None
    try:
        return set(json.loads(raw))
    except (ValueError, TypeError):
        return set()  # a damaged record: show everything as new rather than fail


def activity(store) -> Activity:
    """How much is unseen per screen. A store seen for the first time starts with what it
    holds as seen: a cached feed from before this version is not news."""
    current = fingerprints(store)
    unseen = {}
    for screen, items in current.items():
        seen = _seen(store, screen)
        if seen is None:
            mark_seen(store, screen, items)
            seen = items
        unseen[screen] = len(items - seen)
    return Activity(unseen)


def mark_seen(store, screen: str, items: set[str] | None = None) -> None:
    """The user has looked at `screen`: everything on it now counts as seen."""
    if items is None:
        items = fingerprints(store)[screen]
    store.set_meta(f"seen:{screen}", json.dumps(sorted(items)))
