"""Submissions and Reviews screens over the real local store: states in plain words, the
platform's report, reviewer verdicts and line comments, and honest empty states."""

from __future__ import annotations

import pytest
from support.bounties import make_bounty

from app.sync.store import LocalStore
from app.ui.store_views import ReviewsView, SubmissionsView


@pytest.fixture
def store(tmp_path):
    store = LocalStore(tmp_path / "store.sqlite")
    store.bounties.upsert([make_bounty(1), make_bounty(2)])
    store.submissions.upsert(
        {
            "id": "s1",
            "bounty_id": "b_00001",
            "author": "you",
            "state": "changes_requested",
            "created_at": "2026-11-20T10:00:00Z",
            "updated_at": "2026-11-21T09:30:00Z",
        }
    )
    store.submissions.upsert(
        {
            "id": "s2",
            "bounty_id": "b_00002",
            "author": "you",
            "state": "check_failed",
            "created_at": "2026-11-19T10:00:00Z",
            "updated_at": "2026-11-19T10:05:00Z",
        }
    )
    report = {
        "schema": "gauntlet-report/1",
        "verdict": "fail",
        "package": {},
        "stages": [],
        "findings": [
            {
                "code": "GX201",
                "severity": "error",
                "stage": "verify",
                "message": "The reference for task t2 scores 0.0, below the pass threshold 1.0.",
                "hint": "Check the expected answer of t2.",
            }
        ],
    }
    store.submissions.upsert_revision(
        {
            "submission_id": "s2",
            "number": 1,
            "created_at": "2026-11-19T10:00:00Z",
            "check": {"status": "check_failed", "report": report},
        }
    )
    store.submissions.upsert_revision(
        {
            "submission_id": "s1",
            "number": 1,
            "created_at": "2026-11-20T10:00:00Z",
            "check": {"status": "passed"},
        }
    )
    store.reviews.upsert(
        {
            "id": "r1",
            "submission_id": "s1",
            "revision": 1,
            "reviewer": "rev",
            "verdict": "request_changes",
            "summary": "Two answers are ambiguous.",
            "created_at": "2026-11-21T09:30:00Z",
        }
    )
    store.reviews.upsert_thread(
        {
            "id": "th1",
            "submission_id": "s1",
            "resolved": False,
            "author": "rev",
            "anchor": {"revision": 1, "path": "tasks.jsonl", "start_line": 4, "end_line": 4},
            "position": {"path": "tasks.jsonl", "start_line": 5, "end_line": 5, "status": "moved"},
            "comments": [{"id": "c1", "author": "rev", "body": "Is 0.5 or 1/2 accepted here?"}],
        }
    )
    yield store
    store.close()


def test_submissions_list_states_in_plain_words_with_the_platform_report(qtbot, store):
    view = SubmissionsView()
    qtbot.addWidget(view)
    view.set_store(store)
    assert view.stack.currentWidget() is view.splitter
    states = {
        view.tree.topLevelItem(i).text(0): view.tree.topLevelItem(i).text(1)
        for i in range(view.tree.topLevelItemCount())
    }
    assert states[store.bounties.get("b_00001").title] == "Changes requested by the reviewer"
    assert states[store.bounties.get("b_00002").title] == "Checks failed — fix and resubmit"
    failed = next(
        view.tree.topLevelItem(i)
        for i in range(2)
        if view.tree.topLevelItem(i).text(1).startswith("Checks failed")
    )
    view.tree.setCurrentItem(failed)
    text = view.detail.toPlainText()
    assert "Revision 1" in text and "failed" in text
    assert "below the pass threshold" in text and "Check the expected answer" in text


def test_reviews_show_verdicts_and_comments_on_lines(qtbot, store):
    view = ReviewsView()
    qtbot.addWidget(view)
    view.set_store(store)
    assert view.tree.topLevelItemCount() == 1  # only the reviewed submission
    item = view.tree.topLevelItem(0)
    assert item.text(1) == "Changes requested" and item.text(2) == "1 (1 open)"
    view.tree.setCurrentItem(item)
    text = view.detail.toPlainText()
    assert "Two answers are ambiguous." in text
    assert "tasks.jsonl, line 5" in text and "moved" in text
    assert "Is 0.5 or 1/2 accepted here?" in text


def test_empty_store_says_what_to_do_next(qtbot, tmp_path):
    store = LocalStore(tmp_path / "empty.sqlite")
    for view in (SubmissionsView(), ReviewsView()):
        qtbot.addWidget(view)
        view.set_store(store)
        assert view.stack.currentWidget() is view.empty
        assert view.empty.body_label.text()
    store.close()
