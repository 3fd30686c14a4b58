"""The bounty browser: its Qt model, search and filters, the detail pane, and starting an
environment from a bounty (a real template written to disk, then recorded as a draft)."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from support.bounties import make_bounty

from app.sync.store import BountyFilter, LocalStore
from app.ui.bounties.browser import BountyBrowser
from app.ui.bounties.start_environment import plan_for, template_for
from app.ui.bounties.table_model import REWARD, TITLE, BountyIdRole, BountyTableModel


@pytest.fixture
def rows(bounty_store):
    return bounty_store.bounties.list()


def test_model_passes_qt_model_tester(qtmodeltester, rows):
    model = BountyTableModel()
    model.set_bounties(rows)
    qtmodeltester.check(model, force_py=True)
    # The tester stays connected: every change below is checked as it happens.
    model.set_filters(BountyFilter(text="biology"))
    model.sort(REWARD, Qt.SortOrder.DescendingOrder)
    model.set_filters(BountyFilter())
    model.set_bounties(rows[:5])
    model.set_bounties([])


def test_model_filters_by_words_domain_status_reward_and_deadline(rows):
    today = datetime.now(UTC).date()
    model = BountyTableModel()
    model.set_bounties(rows)
    assert model.rowCount() == 40

    model.set_filters(BountyFilter(text="CHEMISTRY set"))
    shown = [model.bounty_at(i) for i in range(model.rowCount())]
    assert shown and all(b.domain == "chemistry" for b in shown)

    model.set_filters(BountyFilter(text="chemistry level-1"))  # every word must match
    assert all("level-1" in model.bounty_at(i).tags for i in range(model.rowCount()))

    model.set_filters(BountyFilter(domains=["law"], statuses=["open"]))
    shown = [model.bounty_at(i) for i in range(model.rowCount())]
    assert shown and all(b.domain == "law" and b.status == "open" for b in shown)

    model.set_filters(BountyFilter(min_reward=4000))
    assert model.rowCount() > 0
    assert all(model.bounty_at(i).reward >= 4000 for i in range(model.rowCount()))

    model.set_filters(
        BountyFilter(
            deadline_after=today.isoformat(),
            deadline_before=(today + timedelta(days=7)).isoformat(),
        )
    )
    for i in range(model.rowCount()):
        deadline = datetime.fromisoformat(model.bounty_at(i).deadline).date()
        assert today <= deadline <= today + timedelta(days=7)
    assert model.rowCount() == sum(
        1
        for b in rows
        if today <= datetime.fromisoformat(b.deadline).date() <= today + timedelta(days=7)
    )

    model.set_filters(BountyFilter(text="no such bounty anywhere"))
    assert model.rowCount() == 0


def test_model_sorts_and_keeps_the_selection(qtbot, rows):
    model = BountyTableModel()
    model.set_bounties(rows)
    model.sort(REWARD, Qt.SortOrder.DescendingOrder)
    rewards = [model.bounty_at(i).reward for i in range(model.rowCount())]
    assert rewards == sorted(rewards, reverse=True)
    model.sort(TITLE, Qt.SortOrder.AscendingOrder)
    titles = [model.bounty_at(i).title.lower() for i in range(model.rowCount())]
    assert titles == sorted(titles)
    assert model.data(model.index(0, TITLE), BountyIdRole) == model.bounty_at(0).id


def test_typing_in_search_filters_the_table_and_shows_counts(qtbot, bounty_store, job_runner):
    browser = BountyBrowser(job_runner)
    qtbot.addWidget(browser)
    browser.set_store(bounty_store)
    qtbot.waitUntil(lambda: browser.model.total_count() == 40, timeout=5000)
    # Closed bounties are hidden by default ("open" is preselected when present).
    assert browser.status_filter.currentData() == "open"
    open_count = sum(1 for b in bounty_store.bounties.list() if b.status == "open")
    assert browser.model.rowCount() == open_count
    qtbot.keyClicks(browser.search, "medicine")
    assert browser.model.rowCount() > 0
    assert all(
        browser.model.bounty_at(i).domain == "medicine" for i in range(browser.model.rowCount())
    )
    assert "Showing" in browser.count_label.text()
    qtbot.keyClicks(browser.search, " zzz")
    assert browser.model.rowCount() == 0
    assert browser.list_stack.currentWidget() is browser.no_match
    browser.no_match.action_button.click()
    assert browser.search.text() == ""
    assert browser.model.rowCount() == 40


def test_detail_pane_renders_the_brief_rubric_reward_and_deadline(qtbot, bounty_store, job_runner):
    browser = BountyBrowser(job_runner)
    qtbot.addWidget(browser)
    browser.set_store(bounty_store)
    qtbot.waitUntil(lambda: browser.model.total_count() == 40, timeout=5000)
    assert browser.select_bounty("b_00001")
    html = browser.detail_view.toHtml()
    text = browser.detail_view.toPlainText()
    assert "Set 1" in text and "ten" in text  # markdown heading and bold
    assert "font-weight" in html or "<b>" in html
    assert "Correctness" in text and "Clarity" in text
    assert "$500" in text
    assert "Deadline" in text
    assert browser.start_button.isEnabled()


def test_raw_html_in_a_brief_is_shown_as_text(qtbot, tmp_path, job_runner):
    store = LocalStore(tmp_path / "s.sqlite")
    store.bounties.upsert([make_bounty(1, brief="<script>alert(1)</script> <b>hi</b>")])
    browser = BountyBrowser(job_runner)
    qtbot.addWidget(browser)
    browser.set_store(store)
    qtbot.waitUntil(lambda: browser.model.total_count() == 1, timeout=5000)
    browser.select_bounty("b_00001")
    assert "<script>" in browser.detail_view.toPlainText()
    store.close()


def test_empty_store_says_what_to_expect(qtbot, tmp_path, job_runner):
    store = LocalStore(tmp_path / "empty.sqlite")
    browser = BountyBrowser(job_runner)
    qtbot.addWidget(browser)
    browser.set_store(store)
    qtbot.waitUntil(lambda: not browser._loading, timeout=5000)
    assert browser.list_stack.currentWidget() is browser.no_bounties
    assert "No bounties yet" in browser.no_bounties.title_label.text()
    store.close()


def test_template_follows_the_bounty():
    class B:
        def __init__(self, **kw):
            self.detail = kw.pop("detail", {})
            self.constraints = kw.pop("constraints", None)
            self.env_kind = kw.pop("env_kind", "qa")

    assert template_for(B(env_kind="code")) == "code-tests"
    assert template_for(B()) == "qa-exact"
    assert template_for(B(constraints={"grader": "numeric"})) == "qa-numeric"
    assert template_for(B(detail={"template": "qa-judge"})) == "qa-judge"


def test_start_environment_creates_the_package_from_the_template_and_opens_it(
    qtbot, bounty_store, job_runner, tmp_path
):
    target = tmp_path / "my environments"
    target.mkdir()
    asked = []

    def pick(_parent, title):
        asked.append(title)
        return str(target)

    browser = BountyBrowser(job_runner, folder_picker=pick)
    qtbot.addWidget(browser)
    browser.set_store(bounty_store)
    qtbot.waitUntil(lambda: browser.model.total_count() == 40, timeout=5000)
    browser.status_filter.setCurrentIndex(0)  # any status
    assert browser.select_bounty("b_00003")  # env_kind code
    with qtbot.waitSignal(browser.environment_created, timeout=10000) as created:
        browser.start_button.click()
    path = created.args[0]
    assert len(asked) == 1 and bounty_store.bounties.get("b_00003").title in asked[0]
    assert path == target  # an empty folder the user picked is used as it is
    manifest = tomllib.loads((path / "env.toml").read_text(encoding="utf-8"))
    assert manifest["kind"] == "code"
    assert manifest["package"]["bounty"] == "b_00003"
    assert manifest["package"]["title"] == bounty_store.bounties.get("b_00003").title
    assert [d.bounty_id for d in bounty_store.drafts.list()] == ["b_00003"]
    assert "already started" in browser.draft_note.text()

    # A second environment for the same bounty never overwrites the first one.
    with qtbot.waitSignal(browser.environment_created, timeout=10000) as again:
        browser.start_button.click()
    assert again.args[0].parent == target and (path / "env.toml").is_file()


def test_start_environment_cancelled_picker_does_nothing(qtbot, bounty_store, job_runner):
    browser = BountyBrowser(job_runner, folder_picker=lambda *_: None)
    qtbot.addWidget(browser)
    browser.set_store(bounty_store)
    qtbot.waitUntil(lambda: browser.model.total_count() == 40, timeout=5000)
    browser.select_bounty("b_00001")
    with qtbot.assertNotEmitted(browser.environment_created, wait=200):
        browser.start_button.click()
    assert bounty_store.drafts.list() == []


def test_plan_never_reuses_a_non_empty_folder(tmp_path, bounty_store):
    bounty = bounty_store.bounties.get("b_00001")
    (tmp_path / "other.txt").write_text("x")
    plan = plan_for(bounty, tmp_path, owner="ada")
    assert plan.dest.parent == tmp_path and not plan.dest.exists()
    assert plan.package_name.startswith("ada/")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert plan_for(bounty, empty, owner="ada").dest == empty


def test_incremental_filtering_matches_filtering_from_scratch(rows):
    """Typing forward filters only the rows still shown; the result must equal a fresh filter."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    words = st.sampled_from(
        ["bio", "biology", "set", "set 1", "law", "re", "level-1", "zz", "", " "]
    )
    typing = st.lists(
        st.tuples(words, st.sampled_from(["", "law", "biology"]), st.sampled_from(["", "open"])),
        min_size=1,
        max_size=8,
    )

    @settings(max_examples=60, deadline=None)
    @given(typing)
    def check(sequence):
        model = BountyTableModel()
        model.set_bounties(rows)
        for text, domain, status in sequence:
            filters = BountyFilter(
                text=text, domains=[domain] if domain else [], statuses=[status] if status else []
            )
            model.set_filters(filters)
            fresh = BountyTableModel()
            fresh.set_bounties(rows)
            fresh.set_filters(filters)
            assert [model.bounty_at(i).id for i in range(model.rowCount())] == [
                fresh.bounty_at(i).id for i in range(fresh.rowCount())
            ]

    check()


