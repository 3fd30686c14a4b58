"""What the frozen app does first (app/frozen.py): give child processes the user's own library
path back, and survive a windowed start with no stdout or stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app import frozen

ROOT = Path(__file__).resolve().parents[2]


def test_the_users_library_path_comes_back_for_child_processes(monkeypatch, tmp_path):
    bundle = tmp_path / "_internal"
    bundle.mkdir()
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    env = {"LD_LIBRARY_PATH": f"{bundle}:/opt/lib", "LD_LIBRARY_PATH_ORIG": "/opt/lib"}
    assert frozen.restore_library_path(env) == ["LD_LIBRARY_PATH"]
    assert env == {"LD_LIBRARY_PATH": "/opt/lib"}
    # The user had none: the bootloader's own value goes away entirely.
    env = {"LD_LIBRARY_PATH": str(bundle), "PATH": "/usr/bin"}
    assert frozen.restore_library_path(env) == ["LD_LIBRARY_PATH"]
    assert env == {"PATH": "/usr/bin"}
    # Someone else's path (not the bundle's) is left alone.
    env = {"DYLD_LIBRARY_PATH": "/usr/local/lib"}
    assert frozen.restore_library_path(env) == []
    assert env == {"DYLD_LIBRARY_PATH": "/usr/local/lib"}


def test_a_child_started_after_the_restore_sees_the_users_path(monkeypatch, tmp_path):
    bundle = tmp_path / "_internal"
    bundle.mkdir()
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", f"{bundle}:/users/own")
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/users/own")
    frozen.restore_library_path()
    seen = subprocess.run(
        ["sh", "-c", 'echo "$LD_LIBRARY_PATH|${LD_LIBRARY_PATH_ORIG-unset}"'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert seen == "/users/own|unset"


def test_a_windowed_app_without_stdout_or_stderr_can_print_and_log(tmp_path):
    # pythonw / a --windowed PyInstaller build: sys.stdout and sys.stderr are None.
    script = (
        "import sys, logging\n"
        "sys.stdout = sys.stderr = None\n"
        "from app.frozen import ensure_standard_streams\n"
        "assert ensure_standard_streams() == ['stdout', 'stderr']\n"
        "print('smoke test: ok')\n"
        "logging.basicConfig()\n"
        "logging.getLogger('x').warning('no console, no crash')\n"
        "sys.stderr.flush()\n"
        "open(sys.argv[1], 'w').write('survived')\n"
    )
    marker = tmp_path / "marker"
    completed = subprocess.run(
        [sys.executable, "-c", script, str(marker)],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert completed.returncode == 0, completed.stderr
    assert marker.read_text() == "survived"
