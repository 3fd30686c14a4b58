"""The reviewer's queue and "changes since the last review" on a real local platform: a
submission the reviewer asked changes on and the author revised, read from the reviewer's own
store after a sync; each screen is photographed into test-artifacts/screenshots/."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from support.review_setup import Roles, start_local

from app.sync.platform import PlatformConnection
from app.sync.revision_files import fetch_checkout
from app.sync.session import SyncSession
from app.sync.store import LocalStore
from app.ui.review.changes_view import ChangesView
from app.ui.review.queue_screen import EMPTY_TITLE, ReviewQueueScreen
from app.ui.theme import apply_theme

SCREENSHOTS = Path(
    os.environ.get(
        "GAUNTLET_SCREENSHOTS",
        Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots",
    )
)


@pytest.fixture
def studio_theme(qapp):
    """The app's own style sheet, so the photographs show the real look; put back after."""
    from PySide6.QtWidgets import QStyleFactory

    style, palette, sheet = qapp.style().name(), qapp.palette(), qapp.styleSheet()
    apply_theme(qapp, "light")
    yield
    qapp.setStyleSheet(sheet)
    qapp.setStyle(QStyleFactory.create(style))
    qapp.setPalette(palette)


@pytest.fixture
def reviewed_twice(tmp_path, monkeypatch, capsys):
    """Revision 1 reviewed (changes requested); revision 2 edits grader.py, adds notes.md and
    drops draft.md. Yields the reviewer's synced session and the submission id."""
    from app.envpack.templates import create_from_template

    embedded = start_local(tmp_path / "platform")
    session = None
    try:
        roles = Roles(embedded, tmp_path, monkeypatch, capsys)
        package = create_from_template("qa-python", tmp_path / "pkg")
        (package / "draft.md").write_text("Draft notes.\n")
        sid = roles.submit(package, tmp_path / "platform")
        code, _, err = roles("reviewer", "review", "verdict", sid, "request-changes")
        assert code == 0, err
        grader = package / "grader.py"
        lines = grader.read_text().splitlines(keepends=True)
        lines[1] = "# checked by hand\n"
        grader.write_text("".join(lines))
        (package / "notes.md").write_text("Why the answers are exact.\n")
        (package / "draft.md").unlink()
        assert roles.submit(package, tmp_path / "platform") == sid
        monkeypatch.setenv("GAUNTLET_HOME", str(tmp_path / "home-app"))
        connection = PlatformConnection(embedded.url, embedded.tokens["reviewer"], "reviewer")
        session = SyncSession(connection)

        async def sync():
            await session.engine.sync()
            me = await session.engine.who_am_i()
            session.store.set_meta("me_id", str(me["id"]))

        asyncio.run(sync())
        yield session, sid
    finally:
        if session is not None:
            session.store.close()
        embedded.stop()


def photograph(widget, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(SCREENSHOTS / name))


def test_the_queue_lists_my_assignments_and_opens_one(
    qtbot, job_runner, reviewed_twice, studio_theme
):
    session, sid = reviewed_twice
    screen = ReviewQueueScreen(job_runner)
    qtbot.addWidget(screen)
    screen.resize(1150, 420)
    screen.show()
    assert screen.stack.currentWidget() is screen.empty  # before a store: the empty state
    screen.set_store(session.store)
    qtbot.waitUntil(lambda: screen.tree.topLevelItemCount() == 1)
    assert screen.stack.currentWidget() is screen.table_page
    item = screen.tree.topLevelItem(0)
    bounty = session.store.bounties.get(screen.rows[0]["bounty_id"])
    assert [item.text(c) for c in (0, 1, 3, 4)] == [
        bounty.title,
        "With a reviewer",
        "Passed",
        "2",
    ]
    assert item.text(5) == "Changes requested (r1)"
    assert item.foreground(3).color() == QColor("#2e7d32")
    photograph(screen, "review-queue.png")

    with qtbot.waitSignal(screen.open_requested) as opened:
        screen.open_button.click()
    assert opened.args == [sid]
    with qtbot.waitSignal(screen.open_requested) as opened:
        qtbot.keyClick(screen.tree, Qt.Key.Key_Return)
    assert opened.args == [sid]
    centre = screen.tree.visualItemRect(item).center()
    # A double-click is a press, a release, then the double-click event, as Qt delivers it.
    qtbot.mouseClick(screen.tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    with qtbot.waitSignal(screen.open_requested) as opened:
        qtbot.mouseDClick(screen.tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert opened.args == [sid]


def test_an_empty_queue_says_so(qtbot, job_runner, tmp_path):
    with LocalStore(tmp_path / "empty.sqlite") as store:
        screen = ReviewQueueScreen(job_runner)
        qtbot.addWidget(screen)
        screen.set_store(store)
        qtbot.waitUntil(lambda: not job_runner.running)
        assert screen.stack.currentWidget() is screen.empty
        assert screen.empty.title_label.text() == EMPTY_TITLE
        assert not screen.open_button.isEnabled()
        with qtbot.assertNotEmitted(screen.open_requested):
            screen.open_button.click()


def _checkouts(session, sid):
    store, client, blobs = session.store, session.client, session.engine.blobs
    return [asyncio.run(fetch_checkout(store, client, blobs, sid, n)) for n in (1, 2)]


def _lines(view) -> dict[str, QColor]:
    """Each line of the shown diff, with its background colour."""
    block, seen = view.diff.document().begin(), {}
    while block.isValid():
        seen[block.text()] = block.blockFormat().background().color()
        block = block.next()
    return seen


def test_changes_since_my_review_as_a_line_diff(qtbot, job_runner, reviewed_twice, studio_theme):
    session, sid = reviewed_twice
    old, new = _checkouts(session, sid)
    view = ChangesView(job_runner)
    qtbot.addWidget(view)
    view.resize(1200, 640)
    view.show()
    view.show_changes(old, new)
    assert "since your review of revision 1" in view.summary.text()
    items = [view.files.topLevelItem(i) for i in range(view.files.topLevelItemCount())]
    assert {i.text(1): i.text(0) for i in items} == {
        "draft.md": "D",
        "grader.py": "M",
        "notes.md": "A",
    }
    qtbot.waitUntil(lambda: all(i.text(2) != "…" for i in items))
    assert {i.text(1): i.text(2) for i in items} == {
        "draft.md": "+0 −1",
        "grader.py": "+1 −1",
        "notes.md": "+1 −0",
    }
    grader = next(i for i in items if i.text(1) == "grader.py")
    view.files.setCurrentItem(grader)
    qtbot.waitUntil(lambda: "checked by hand" in view.diff.toPlainText())
    lines = _lines(view)
    added = next(text for text in lines if text.endswith("+ # checked by hand"))
    assert added.split()[0] == "2"  # the new line number; no old one
    assert lines[added] == view.colours["added"]
    removed = next(text for text in lines if " - " in text)
    assert removed.split()[:2] == ["2", "-"] and lines[removed] == view.colours["removed"]
    assert any(text.startswith("@@ -1,") for text in lines)
    photograph(view, "review-changes.png")

    view.show_changes(None, new)  # never reviewed: every file is new
    assert view.summary.text().startswith("First review: every file is new.")
    assert view.files.topLevelItemCount() == len(new.files)
    assert {view.files.topLevelItem(i).text(0) for i in range(len(new.files))} == {"A"}
    qtbot.waitUntil(lambda: not job_runner.running)