def test_the_table_and_the_store_agree_on_every_filter(bounty_store):
    """One filter, two matchers: the table's in memory and the store's SQL pick the same rows."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    today = datetime.now(UTC).date()
    bounty_store.bounties.upsert(
        [
            make_bounty(40, deadline=f"{today + timedelta(days=3)}T10:00:00Z"),
            make_bounty(41, deadline=None),
        ]
    )
    rows = bounty_store.bounties.list()
    model = BountyTableModel()
    model.set_bounties(rows)
    days = [None, -5, 0, 3, 7, 30]
    dates = st.sampled_from(days).map(
        lambda d: None if d is None else (today + timedelta(days=d)).isoformat()
    )
    times = st.sampled_from([f"{today + timedelta(days=3)}T{h}" for h in ("09:00", "10:00:00Z")])
    filters = st.builds(
        BountyFilter,
        text=st.sampled_from(["", "law", "SET 1", "level-2 bio", "100%_", "zz"]),
        domains=st.lists(st.sampled_from(["law", "biology", "finance"]), max_size=2),
        tag=st.sampled_from(["", "law", "level-1", "nope"]),
        statuses=st.lists(st.sampled_from(["open", "closed"]), max_size=1),
        min_reward=st.sampled_from([None, 1000.0, 2500]),
        max_reward=st.sampled_from([None, 3000.0]),
        deadline_after=dates | times,
        deadline_before=dates | times,
        env_kind=st.sampled_from(["", "qa", "code"]),
    )

    @settings(max_examples=150, deadline=None)
    @given(filters)
    def check(wanted):
        model.set_filters(wanted)
        shown = sorted(model.bounty_at(i).id for i in range(model.rowCount()))
        assert shown == sorted(row.id for row in bounty_store.bounties.list(wanted)), wanted

    check()
