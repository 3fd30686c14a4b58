"""`.ci/with-keyring`, the keychain every test run gets: it must hand the command an unlocked
login collection each time it starts, keep nothing outside its own session, and pass the
command's exit status through."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.services import need

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import os, secretstorage
bus = secretstorage.dbus_init()
collection = secretstorage.get_default_collection(bus)
print("locked", collection.is_locked())
print("keyring", os.environ.get("GAUNTLET_TEST_KEYRING"))
print("session", os.environ["XDG_RUNTIME_DIR"])
raise SystemExit(7)
"""


@pytest.mark.keyring
def test_each_session_starts_unlocked_private_and_cleans_up():
    tools = all(shutil.which(tool) for tool in ("dbus-run-session", "gnome-keyring-daemon"))
    need("keyring", tools, "dbus-run-session and gnome-keyring-daemon (see .ci/setup-system)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GAUNTLET_", "DBUS_"))}
    sessions = []
    for _ in range(3):  # back to back, as one run follows another on a CI machine
        result = subprocess.run(
            [str(ROOT / ".ci" / "with-keyring"), sys.executable, "-c", PROBE],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 7, result.stderr
        lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
        assert lines["locked"] == "False", result.stderr
        assert lines["keyring"] == "secret-service"
        sessions.append(Path(lines["session"]))
    assert len(set(sessions)) == 3
    assert not any(session.exists() for session in sessions)
