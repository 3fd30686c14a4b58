"""The review widgets' tests run against the real local platform (the embedded server, without
its worker: the test records the server's check itself, as in tests/sync/test_review_cli.py),
with the author and the reviewer each on their own sync session and local store."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.platform_testkit import passing_report
from support.sync_packages import fast_policy

SCREENSHOTS = Path(
    os.environ.get(
        "GAUNTLET_SCREENSHOTS",
        Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots",
    )
)


@dataclass
class Review:
    """One submission in review: the platform, both roles' sessions, and how to run async."""

    platform: object
    data_dir: Path
    author: object
    reviewer: object
    submission_id: str
    bounty_id: str
    package: Path
    run: object  # run(coroutine) -> its result, spinning the Qt loop meanwhile

    @staticmethod
    def screenshot(widget, name: str) -> Path:
        return screenshot(widget, name)

    def sync(self, *sessions) -> None:
        for session in sessions:
            self.run(session.engine.sync())

    def pass_check(self, number: int) -> None:
        """The server's check of revision `number` passes (as its worker records it)."""
        from app.platform.recheck import store_report

        self.on_platform(
            lambda s, settings: store_report(
                s, settings, self.submission_id, number, passing_report()
            )
        )

    def on_platform(self, work):
        from app.platform.platform import Platform
        from app.platform.settings import Settings

        settings = Settings(data_dir=self.data_dir, auto_assign_reviewers=True)
        platform = Platform.open(settings, run_migrations=False)
        try:
            with platform.write() as session:
                return work(session, platform.settings)
        finally:
            platform.close()

    def resubmit(self) -> int:
        """The author pushes the package as it is now; the check passes. Returns the number."""
        self.author.engine.queue_submit(self.package, self.bounty_id, message="Fixed.")
        self.sync(self.author)
        number = self.author.store.submissions.get(self.submission_id).latest_revision
        self.pass_check(number)
        return number


@pytest.fixture
def review(tmp_path, qtbot, async_loop):
    """A submission of the qa-python template, checked and in review, assigned to the local
    reviewer; both sessions synced."""
    from app.envpack.templates import create_from_template
    from app.platform.embedded import start_embedded
    from app.sync.platform import PlatformConnection
    from app.sync.session import SyncSession

    def run(coroutine):
        task = asyncio.ensure_future(coroutine, loop=async_loop)
        qtbot.waitUntil(task.done, timeout=60000)
        return task.result()

    data_dir = tmp_path / "platform"
    embedded = start_embedded(data_dir, run_worker=False)
    sessions = []
    try:
        for role in ("author", "reviewer"):
            connection = PlatformConnection(embedded.url, embedded.tokens[role], f"test-{role}")
            sessions.append(SyncSession(connection, policy=fast_policy(), timeout=10))
        author, reviewer = sessions
        run(author.engine.sync())
        bounty = next(
            b for b in author.store.bounties.list() if b.status == "open" and _rubric(author, b)
        )
        package = create_from_template("qa-python", tmp_path / "pkg", bounty_id=bounty.id)
        author.engine.queue_submit(package, bounty.id, message="First version.")
        run(author.engine.sync())
        (sub,) = author.store.submissions.list()
        state = Review(embedded, data_dir, author, reviewer, sub.id, bounty.id, package, run)
        state.pass_check(1)
        state.sync(author, reviewer)
        yield state
    finally:
        for session in sessions:
            run(session.aclose())
        embedded.stop()


def _rubric(session, row) -> bool:
    bounty = session.store.bounties.get(row.id)
    return bool(bounty and bounty.rubric)


def screenshot(widget, name: str) -> Path:
    """Photograph a widget (light theme, as the app starts) for people to look at."""
    from PySide6.QtWidgets import QApplication

    from app.ui.theme import apply_theme

    apply_theme(QApplication.instance(), "light")
    widget.show()
    QApplication.processEvents()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    assert widget.grab().save(str(path))
    return path
