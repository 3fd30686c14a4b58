"""Submitting from the Workspace: stage 1 runs first and refuses with its findings, a clean
package goes to the embedded platform off the GUI thread, and offline it waits in the outbox
("will be sent when you are back online")."""

from __future__ import annotations

import gc
import time

import pytest

from app.envpack.templates import create_from_template
from app.sync.credentials import CredentialStore
from app.ui.app_settings import AppSettings
from app.ui.platform_service import PlatformService
from app.ui.workspace_page import WorkspacePage


def make_page(qtbot, service, job_runner):
    page = WorkspacePage(
        settings=AppSettings(),
        credentials=CredentialStore(),
        job_runner=job_runner,
        platform=service,
    )
    qtbot.addWidget(page)
    page.show()
    page.ask_submit_message = lambda _parent: "First version, please review."
    return page


def dispose(qtbot, service, page=None) -> None:
    """Delete the widgets and the service here, on the GUI thread: left to the garbage collector
    they could be destroyed from a worker thread of a later test (Qt warns about their timers)."""
    service.shutdown()
    if page is not None:
        page.close()
        page.deleteLater()
    service.deleteLater()
    qtbot.wait(50)
    gc.collect()


def submission_entries(store):
    return [e for e in store.outbox.pending() if e.kind == "submit"]


@pytest.mark.slow
def test_submit_checks_first_then_sends_to_the_embedded_platform(
    qtbot, job_runner, async_loop, tmp_path
):
    service = PlatformService(CredentialStore(), job_runner, auto_sync=False)
    service.start()
    page = None
    try:
        with qtbot.waitSignal(service.data_changed, timeout=120000):
            pass
        bounty = next(b for b in service.store.bounties.list() if b.status == "open")
        package = create_from_template(
            "qa-exact",
            tmp_path / "env",
            package_name="test/submit",
            title="Submit",
            bounty_id=bounty.id,
        )
        page = make_page(qtbot, service, job_runner)
        page.open_package(package)
        assert page.funnel.submit_button.isVisible() and page.funnel.submit_button.isEnabled()

        # 1. A structural error: refused, with the finding on screen, and nothing queued.
        tasks_file = package / "tasks.jsonl"
        good = tasks_file.read_text(encoding="utf-8")
        tasks_file.write_text(
            good.replace("\n", '\n{"id": "broken", "prompt": \n', 1), encoding="utf-8"
        )
        with qtbot.waitSignal(page.submit_job.refused, timeout=60000) as refused:
            page.funnel.submit_button.click()
        assert refused.args[0].errors()
        assert page.funnel.verdict_text().startswith("Not submitted:")
        assert page.funnel.findings.topLevelItemCount() >= 1
        assert not submission_entries(service.store)
        assert service.store.submissions.for_bounty(bounty.id) is None

        # 2. Fixed: checked, snapshotted in a worker thread, sent; the GUI thread never waits.
        tasks_file.write_text(good, encoding="utf-8")
        started = time.perf_counter()
        with qtbot.waitSignal(page.submit_job.sent, timeout=120000) as sent:
            page.funnel.submit_button.click()
            assert time.perf_counter() - started < 0.5
            assert not page.funnel.submit_button.isEnabled()  # no double submit while it runs
        assert bounty.id in sent.args[0] and "revision" in sent.args[0]
        assert page.funnel.verdict_text() == "Submitted"
        submission = service.store.submissions.for_bounty(bounty.id)
        assert submission is not None and submission.latest_revision
        assert not submission_entries(service.store)
        assert page.funnel.submit_button.isEnabled()
    finally:
        dispose(qtbot, service, page)


def test_offline_submit_is_queued_and_said_so(qtbot, job_runner, async_loop, tmp_path, monkeypatch):
    monkeypatch.setenv("GAUNTLET_SERVER", "http://127.0.0.1:9")  # nothing listens on port 9
    monkeypatch.setenv("GAUNTLET_TOKEN", "t")
    service = PlatformService(CredentialStore(), job_runner, auto_sync=False)
    problems = []
    service.problem.connect(problems.append)
    service.start()
    page = None
    try:
        qtbot.waitUntil(
            lambda: service.session is not None and service._syncing is None, timeout=30000
        )  # noqa: SLF001
        package = create_from_template(
            "qa-exact",
            tmp_path / "env",
            package_name="test/offline",
            title="Offline",
            bounty_id="b_0001",
        )
        page = make_page(qtbot, service, job_runner)
        page.open_package(package)
        with qtbot.waitSignal(page.submit_job.queued, timeout=60000) as queued:
            page.funnel.submit_button.click()
        assert "back online" in queued.args[0]
        assert page.funnel.verdict_text() == "Waiting to be sent"
        entries = submission_entries(service.store)
        assert len(entries) == 1 and entries[0].payload.get("bounty_id") == "b_0001"
        assert not problems  # offline is a quiet state, not an error dialog
    finally:
        dispose(qtbot, service, page)


def test_an_environment_without_a_bounty_is_not_submitted(
    qtbot, job_runner, async_loop, tmp_path, monkeypatch
):
    monkeypatch.setenv("GAUNTLET_SERVER", "http://127.0.0.1:9")
    monkeypatch.setenv("GAUNTLET_TOKEN", "t")
    service = PlatformService(CredentialStore(), job_runner, auto_sync=False)
    service.start()
    page = None
    try:
        qtbot.waitUntil(
            lambda: service.session is not None and service._syncing is None, timeout=30000
        )  # noqa: SLF001
        package = create_from_template(
            "qa-exact", tmp_path / "env", package_name="test/nobounty", title="No bounty"
        )
        page = make_page(qtbot, service, job_runner)
        page.open_package(package)
        with qtbot.waitSignal(page.submit_job.failed, timeout=60000) as failed:
            page.funnel.submit_button.click()
        assert "bounty" in failed.args[0].message and "env.toml" in failed.args[0].hint
        assert page.funnel.verdict_text() == "Not submitted"
        assert not submission_entries(service.store)
    finally:
        dispose(qtbot, service, page)
