"""The lab's "My bounties" screen against the real local platform: post a bounty through the
form (it is live on the server), refuse an invalid form with the field's message, edit it, show
a stale-edit refusal without losing what was typed, close it, list the submissions with the
platform's check results, and assign a reviewer (never the author). Photographs each screen
into test-artifacts/screenshots/ for people to look at."""

from __future__ import annotations

import asyncio
import os
import time
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from support.platform_testkit import Api, package_files

from app.sync import lab, lab_fields
from app.sync.client import PlatformClient
from app.sync.errors import StaleVersion
from app.ui.lab.bounties_screen import MyBountiesScreen

SCREENSHOTS = Path(
    os.environ.get(
        "GAUNTLET_SCREENSHOTS",
        Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots",
    )
)
FINAL_CHECKS = ("passed", "failed", "error")


@pytest.fixture
def platform(tmp_path):
    from support.real_platform import RealPlatform

    running = RealPlatform(tmp_path / "platform").start()
    try:
        yield running
    finally:
        running.stop()


def client_factory(platform, role: str = "lab"):
    @asynccontextmanager
    async def open_client():
        async with PlatformClient(platform.url, platform.tokens[role]) as client:
            yield client

    return open_client


def call(platform, work, role: str = "lab"):
    """A call made outside the app (another window, the CLI, a colleague): its own loop, in a
    worker thread, since the test's loop is the app's."""

    async def run():
        async with PlatformClient(platform.url, platform.tokens[role]) as client:
            return await work(client)

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


@pytest.fixture
def screen(qtbot, job_runner, async_loop, platform):
    view = MyBountiesScreen(job_runner)
    qtbot.addWidget(view)
    view.resize(1100, 760)
    view.show()
    view.set_client_factory(client_factory(platform))
    with qtbot.waitSignal(view.loaded, timeout=20_000):
        view.refresh()
    yield view
    for dialog in (view.form, view.assign_dialog):
        if dialog is not None:
            dialog.close()
    qtbot.waitUntil(lambda: job_runner.running == 0, timeout=20_000)


def shoot(widget, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(SCREENSHOTS / name))


def row_of(table, text: str) -> int:
    for row in range(table.rowCount()):
        if table.item(row, 0).text() == text:
            return row
    raise AssertionError(f"{text!r} not in the table")


def fill_form(form, *, title: str = "Enzyme kinetics QA", reward: str = "5000") -> None:
    form.title_edit.setText(title)
    form.domain_box.setEditText("biology")
    form.tags_edit.setText("enzymes, kinetics")
    form.summary_edit.setText("Questions on Michaelis–Menten kinetics, with exact answers.")
    form.brief_edit.setPlainText(
        "# What we want\n\nQuestions a **biochemist** answers from first principles:\n\n"
        "- initial rates\n- inhibition\n"
    )
    form.criteria.table.setRowCount(0)
    form.criteria.add_row("Answers are correct", "3", "Each answer matches a worked solution")
    form.criteria.add_row("Coverage", "1.5", "Rates, inhibition and temperature")
    form.constraints_edit.setPlainText("min_tasks=50\nlanguage=en")
    form.reward_edit.setText(reward)
    form.currency_box.setEditText("EUR")
    form.deadline_edit.setDate(QDate(2099, 6, 30))


def test_not_connected_says_so_and_offers_nothing(qtbot, job_runner):
    view = MyBountiesScreen(job_runner)
    qtbot.addWidget(view)
    view.refresh()
    assert "Not connected to a platform" in view.status.text() and job_runner.running == 0
    assert not view.new_button.isEnabled() and not view.edit_button.isEnabled()


