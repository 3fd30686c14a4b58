"""Sync never imports the platform: the embedded one is handed in by the entry points, and a
copy without it says what to do instead of failing on an import."""

from __future__ import annotations

import pytest

from app.errors import UserError
from app.sync import platform


@pytest.fixture
def no_launcher(monkeypatch):
    monkeypatch.delenv("GAUNTLET_SERVER", raising=False)
    monkeypatch.setattr(platform, "_local_launcher", None)


def test_without_a_launcher_the_local_platform_is_refused_with_a_way_out(no_launcher):
    with pytest.raises(UserError) as caught:
        platform.connect()
    assert "no local platform" in str(caught.value)
    assert "gauntlet login --server" in caught.value.hint


def test_the_handed_in_launcher_starts_the_local_platform(no_launcher, tmp_path):
    started = []

    class Running:
        url = "http://127.0.0.1:1"
        tokens = {"author": "a-token", "reviewer": "r-token"}

        def stop(self):
            pass

    def launcher(folder):
        started.append(folder)
        return Running()

    platform.use_local_platform(launcher)
    connection = platform.start_local_platform(role="reviewer", folder=tmp_path)
    assert started == [tmp_path]
    assert (connection.url, connection.token) == ("http://127.0.0.1:1", "r-token")
