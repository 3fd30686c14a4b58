"""The suite-wide guard (tests/support/leak_guard.py) really fails the test that leaves a
thread or a child process running, lets a module-scoped fixture's thread live until the
module's end, and kills a leaked child (run in a separate pytest process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CASES = """
import subprocess, sys, threading, time
import pytest

stop_module_thread = threading.Event()

@pytest.fixture(scope="module")
def module_server():
    thread = threading.Thread(target=stop_module_thread.wait, name="module-server", daemon=True)
    thread.start()
    yield
    stop_module_thread.set()
    thread.join()

def test_clean():
    threading.Thread(target=time.sleep, args=(0.1,)).start()

def test_uses_module_server(module_server):
    pass

def test_uses_module_server_again(module_server):
    pass

def test_leaks_a_thread():
    threading.Thread(target=time.sleep, args=(30,), daemon=True, name="leaky").start()

def test_leaks_a_child_process(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    (tmp_path / "pid").write_text(str(proc.pid))
    (tmp_path.parent / "leaked-pid").write_text(str(proc.pid))

def test_waits_for_its_child():
    subprocess.run([sys.executable, "-c", "pass"], check=True)

def test_litellm_pool_is_process_wide():
    threading.Thread(target=time.sleep, args=(30,), daemon=True, name="litellm-logging_0").start()
"""


def test_guard_fails_the_leaking_tests_only(tmp_path):
    (tmp_path / "test_cases.py").write_text(CASES, encoding="utf-8")
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
            str(tmp_path / "test_cases.py"),
            "--rootdir",
            str(tmp_path),
            "--basetemp",
            str(tmp_path / "base"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent)},
    )
    out = result.stdout
    assert "7 passed, 2 errors" in out, out[-3000:]
    assert "ERROR test_cases.py::test_leaks_a_thread" in out
    assert "threads leaky" in out
    assert "ERROR test_cases.py::test_leaks_a_child_process" in out
    assert "child processes pid" in out
    leaked = int(next((tmp_path / "base").rglob("leaked-pid")).read_text())
    state = Path(f"/proc/{leaked}/stat")
    assert not state.exists() or state.read_text().rsplit(")", 1)[1].split()[0] in "ZX"