def test_post_refuse_edit_stale_and_close_a_bounty(qtbot, screen, platform):
    form = screen.new_bounty()
    # 1. An invalid form: the message sits next to the field, and nothing is sent.
    fill_form(form, title="   ")
    form.criteria.add_row("Rigour", "heavy")
    form.save_button.click()
    assert form.errors["title"].isVisible() and "needs a title" in form.errors["title"].text()
    assert "Please fix" in form.banner.text() and form.isVisible()
    form.title_edit.setText("Enzyme kinetics QA")
    form.save_button.click()
    assert "The weight 'heavy' is not a number" in form.errors["criteria"].text()
    assert not form.errors["title"].isVisible()
    assert form.criteria.table.selectionModel().selectedRows()[0].row() == 2
    form.criteria.table.item(2, 1).setText("2")
    assert "Weights add up to 6.5" in form.criteria.sum_label.text()
    form.brief_tabs.setCurrentIndex(1)
    assert "biochemist" in form.brief_preview.toPlainText()
    assert "**" not in form.brief_preview.toPlainText()  # rendered, not shown as markup
    shoot(form, "lab-bounty-form.png")

    # 2. Posted: live on the platform with every field.
    with qtbot.waitSignal(form.saved, timeout=20_000) as saved:
        form.save_button.click()
    bid = saved.args[0]["id"]
    posted = call(platform, lambda c: lab.read_bounty(c, bid))[0]
    assert posted["title"] == "Enzyme kinetics QA" and posted["domain"] == "biology"
    assert posted["tags"] == ["enzymes", "kinetics"] and posted["currency"] == "EUR"
    assert posted["constraints"] == {"min_tasks": 50, "language": "en"}
    assert posted["deadline"].startswith("2099-06-30T23:59:59") and posted["reward"] == 5000
    assert [(c["id"], c["weight"], c["description"]) for c in posted["rubric"]] == [
        ("answers-are-correct", 3.0, "Each answer matches a worked solution"),
        ("coverage", 1.5, "Rates, inhibition and temperature"),
        ("rigour", 2.0, ""),
    ]
    qtbot.waitUntil(lambda: any(b["id"] == bid for b in screen.bounties), timeout=20_000)
    row = row_of(screen.table, "Enzyme kinetics QA")
    assert [screen.table.item(row, c).text() for c in range(1, 6)] == [
        "biology", "open", "0", "5,000 EUR", "2099-06-30",
    ]  # fmt: skip

    # 3. Edit, while someone else changes the bounty: refused, nothing typed is lost.
    form = open_editor(qtbot, screen, bid)
    assert form.title_edit.text() == "Enzyme kinetics QA" and form.reward_edit.text() == "5000"
    assert form.criteria.table.rowCount() == 3
    call(platform, lambda c: edit_elsewhere(c, bid))
    form.reward_edit.setText("9000")
    form.title_edit.setText("Enzyme kinetics, harder")
    with qtbot.waitSignal(form.refused, timeout=20_000) as refused:
        form.save_button.click()
    assert isinstance(refused.args[0], StaleVersion)
    assert "changed on the platform after you opened it" in form.banner.text()
    assert form.isVisible() and form.reward_edit.text() == "9000"
    assert form.title_edit.text() == "Enzyme kinetics, harder"
    assert call(platform, lambda c: lab.read_bounty(c, bid))[0]["reward"] == 7000
    with qtbot.waitSignal(form.saved, timeout=20_000):
        form.overwrite_button.click()  # "Save over it": my version replaces theirs
    now = call(platform, lambda c: lab.read_bounty(c, bid))[0]
    assert now["reward"] == 9000 and now["title"] == "Enzyme kinetics, harder"
    assert [c["id"] for c in now["rubric"]][0] == "answers-are-correct"  # ids kept on edit

    # 4. Close: asks first; "no" changes nothing.
    qtbot.waitUntil(lambda: bid in {b["id"] for b in screen.bounties}, timeout=20_000)
    screen.select_bounty(bid)
    asked = []
    screen.confirm = lambda _parent, _title, text: asked.append(text) or False
    screen.close_button.click()
    assert "Authors can no longer submit" in asked[0]
    screen.confirm = lambda *_args: True
    screen.close_button.click()
    qtbot.waitUntil(lambda: "Closed “Enzyme" in screen.status.text(), timeout=20_000)
    assert call(platform, lambda c: lab.read_bounty(c, bid))[0]["status"] == "closed"
    row = row_of(screen.table, "Enzyme kinetics, harder")
    assert screen.table.item(row, 2).text() == "closed"
    screen.select_bounty(bid)
    assert not screen.close_button.isEnabled() and "Closed" in screen.status.text()


def open_editor(qtbot, screen, bounty_id: str):
    screen.select_bounty(bounty_id)
    screen.form = None
    screen.edit_button.click()
    qtbot.waitUntil(lambda: screen.form is not None and screen.form.isVisible(), timeout=20_000)
    return screen.form


async def edit_elsewhere(client, bounty_id: str) -> dict:
    current, etag = await lab.read_bounty(client, bounty_id)
    return await lab.edit_bounty(client, current, etag, {"reward": 7000})


def test_an_unknown_domain_is_refused_next_to_the_field(qtbot, screen, platform):
    form = screen.new_bounty()
    fill_form(form)
    form.domain_box.setEditText("biolgy")
    with qtbot.waitSignal(form.refused, timeout=20_000):
        form.save_button.click()
    text = form.errors["domain"].text()
    assert "Unknown domain 'biolgy'" in text and "Start a new domain" in text
    assert "--new-domain" not in text and form.title_edit.text() == "Enzyme kinetics QA"
    form.new_domain.setChecked(True)
    with qtbot.waitSignal(form.saved, timeout=20_000) as saved:
        form.save_button.click()
    assert saved.args[0]["domain"] == "biolgy"


