"""The author's side of review in the Workspace, against the real local platform: the author's
app (a PlatformService of its own) opens the package it submitted, sees the reviewer's threads
in the Review tab and as gutter markers, moves between the two, applies a suggestion as one
undoable edit, replies through the sync, and is refused when the lines changed since."""

from __future__ import annotations

import gc
import json

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextCursor

from app.editor.annotations import AnnotationState
from app.sync.credentials import CredentialStore
from app.sync.platform import PlatformConnection
from app.ui.app_settings import AppSettings
from app.ui.platform_service import PlatformService
from app.ui.workspace_page import WorkspacePage

SUGGESTION = "MAX_RESPONSE_CHARS = 400\nMAX_COEFFICIENT = 1000"


def _author_app(qtbot, review, job_runner):
    """The author's window parts: its own platform service (own store) and Workspace page."""
    url, token = review.platform.url, review.platform.tokens["author"]
    service = PlatformService(
        CredentialStore(),
        job_runner,
        auto_sync=False,
        connector=lambda _role: PlatformConnection(url, token, "test-author-app"),
    )
    with qtbot.waitSignal(service.data_changed, timeout=60000):
        service.start()
    page = WorkspacePage(
        settings=AppSettings(), credentials=CredentialStore(), job_runner=job_runner,
        platform=service,
    )  # fmt: skip
    qtbot.addWidget(page)
    page.resize(1500, 860)
    page.set_store(service.store)
    page.show()
    return service, page


def _sync(qtbot, service) -> None:
    with qtbot.waitSignal(service.synced, timeout=60000):
        service.sync_now()


def _close(qtbot, service, page) -> None:
    service.shutdown()
    page.close()
    page.deleteLater()
    service.deleteLater()
    qtbot.wait(50)
    gc.collect()


def _reviewer_threads(review, task_id: str) -> None:
    engine, sub = review.reviewer.engine, review.submission_id
    engine.queue_thread(
        sub, revision=1, body="200 characters is too short for long equations.",
        path="grader.py", start_line=14, end_line=15, severity="blocking", suggestion=SUGGESTION,
    )  # fmt: skip
    engine.queue_thread(
        sub, revision=1, body="Is `math` still needed?", path="grader.py", start_line=11,
        end_line=11, suggestion="from math import gcd",
    )  # fmt: skip
    engine.queue_thread(sub, revision=1, body="Say which unit.", task_id=task_id, severity="nit")
    review.sync(review.reviewer)


def _click_marker(qtbot, editor, line: int) -> None:
    editor.go_to_line(line, 1)
    block = editor.document().findBlockByNumber(line - 1)
    y = editor.cursorRect(QTextCursor(block)).center().y()
    qtbot.mouseClick(editor.gutter, Qt.MouseButton.LeftButton, pos=QPoint(4, y))


