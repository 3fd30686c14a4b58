"""The guards in tests/ui/conftest.py and tests/support/leak_guard.py really fail a test that
leaks a thread, a QTimer or a pending singleShot, or emits a Qt warning (run in a separate
pytest process)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CASES = """
import threading, time
from PySide6.QtCore import QTimer, qWarning
from PySide6.QtWidgets import QLabel

def test_clean(qtbot):
    label = QLabel("ok"); qtbot.addWidget(label)
    QTimer.singleShot(5, label.clear)

def test_leaks_a_timer(qtbot):
    timer = QTimer(); timer.start(10_000)

def test_leaks_a_single_shot(qtbot):
    QTimer.singleShot(60_000, lambda: None)

def test_leaks_a_thread():
    threading.Thread(target=time.sleep, args=(20,), daemon=True, name="leaky").start()

def test_warns(qtbot):
    qWarning("something is wrong")
"""


def test_guards_fail_leaky_tests(tmp_path):
    folder = tmp_path / "ui"
    folder.mkdir()
    shutil.copy(Path(__file__).with_name("conftest.py"), folder / "conftest.py")
    (folder / "test_cases.py").write_text(CASES, encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "support.leak_guard",
            str(folder),
            "-o",
            "qt_api=pyside6",
            "--rootdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    out = result.stdout
    # Leaks are found in teardown (errors); the warning fails the call; test_clean passes.
    assert "1 failed, 4 passed, 3 errors" in out, out[-3000:]
    assert "timers leaked by the test: 1 QTimer(s) still active" in out
    assert "pending QTimer.singleShot" in out
    assert "this test left threads leaky" in out and "leaky" in out
    assert "Qt messages with level WARNING or above emitted" in out