def submit_as_author(platform, bounty_id: str) -> str:
    author = Api(platform.url, platform.tokens["author"])
    try:
        created = author.post("/v1/submissions", {"bounty_id": bounty_id}, key="ui-lab-test")
        assert created.status_code == 201, created.text
        author.push(created.json()["id"], package_files("qa-exact"))
        return created.json()["id"]
    finally:
        author.close()


def wait_for_check(platform, bounty_id: str, timeout: float = 180) -> dict:
    """The submission once the platform's own check has finished and moved it on (its worker
    runs the check, then the submission goes to review or back to the author)."""
    deadline = time.monotonic() + timeout
    while True:
        (row,) = call(platform, lambda c: lab.bounty_submissions(c, bounty_id))[1]
        settled = row["state"] not in ("submitted", "checking")  # moved on after its check
        if (row["check"]["status"] in FINAL_CHECKS and settled) or time.monotonic() > deadline:
            return row
        time.sleep(0.5)


@pytest.mark.slow
def test_submissions_with_check_results_and_assigning_a_reviewer(qtbot, screen, platform):
    platform.create_user("biologist", "reviewer", domains=("biology",))
    platform.create_user("chemist", "reviewer", domains=("chemistry",))
    body = {"title": "Enzyme kinetics QA", "domain": "biology", "reward": 5000,
            "deadline": lab_fields.deadline("2099-06-30").isoformat()}  # fmt: skip
    bid = call(platform, lambda c: lab.post_bounty(c, body))["id"]
    sid = submit_as_author(platform, bid)
    server_row = wait_for_check(platform, bid)
    assert server_row["check"]["status"] in FINAL_CHECKS

    with qtbot.waitSignal(screen.loaded, timeout=20_000):
        screen.refresh()
    row = row_of(screen.table, "Enzyme kinetics QA")
    assert screen.table.item(row, 3).text() == "1"
    with qtbot.waitSignal(screen.submissions_loaded, timeout=20_000):
        screen.select_bounty(bid)
    cells = [screen.submission_table.item(0, c).text() for c in range(6)]
    assert cells[:4] == [sid, "you", server_row["state"], "1"]
    assert cells[4] == lab.check_words(server_row["check"]) and cells[4].startswith(
        server_row["check"]["status"]
    )
    assert "1 submission" in screen.submissions_title.text()
    assert not screen.assign_button.isEnabled()
    screen.submission_table.selectRow(0)
    assert screen.assign_button.isEnabled()
    shoot(screen, "lab-bounties.png")

    dialog = screen.assign_selected()
    qtbot.waitUntil(lambda: dialog.people.count() > 0, timeout=20_000)
    texts = [dialog.people.item(i).text() for i in range(dialog.people.count())]
    vetted = [t for t in texts if t.startswith("✓")]
    assert any("biologist" in t for t in vetted) and not any("chemist" in t for t in vetted)
    assert texts.index(vetted[-1]) < next(i for i, t in enumerate(texts) if "chemist" in t)
    author_item = dialog.people.item(len(texts) - 1)
    assert "you (author)" in author_item.text() and "their own submission" in author_item.text()
    assert not author_item.flags() & Qt.ItemFlag.ItemIsSelectable
    # The local platform may have auto-assigned one already: pick a vetted one who is not.
    pick = next(i for i, t in enumerate(texts) if t.startswith("✓") and "already" not in t)
    name = texts[pick].split()[1]
    assert name not in {r["name"] for r in server_row["reviewers"]}
    dialog.people.setCurrentRow(pick)
    shoot(dialog, "lab-assign.png")
    with (
        qtbot.waitSignal(screen.submissions_loaded, timeout=20_000),
        qtbot.waitSignal(dialog.assigned, timeout=20_000),
    ):
        dialog.assign_button.click()
    assert name in screen.submission_table.item(0, 5).text()
    reviewers = call(platform, lambda c: lab.bounty_submissions(c, bid))[1][0]["reviewers"]
    assert name in {r["name"] for r in reviewers}

    # The author cannot be picked; asked for anyway, the refusal is shown in words.
    screen.submission_table.selectRow(0)
    dialog = screen.assign_selected()
    qtbot.waitUntil(lambda: dialog.people.count() > 0, timeout=20_000)
    author_id = server_row["author"]["id"]
    with qtbot.waitSignal(dialog.refused, timeout=20_000):
        dialog.assign(author_id)
    assert "nobody may review their own submission" in dialog.message.text()
    assert dialog.isVisible()
    reviewers = call(platform, lambda c: lab.bounty_submissions(c, bid))[1][0]["reviewers"]
    assert author_id not in {r["id"] for r in reviewers}
