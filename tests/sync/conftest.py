"""Fixtures for the sync tests: an isolated profile, a local store, the real platform."""

from __future__ import annotations

import pytest
from support.sync_packages import fast_policy


@pytest.fixture
def gauntlet_home(tmp_path, monkeypatch):
    """A throwaway profile: data, config and logs under tmp_path; no platform configured."""
    home = tmp_path / "home"
    monkeypatch.setenv("GAUNTLET_HOME", str(home))
    monkeypatch.delenv("GAUNTLET_SERVER", raising=False)
    monkeypatch.delenv("GAUNTLET_TOKEN", raising=False)
    return home


@pytest.fixture
def store(tmp_path):
    from app.sync.store import LocalStore

    with LocalStore(tmp_path / "store.sqlite") as local:
        yield local


@pytest.fixture
def platform(tmp_path, gauntlet_home):
    """The real platform (embedded server on 127.0.0.1), with author/reviewer/lab/admin tokens."""
    from support.real_platform import RealPlatform

    running = RealPlatform(tmp_path / "platform").start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def open_session(gauntlet_home):
    """Open SyncSessions against any URL; all of them closed at the end of the test."""
    from app.sync.platform import PlatformConnection
    from app.sync.session import SyncSession

    opened = []

    def factory(url: str, token: str | None, *, key: str = "test", timeout: float = 5.0, **kw):
        session = SyncSession(
            PlatformConnection(url, token, key),
            policy=kw.pop("policy", fast_policy()),
            timeout=timeout,
            **kw,
        )
        opened.append(session)
        return session

    yield factory
    for session in opened:
        session.store.close()
