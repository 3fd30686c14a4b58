"""The reviewer sees the author's pack card: a revision submitted with .gauntlet/card.json
(through the real sync engine and the real local platform) enables "Pack card…" on the review
page, and the card opens in the calibration view with the bounty's targets checked by the
server; a revision without one says so in the Reports tab."""

from __future__ import annotations

import json

from support.card_samples import sample_card

from app.ui.app_settings import AppSettings
from app.ui.funnel.calibration_view import CalibrationView
from app.ui.review.review_page import ReviewPage

TARGETS = [
    {"metric": "signal_share", "comparator": ">=", "value": 0.6, "model": "openai/half"},
    {"metric": "tasks", "comparator": ">=", "value": 10},
]


def _page(qtbot, tmp_path, review, job_runner) -> ReviewPage:
    page = ReviewPage(
        settings=AppSettings(tmp_path / "reviewer.ini"), credentials=None, job_runner=job_runner
    )
    qtbot.addWidget(page)
    page.resize(1300, 820)
    page.set_session(review.reviewer)
    return page


def _open(qtbot, page: ReviewPage, submission_id: str) -> None:
    with qtbot.waitSignal(page.opened, timeout=30_000):
        page.open_submission(submission_id)


def test_the_reviewer_opens_the_authors_pack_card(qtbot, tmp_path, review, job_runner):
    from app.platform.models import Bounty

    def set_targets(session, _settings):
        session.get(Bounty, review.bounty_id).calibration_targets = TARGETS

    review.on_platform(set_targets)
    page = _page(qtbot, tmp_path, review, job_runner)
    _open(qtbot, page, review.submission_id)
    assert not page.card_button.isEnabled()  # revision 1 came without a card
    assert "No pack card came with this revision" in page.reports.toPlainText()

    (review.package / ".gauntlet").mkdir(exist_ok=True)
    (review.package / ".gauntlet" / "card.json").write_text(json.dumps(sample_card()))
    assert review.resubmit() == 2
    review.sync(review.reviewer)
    _open(qtbot, page, review.submission_id)
    assert page.card_button.isEnabled()
    assert "Pack card… shows it" in page.reports.toPlainText()
    page.card_button.click()
    qtbot.waitUntil(lambda: page.findChild(CalibrationView) is not None, timeout=30_000)
    view = page.findChild(CalibrationView)
    assert view.table.rowCount() == 12 and view.card == sample_card()
    summary = view.summary.text()
    assert "Bounty targets: 1 of 2 met" in summary and "not met" in summary
    review.screenshot(view, "review-pack-card.png")
    view.close()
