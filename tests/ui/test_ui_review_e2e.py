"""The whole review loop in the app, end to end, on one real local platform: the lab acts through
the CLI, the author and the reviewer each in their own app window with their own profile (sign-in
and local store). The lab posts a bounty and assigns the reviewer; the author submits and the
server's check passes; the reviewer opens the submission, comments on a line of grader.py and on
a task row, scores the rubric and requests changes; the author sees both threads, applies the
suggestion, edits another file and resubmits; the reviewer sees only the diff, the threads moved
or outdated as they should be, and approves; both sides see the final state.

A second run does the author's part offline: everything is queued, nothing is lost, and it all
reaches the platform in order once the author is back online.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QTextCursor
from support.fault_proxy import Fault, FaultProxy
from support.review_setup import on_platform, start_local

from app.envpack.provenance import is_own
from app.sync.platform import PlatformConnection
from app.ui.app_settings import AppSettings
from app.ui.error_reporter import ErrorReporter
from app.ui.main_window import MainWindow
from tests.ui.review.conftest import screenshot

SUGGESTED = "MAX_RESPONSE_CHARS = 120"


ROOT = Path(__file__).resolve().parents[2]


class Lab:
    """The lab's actions, through the real `gauntlet` CLI in its own process and profile (the
    app's event loop runs in this one)."""

    def __init__(self, embedded, home: Path) -> None:
        self.embedded, self.home = embedded, home

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        env = dict(os.environ)
        env.update(
            GAUNTLET_HOME=str(self.home),
            GAUNTLET_SERVER=self.embedded.url,
            GAUNTLET_TOKEN=self.embedded.tokens["lab"],
            PYTHONPATH=str(ROOT),
        )
        done = subprocess.run(
            [sys.executable, "-m", "app", *argv],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return done.returncode, done.stdout, done.stderr


@pytest.fixture
def loop(tmp_path, async_loop):
    embedded = start_local(tmp_path / "platform")
    try:
        yield embedded, Lab(embedded, tmp_path / "home-lab")
    finally:
        embedded.stop()


def _window(qtbot, tmp_path, name: str, role: str, url: str, token: str) -> MainWindow:
    settings = AppSettings(tmp_path / f"{name}.ini")
    settings.role = role
    window = MainWindow(
        settings,
        None,
        ErrorReporter(),
        check_sandbox=False,
        connector=lambda _role: PlatformConnection(url, token, f"e2e-{name}", label=name),
    )
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitUntil(lambda: window.platform.session is not None, timeout=30000)
    _sync(qtbot, window)
    return window


def _sync(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.platform.synced, timeout=30000):
        window.platform.sync_now()


def _check_passes(data_dir, submission_id: str, number: int) -> None:
    """The server's check of a revision passes, as its worker records it (no auto-assignment:
    the lab assigns)."""
    from support.platform_testkit import passing_report

    from app.platform.recheck import store_report

    def work(session, settings):
        settings.auto_assign_reviewers = False
        store_report(session, settings, submission_id, number, passing_report())

    on_platform(data_dir, work)


def _post_bounty(lab: Lab) -> str:
    code, out, err = lab(
        "bounty", "create", "--json",
        "--title", "Balancing chemical equations",
        "--domain", "chemistry",
        "--criterion", "correctness:3:Every answer balances",
        "--criterion", "clarity:1:Prompts say the answer format",
        "--reward", "4000",
        "--deadline", "2099-06-30",
    )  # fmt: skip
    assert code == 0, err
    return json.loads(out)["id"]


def _select_lines(tab, first: int, last: int) -> None:
    document = tab.editor.document()
    cursor = QTextCursor(document.findBlockByNumber(first - 1))
    end = document.findBlockByNumber(last - 1)
    cursor.setPosition(end.position() + end.length() - 1, QTextCursor.MoveMode.KeepAnchor)
    tab.editor.setTextCursor(cursor)


def _open_for_review(qtbot, reviewer: MainWindow, submission_id: str):
    reviewer.show_screen("queue")
    screen = reviewer._built["queue"]
    screen.refresh()
    qtbot.waitUntil(lambda: screen.queue.selected_id() == submission_id, timeout=10000)
    with qtbot.waitSignal(screen.page.opened, timeout=30000):
        screen.queue.open_requested.emit(submission_id)
    return screen.page


def _comment(qtbot, page, body: str, suggestion: str | None = None, severity="normal"):
    page.comment_on_selection()
    form = page.thread_form
    form.body.set_text(body)
    form.severity_buttons[severity].setChecked(True)
    if suggestion is not None:
        form.suggest_box.setChecked(True)
        form.suggestion.setPlainText(suggestion)
    with qtbot.waitSignal(form.created):
        form.submit()


def test_lab_author_and_reviewer_close_the_loop_in_the_app(qtbot, tmp_path, loop):
    embedded, lab = loop
    data_dir = tmp_path / "platform"
    bounty_id = _post_bounty(lab)

    # The author starts from the bounty and submits from the app.
    author = _window(qtbot, tmp_path, "author", "author", embedded.url, embedded.tokens["author"])
    from app.envpack.templates import create_from_template

    package = create_from_template("qa-python", tmp_path / "env", bounty_id=bounty_id)
    author.open_package(package)
    page = author.workspace
    page.ask_submit_message = lambda _parent: "First version."
    with qtbot.waitSignal(page.submit_job.sent, timeout=60000):
        page.submit()
    (sub,) = author.platform.store.submissions.list()
    _check_passes(data_dir, sub.id, 1)

    code, out, err = lab("assign", sub.id, "reviewer", "--json")
    assert code == 0, err
    assert [r["name"] for r in json.loads(out)["reviewers"]] == ["reviewer"]

    # The reviewer opens it from their queue, read-only.
    reviewer = _window(
        qtbot, tmp_path, "reviewer", "reviewer", embedded.url, embedded.tokens["reviewer"]
    )
    assert reviewer.side.visible_screens()[0] == "queue"
    assert reviewer.side.badge("queue") == 1  # the assignment arrived with the first sync
    review = _open_for_review(qtbot, reviewer, sub.id)
    assert reviewer.side.badge("queue") == 0
    assert "First review" in review.changes.summary.text()
    grader = review.workspace.open_file("grader.py")
    assert grader.editor.isReadOnly()
    # Someone else's code: the local run may only use Docker, never the process backend.
    assert not is_own(review.workspace.current_package())
    _select_lines(grader, 14, 14)
    _comment(qtbot, review, "Responses this long are never right.", SUGGESTED, "blocking")
    tasks = review.workspace.open_file("tasks.jsonl")
    tasks.table.select_row(2)  # the "rust" task
    _comment(qtbot, review, "Say whether 4, 3, 2 or 4:3:2 is expected.")
    review.workspace.open_file("grader.py")
    _select_lines(grader, 15, 15)
    _comment(qtbot, review, "Why 1000? Say where the bound comes from.", severity="nit")
    for item in review.verdict.criteria:
        review.verdict.spins[item["id"]].setValue(item["max_score"] - 1)
    review.verdict.summary.set_text("Two things to fix, see the threads.")
    with qtbot.waitSignal(review.verdict.changed):
        review.verdict.decision_buttons["request_changes"].click()
    _sync(qtbot, reviewer)
    screenshot(reviewer, "e2e-review-mode.png")
    assert reviewer.platform.store.outbox.pending() == []

    # The author sees both threads on their lines, applies the suggestion, edits, resubmits.
    _sync(qtbot, author)
    state = author.platform.store.submissions.get(sub.id).state
    assert state == "changes_requested"
    threads = {
        (t.start_line if t.file == "grader.py" else t.task_id): t
        for t in author.platform.store.reviews.threads_for(sub.id)
    }
    assert set(threads) == {14, 15, "rust"} and threads[14].suggestion == SUGGESTED
    assert threads["rust"].file == "tasks.jsonl" and threads["rust"].start_line == 3
    author_review = author.workspace.review
    assert {a.thread_id for a in author.workspace.workspace._annotations} == {
        t.id for t in threads.values()
    }
    author_review.apply_suggestion(threads[14])
    tab = author.workspace.workspace.open_file("grader.py")
    assert tab.text().splitlines()[13] == SUGGESTED
    # Another edit: a comment above the limits, so the lines below it move down by one.
    lines = tab.text().splitlines(keepends=True)
    lines.insert(12, "# Limits agreed with the reviewer.\n")
    tab.replace_text("".join(lines), "Add a comment")
    with qtbot.waitSignal(page.submit_job.sent, timeout=60000):
        page.submit()
    _check_passes(data_dir, sub.id, 2)

    # The reviewer sees only what changed; the threads moved or went outdated correctly.
    _sync(qtbot, reviewer)
    review = _open_for_review(qtbot, reviewer, sub.id)
    assert "since your review of revision 1" in review.changes.summary.text()
    changed = [
        review.changes.files.topLevelItem(i).text(1)
        for i in range(review.changes.files.topLevelItemCount())
    ]
    assert changed == ["grader.py"]  # nothing else changed, nothing else to read
    placed = {
        (t.data.get("anchor", {}).get("start_line") if t.file == "grader.py" else t.task_id): t
        for t in reviewer.platform.store.reviews.threads_for(sub.id)
    }
    assert placed[14].anchor_state == "outdated"  # its line is what the author rewrote
    assert placed[15].anchor_state == "moved" and placed[15].start_line == 16
    assert placed["rust"].anchor_state == "current" and placed["rust"].start_line == 3
    screenshot(review.changes, "e2e-review-diff.png")
    review.tabs.setCurrentWidget(review.threads)
    screenshot(reviewer, "e2e-review-threads.png")

    for item in review.verdict.criteria:
        review.verdict.spins[item["id"]].setValue(item["max_score"])
    review.verdict.summary.set_text("Thank you, all fixed.")
    with qtbot.waitSignal(review.verdict.changed):
        review.verdict.decision_buttons["approve"].click()
    review.tabs.setCurrentWidget(review.verdict)
    screenshot(reviewer, "e2e-review-verdict.png")
    _sync(qtbot, reviewer)
    _sync(qtbot, author)
    for window in (author, reviewer):
        assert window.platform.store.submissions.get(sub.id).state == "accepted"
    code, out, _ = lab("bounty", "submissions", bounty_id, "--json")
    assert code == 0 and json.loads(out)[0]["state"] == "accepted"


def test_the_author_works_offline_and_everything_arrives_in_order(qtbot, tmp_path, loop):
    embedded, lab = loop
    data_dir = tmp_path / "platform"
    bounty_id = _post_bounty(lab)
    proxy = FaultProxy(embedded.url)
    proxy.start()
    try:
        author = _window(qtbot, tmp_path, "author", "author", proxy.url, embedded.tokens["author"])
        from app.envpack.templates import create_from_template

        package = create_from_template("qa-python", tmp_path / "env", bounty_id=bounty_id)
        author.open_package(package)
        page = author.workspace
        page.ask_submit_message = lambda _parent: "First version."
        with qtbot.waitSignal(page.submit_job.sent, timeout=60000):
            page.submit()
        (sub,) = author.platform.store.submissions.list()
        _check_passes(data_dir, sub.id, 1)
        assert lab("assign", sub.id, "reviewer")[0] == 0
        reviewer = _window(
            qtbot, tmp_path, "reviewer", "reviewer", embedded.url, embedded.tokens["reviewer"]
        )
        review = _open_for_review(qtbot, reviewer, sub.id)
        _select_lines(review.workspace.open_file("grader.py"), 14, 14)
        _comment(qtbot, review, "Too long.", SUGGESTED, "blocking")
        _select_lines(review.workspace.open_file("grader.py"), 15, 15)
        _comment(qtbot, review, "Why 1000?")
        _sync(qtbot, reviewer)
        _sync(qtbot, author)

        # Offline: apply the suggestion, reply, resolve, resubmit. All of it waits.
        offline = proxy.add(Fault("drop", times=-1))  # every request: connection dropped
        threads = {t.start_line: t for t in author.platform.store.reviews.threads_for(sub.id)}
        author.workspace.review.apply_suggestion(threads[14])
        author.platform.session.engine.queue_reply(threads[15].id, "Any large bound works.")
        author.platform.session.engine.queue_resolve(threads[14].id)
        with qtbot.waitSignal(page.submit_job.queued, timeout=60000):
            page.submit()
        _sync(qtbot, author)
        pending = author.platform.store.outbox.pending()
        assert [e.kind for e in pending] == ["reply", "resolve", "submit"]
        assert (package / "grader.py").read_text().splitlines()[13] == SUGGESTED  # kept on disk

        # Back online: one sync sends everything, in the order it was done.
        proxy.clear()
        assert offline.reached.is_set()
        _sync(qtbot, author)
        assert author.platform.store.outbox.pending() == []
        _sync(qtbot, reviewer)
        store = reviewer.platform.store
        assert store.submissions.get(sub.id).latest_revision == 2
        by_line = {
            t.data.get("anchor", {}).get("start_line"): t for t in store.reviews.threads_for(sub.id)
        }
        assert by_line[14].resolved
        assert [c.body for c in by_line[15].comments][-1] == "Any large bound works."
    finally:
        proxy.stop()
