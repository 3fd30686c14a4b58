"""The verdict form against the real local platform: the rubric built from the bounty's
criteria with a live weighted total, a verdict with scores reaching the platform, and two
refusals (a verdict on a revision the author has replaced; the author judging their own work)
that show the platform's reason and keep the draft."""

from __future__ import annotations

import pytest

from app.ui.review.verdict_form import READ_ONLY, VerdictForm, criteria_of, weighted_total


@pytest.fixture
def store_only(tmp_path):
    from app.sync.store import LocalStore

    with LocalStore(tmp_path / "store.sqlite") as store:
        yield store


def _form(qtbot, session, submission_id: str) -> VerdictForm:
    form = VerdictForm()
    qtbot.addWidget(form)
    form.resize(680, 900)
    form.set_engine(session.engine)
    form.show_submission(submission_id)
    form.show()
    return form


def _score_all(form: VerdictForm) -> dict[str, int]:
    for item in form.criteria:
        form.spins[item["id"]].setValue(item["max_score"] - 1)
    return form.scores()


def test_rubric_scores_and_a_verdict_reach_the_platform(qtbot, review):
    form = _form(qtbot, review.reviewer, review.submission_id)
    bounty = review.reviewer.store.bounties.get(review.bounty_id)
    assert form.header.title.text() == "Verdict on revision 1"
    assert [c["id"] for c in form.criteria] == [c["id"] for c in bounty.rubric]
    assert "0 of" in form.total.text() and "–" in form.total.text()

    first = form.criteria[0]
    form.spins[first["id"]].setValue(first["max_score"])
    assert "Weighted total: 100%" in form.total.text()  # live, over what is scored
    form.decision_buttons["request_changes"].click()
    assert "Score every criterion" in form.error.text() and form.error.isVisible()
    scores = _score_all(form)
    expected = weighted_total(form.criteria, scores)
    assert f"Weighted total: {expected:.0f}%" in form.total.text()
    form.decision_buttons["request_changes"].click()
    assert "Write a summary" in form.error.text()
    assert review.reviewer.store.outbox.pending() == []  # nothing queued while invalid

    form.summary.set_text("Nearly there: **explain** the grader's rounding.")
    assert not form.error.isVisible()  # typing clears the old message
    form.summary.setCurrentIndex(1)
    review.screenshot(form, "review-verdict.png")
    with qtbot.waitSignal(form.changed):
        form.decision_buttons["request_changes"].click()
    assert "waiting to sync" in form.status.text() and not form.error.isVisible()
    review.sync(review.reviewer)
    form.refresh()
    assert "Last verdict: 'request changes' on revision 1" in form.status.text()

    review.sync(review.author)
    assert review.author.store.submissions.get(review.submission_id).state == "changes_requested"
    (sent,) = [r for r in review.author.store.reviews.list(review.submission_id) if r.verdict]
    assert sent.verdict == "request_changes" and sent.data["scores"] == scores
    assert sent.data["summary"].startswith("Nearly there")


def test_a_verdict_on_a_replaced_revision_is_refused_and_the_draft_kept(qtbot, review):
    form = _form(qtbot, review.reviewer, review.submission_id)
    scores = _score_all(form)
    form.summary.set_text("Looks good to me.")
    # Meanwhile the author pushes revision 2 (the reviewer has not synced yet).
    readme = review.package / "README.md"
    readme.write_text(readme.read_text() + "\nMore detail.\n")
    assert review.resubmit() == 2
    form.decision_buttons["approve"].click()
    review.sync(review.reviewer)

    # A new form (as after a restart) shows the refusal and gets the draft back.
    again = _form(qtbot, review.reviewer, review.submission_id)
    assert again.refusals.isVisible()
    (refusal,) = again.refusals.refusals
    assert "revision 1" in refusal.message and "revision 2" in refusal.message
    assert again.header.title.text() == "Verdict on revision 2"
    assert again.summary.text() == "Looks good to me." and again.scores() == scores

    # Deciding again sends it on revision 2 and replaces the refused one.
    again.decision_buttons["approve"].click()
    (entry,) = review.reviewer.store.outbox.pending()
    assert entry.payload["revision"] == 2 and entry.payload["summary"] == "Looks good to me."
    review.sync(review.reviewer)
    again.refresh()
    assert not again.refusals.isVisible() and review.reviewer.store.outbox.pending() == []
    assert review.reviewer.store.submissions.get(review.submission_id).state == "accepted"


def test_the_author_may_not_judge_their_own_work(qtbot, review):
    form = _form(qtbot, review.author, review.submission_id)
    _score_all(form)
    form.summary.set_text("I think it is great.")
    form.decision_buttons["reject"].click()
    review.sync(review.author)
    form.refresh()
    (refusal,) = form.refusals.refusals
    assert "own submission" in refusal.message and refusal.draft == "I think it is great."
    assert form.summary.text() == "I think it is great."
    discard = [
        b
        for b in form.refusals.findChildren(type(form.decision_buttons["reject"]))
        if b.text() == "Discard"
    ]
    discard[0].click()
    assert review.author.store.outbox.pending() == [] and not form.refusals.isVisible()


def test_criteria_from_older_records_and_read_only(qtbot, store_only):
    class Bounty:
        rubric = [{"criterion": "Correctness", "weight": 3}, {"id": "clarity", "title": "Clarity"}]

    items = criteria_of(Bounty())
    assert [(c["id"], c["title"], c["weight"]) for c in items] == [
        ("correctness", "Correctness", 3.0),
        ("clarity", "Clarity", 1.0),
    ]
    assert weighted_total(items, {}) is None
    assert weighted_total(items, {"correctness": 5, "clarity": 0}) == 75.0

    form = VerdictForm()
    qtbot.addWidget(form)
    form.set_store(store_only)  # no engine: read-only
    form.show_submission("s_missing")
    assert form.header.title.text() == "Verdict"
    button = form.decision_buttons["approve"]
    assert not button.isEnabled() and button.toolTip() == READ_ONLY
