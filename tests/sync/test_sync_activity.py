"""The numbers behind the sidebar badges: what arrived since the user last opened a screen,
kept across restarts, cleared by looking."""

from __future__ import annotations

import pytest

from app.sync.activity import activity, mark_seen
from app.sync.store import LocalStore


@pytest.fixture
def store(tmp_path):
    store = LocalStore(tmp_path / "store.sqlite")
    store.set_meta("me", "ada")
    store.set_meta("me_id", "u-ada")
    yield store
    store.close()


def _submission(store, sid, state="checking", reviewers=(), revision=1, check="queued"):
    store.submissions.upsert(
        {
            "id": sid,
            "bounty_id": "b1",
            "author": "bob",
            "state": state,
            "current_revision": revision,
            "reviewers": [{"id": r} for r in reviewers],
            "created_at": "2026-12-01T10:00:00Z",
            "updated_at": "2026-12-01T10:00:00Z",
        }
    )
    store.submissions.upsert_revision(
        {"submission_id": sid, "number": revision, "check": {"status": check}}
    )


def _thread(store, sid, comments):
    store.reviews.upsert_thread(
        {
            "id": f"th-{sid}",
            "submission_id": sid,
            "author": comments[0][0],
            "anchor": {"revision": 1, "path": "grader.py", "start_line": 3, "end_line": 3},
            "comments": [
                {"id": f"c{i}", "author": who, "body": body}
                for i, (who, body) in enumerate(comments)
            ],
        }
    )


def test_an_empty_store_seen_first_counts_what_arrives_later(store):
    assert activity(store).unseen == {"submissions": 0, "reviews": 0, "queue": 0}
    _submission(store, "s1", reviewers=["u-ada"])
    _thread(store, "s1", [("rev", "Is 1/2 accepted?"), ("ada", "Yes, now it is.")])
    news = activity(store)
    # The comment Ada wrote herself is not news to her.
    assert news.unseen == {"submissions": 1, "reviews": 1, "queue": 1}
    assert news.summary() == (
        "1 submission changed, 1 new review or comment, 1 submission to review"
    )


def test_looking_clears_one_screen_and_a_change_brings_the_badge_back(store, tmp_path):
    activity(store)
    _submission(store, "s1", reviewers=["u-ada"])
    mark_seen(store, "queue")
    assert activity(store).unseen["queue"] == 0
    assert activity(store).unseen["submissions"] == 1  # not looked at yet
    # A new revision to review, and a state change with a check result, are news again.
    _submission(store, "s1", state="in_review", reviewers=["u-ada"], revision=2, check="passed")
    assert activity(store).unseen["queue"] == 1
    # What was seen survives a restart (it lives in the store).
    store.close()
    reopened = LocalStore(tmp_path / "store.sqlite")
    try:
        assert activity(reopened).unseen["queue"] == 1
        mark_seen(reopened, "queue")
        assert activity(reopened).unseen["queue"] == 0
    finally:
        reopened.close()


def test_a_cached_store_opened_by_a_new_version_has_no_badges(store):
    _submission(store, "s1", reviewers=["u-ada"])
    _thread(store, "s1", [("rev", "Looks fine.")])
    assert activity(store).unseen == {"submissions": 0, "reviews": 0, "queue": 0}
    assert activity(store).summary() == ""


def test_a_damaged_record_shows_everything_as_new_instead_of_failing(store):
    activity(store)
    _submission(store, "s1")
    store.set_meta("seen:submissions", "{not json")
    assert activity(store).unseen["submissions"] == 1