def test_the_author_sees_applies_and_answers_review_threads(qtbot, review, job_runner):
    task_id = json.loads((review.package / "tasks.jsonl").read_text().splitlines()[1])["id"]
    _reviewer_threads(review, task_id)
    grader = review.package / "grader.py"
    original = grader.read_text(encoding="utf-8")
    service, page = _author_app(qtbot, review, job_runner)
    try:
        # Before the package is open: nothing to show, said plainly.
        assert page.side.tabText(1) == "Review"
        page.open_package(review.package)
        assert page.side.tabText(0) == "Gauntlet" and page.side.widget(0) is page.funnel
        assert page.side.tabText(1) == "Review · 3"
        by_body = {c.view.body: c for c in page.threads.cards.values()}
        assert set(by_body) == {
            "200 characters is too short for long equations.",
            "Is `math` still needed?",
            "Say which unit.",
        }
        assert page.threads.engine is service.session.engine  # replies are possible

        # The gutter: grader.py has both line threads, the task table marks the task's row.
        tab = page.workspace.open_file("grader.py")
        marks = {(a.start_line, a.end_line): a for a in tab.editor.annotations()}
        assert set(marks) == {(14, 15), (11, 11)}
        assert marks[(14, 15)].state == AnnotationState.CURRENT
        tasks = page.workspace.open_file("tasks.jsonl")
        assert [a.body for a in tasks.table.model.row_annotations(1)] == ["Say which unit."]

        # A marker click opens the Review tab at its thread, highlighted.
        page.workspace.open_file("grader.py")
        page.side.setCurrentIndex(0)
        _click_marker(qtbot, tab.editor, 14)
        suggestion_card = by_body["200 characters is too short for long equations."]
        assert page.side.currentIndex() == 1
        assert page.review.highlighted == suggestion_card.view.key
        assert "background" in page.threads.cards[suggestion_card.view.key].styleSheet()

        # A thread's location moves the editor there; a task thread selects its table row.
        by_body["Say which unit."].location.linkActivated.emit("#")
        assert page.workspace.current_tab() is tasks and tasks.table.selected_rows() == [1]
        suggestion_card.location.linkActivated.emit("#")
        assert page.workspace.current_tab() is tab
        assert tab.editor.textCursor().blockNumber() == 13
        review.screenshot(page, "author-review.png")

        # Apply the suggestion: one edit, taken back by one Undo.
        suggestion_card.apply_button.click()
        assert page.review.notice.text() == (
            "Applied the suggestion to grader.py lines 14–15. Undo with Ctrl+Z."
        )
        lines = tab.text().splitlines()
        assert lines[13] == "MAX_RESPONSE_CHARS = 400" and lines[14] == "MAX_COEFFICIENT = 1000"
        assert tab.text().replace("MAX_RESPONSE_CHARS = 400", "MAX_RESPONSE_CHARS = 200") == (
            original
        )
        qtbot.keyClick(tab.editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert tab.text() == original

        # The author edited those lines since the review: refused, nothing overwritten.
        tab.replace_text(original.replace("MAX_COEFFICIENT = 1000", "MAX_COEFFICIENT = 99"), "x")
        edited = tab.text()
        suggestion_card.apply_button.click()
        assert page.review.notice.property("kind") == "error"
        assert "grader.py lines 14–15 no longer hold the text" in page.review.notice.text()
        assert tab.text() == edited
        page.workspace.undo()
        assert tab.text() == original

        # A reply goes through the engine and the sync, to the platform.
        key = by_body["Say which unit."].view.key
        card = page.threads.cards[key]
        card.open_reply()
        card.reply_edit.setPlainText("Moles; I will say so in the prompt.")
        with qtbot.waitSignal(service.synced, timeout=60000):
            card.reply_box.findChild(type(card.reply_button), "primary").click()
        comments = review.run(review.reviewer.client.get(f"/v1/threads/{key}")).data["comments"]
        assert comments[-1]["body"] == "Moles; I will say so in the prompt."
        assert not page.threads.cards[key].view.replies[-1].pending  # refreshed after the sync

        # A resolve too; the count drops.
        with qtbot.waitSignal(service.synced, timeout=60000):
            page.threads.cards[key].resolve_button.click()
        assert review.run(review.reviewer.client.get(f"/v1/threads/{key}")).data["resolved"]
        assert page.side.tabText(1) == "Review · 2"
        assert not page.workspace.open_file("tasks.jsonl").table.model.row_annotations(1)
    finally:
        _close(qtbot, service, page)


def test_a_suggestion_on_changed_lines_is_refused(qtbot, review, job_runner):
    task_id = json.loads((review.package / "tasks.jsonl").read_text().splitlines()[0])["id"]
    _reviewer_threads(review, task_id)
    service, page = _author_app(qtbot, review, job_runner)
    try:
        page.open_package(review.package)
        # The author rewrites line 11 (a thread is about it) and resubmits.
        tab = page.workspace.open_file("grader.py")
        tab.replace_text(tab.text().replace("import math\n", "import math  # gcd\n"), "edit")
        assert page.workspace.save_all()
        assert review.resubmit() == 2
        _sync(qtbot, service)

        outdated = next(c for c in page.threads.cards.values() if c.view.state == "outdated")
        assert outdated.view.body == "Is `math` still needed?"
        marks = {a.thread_id: a for a in tab.editor.annotations()}
        assert marks[outdated.view.key].state == AnnotationState.OUTDATED
        assert (marks[outdated.view.key].start_line, marks[outdated.view.key].end_line) == (11, 11)
        before = tab.text()
        outdated.apply_button.click()
        assert page.review.notice.property("kind") == "error"
        assert page.review.notice.text().startswith(
            "Not applied: the lines this suggestion was written for (grader.py line 11) "
            "have changed since"
        )
        assert tab.text() == before
    finally:
        _close(qtbot, service, page)


def test_no_submission_yet_says_so(qtbot, review, job_runner, tmp_path):
    from app.envpack.templates import create_from_template

    other = next(
        b for b in review.author.store.bounties.list()
        if b.status == "open" and b.id != review.bounty_id
    )  # fmt: skip
    package = create_from_template("qa-python", tmp_path / "fresh", bounty_id=other.id)
    service, page = _author_app(qtbot, review, job_runner)
    try:
        page.open_package(package)
        assert page.side.tabText(1) == "Review"
        assert page.threads.empty.isVisible() or page.threads.empty.isVisibleTo(page.threads)
        assert page.threads.empty.title_label.text() == "Not submitted yet"
        assert other.id in page.threads.empty.body_label.text()
        assert not page.workspace.open_file("grader.py").editor.annotations()
    finally:
        _close(qtbot, service, page)
