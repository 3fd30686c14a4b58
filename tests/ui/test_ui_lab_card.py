"""The lab sees a submission's pack card on "My bounties": a bounty posted with calibration
targets, an author's revision carrying card.json (pushed to the real local platform), and
"Pack card…" opening the card with the lab's targets met, not met or not measurable."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager

import pytest
from PySide6.QtCore import QDate
from support.card_samples import sample_card
from support.platform_testkit import Api, package_files

from app.sync import lab, lab_fields
from app.sync.client import PlatformClient
from app.ui.funnel.calibration_view import CalibrationView
from app.ui.lab.bounties_screen import MyBountiesScreen

TARGETS = [
    {"metric": "pass_rate", "comparator": ">=", "value": 0.9, "model": "openai/oracle"},
    {"metric": "signal_share", "comparator": ">=", "value": 0.5, "model": "lab/reference"},
]


@pytest.fixture
def platform(tmp_path):
    from support.real_platform import RealPlatform

    running = RealPlatform(tmp_path / "platform").start()
    try:
        yield running
    finally:
        running.stop()


def _post_bounty(platform) -> str:
    body = {"title": "Geometry QA", "domain": "biology", "reward": 500,
            "deadline": lab_fields.deadline("2099-06-30").isoformat(),
            "calibration_targets": TARGETS}  # fmt: skip

    async def run():
        async with PlatformClient(platform.url, platform.tokens["lab"]) as client:
            return await lab.post_bounty(client, body)

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # its own loop: the test's loop is the app's
        return pool.submit(asyncio.run, run()).result()["id"]


def _submit_with_card(platform, bounty_id: str) -> str:
    author = Api(platform.url, platform.tokens["author"])
    try:
        sid = author.post("/v1/submissions", {"bounty_id": bounty_id}).json()["id"]
        files = package_files("qa-exact")
        manifest = author.upload({**files, "card": json.dumps(sample_card()).encode()})
        card = manifest.pop("card")
        etag = author.get(f"/v1/submissions/{sid}").headers["etag"]
        body = {"files": manifest, "card": card}
        pushed = author.post(f"/v1/submissions/{sid}/revisions", body, if_match=etag)
        assert pushed.status_code == 201, pushed.text
        return sid
    finally:
        author.close()


def _screen(qtbot, job_runner, platform) -> MyBountiesScreen:
    screen = MyBountiesScreen(job_runner)
    qtbot.addWidget(screen)
    screen.resize(1100, 760)
    screen.show()

    @asynccontextmanager
    async def open_client():
        async with PlatformClient(platform.url, platform.tokens["lab"]) as client:
            yield client

    screen.set_client_factory(open_client)
    with qtbot.waitSignal(screen.loaded, timeout=20_000):
        screen.refresh()
    return screen


def test_the_lab_opens_a_submissions_pack_card(qtbot, job_runner, async_loop, platform):
    bid = _post_bounty(platform)
    sid = _submit_with_card(platform, bid)
    screen = _screen(qtbot, job_runner, platform)
    with qtbot.waitSignal(screen.submissions_loaded, timeout=20_000):
        screen.select_bounty(bid)
    assert not screen.card_button.isEnabled()  # nothing selected yet
    screen.submission_table.selectRow(0)
    assert screen.selected_submission()["id"] == sid and screen.card_button.isEnabled()
    screen.card_button.click()
    qtbot.waitUntil(lambda: screen.findChild(CalibrationView) is not None, timeout=20_000)
    view = screen.findChild(CalibrationView)
    assert view.card["package"]["name"] == "geometry-qa"
    assert [t.status for t in view.targets] == ["met", "not measurable"]
    assert "Bounty targets: 1 of 2 met" in view.summary.text()
    view.close()
    qtbot.waitUntil(lambda: job_runner.running == 0, timeout=20_000)


def test_the_bounty_form_takes_calibration_targets(qtbot, job_runner, async_loop, platform):
    screen = _screen(qtbot, job_runner, platform)
    form = screen.new_bounty()
    form.title_edit.setText("Geometry QA")
    form.domain_box.setEditText("biology")
    form.reward_edit.setText("500")
    form.deadline_edit.setDate(QDate(2099, 6, 30))
    form.targets_edit.setPlainText("signal_share>=0.6@openai/gpt-4o-mini\npass_rate>=60")
    form.save_button.click()
    assert form.errors["targets"].isVisible()
    assert "a share between 0 and 1" in form.errors["targets"].text()
    form.targets_edit.setPlainText("signal_share>=0.6@openai/gpt-4o-mini\n\ntasks>=50")
    with qtbot.waitSignal(form.saved, timeout=20_000) as saved:
        form.save_button.click()
    targets = saved.args[0]["calibration_targets"]
    assert targets == [
        {"metric": "signal_share", "comparator": ">=", "value": 0.6,
         "model": "openai/gpt-4o-mini"},
        {"metric": "tasks", "comparator": ">=", "value": 50.0},
    ]  # fmt: skip
    edit = screen._open_form(saved.args[0], None)
    assert edit.targets_edit.toPlainText() == "signal_share>=0.6@openai/gpt-4o-mini\ntasks>=50"
    edit.close()
    qtbot.waitUntil(lambda: job_runner.running == 0, timeout=20_000)
