"""The window's platform link: the embedded local platform starts in a worker thread (the GUI
thread is free meanwhile), the first sync brings the demo bounties, offline is a quiet state."""

from __future__ import annotations

import time

import pytest

from app.sync.credentials import CredentialStore
from app.ui.platform_service import PlatformService


@pytest.mark.slow
def test_embedded_platform_starts_in_the_background_and_syncs_demo_bounties(
    qtbot, job_runner, async_loop
):
    service = PlatformService(CredentialStore(), job_runner, auto_sync=False)
    states = []
    service.state_changed.connect(lambda s: states.append(str(s.phase)))
    started = time.perf_counter()
    service.start()
    assert time.perf_counter() - started < 0.5  # connecting happens off the GUI thread
    try:
        with qtbot.waitSignal(service.data_changed, timeout=90000):
            pass
        assert service.store is not None
        bounties = service.store.bounties.list()
        assert len(bounties) >= 12
        assert {b.domain for b in bounties} >= {"biology", "law"}
        assert service.label == "local platform"
        qtbot.waitUntil(lambda: states and states[-1] == "online", timeout=10000)
        assert "syncing" in states
    finally:
        service.shutdown()
        qtbot.wait(50)


def test_unreachable_platform_is_a_quiet_offline_state(qtbot, job_runner, async_loop, monkeypatch):
    monkeypatch.setenv("GAUNTLET_SERVER", "http://127.0.0.1:9")  # nothing listens on port 9
    monkeypatch.setenv("GAUNTLET_TOKEN", "t")
    service = PlatformService(CredentialStore(), job_runner, auto_sync=False)
    problems = []
    service.problem.connect(problems.append)
    service.start()
    try:
        qtbot.waitUntil(
            lambda: (
                service.sync_count == 1
                and str(service.state.phase) == "offline"
                and service._syncing is None
                and service.session is not None
            ),
            timeout=30000,
        )
        assert not problems  # offline is a state, not an error dialog
        assert service.state.message
    finally:
        service.shutdown()
        qtbot.wait(50)
