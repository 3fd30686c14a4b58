"""A pytest plugin that fails the test which leaves a thread, a child process or a sandbox
container running.

Loaded for the whole suite by tests/conftest.py. Nothing a test or a fixture starts may outlive
it: a server thread left behind by one module once crashed a later Qt test (a segfault in
pytest-qt's event processing), far from its cause. The check runs after the test's teardown, so
function-scoped fixtures have stopped their servers by then:

- after every test: threads and child processes started during its setup, call or teardown and
  still running after a short grace period fail that test (as a teardown error);
- a module- or class-scoped fixture's threads may live until the module's last test; they are
  checked then, against what was running before the module's first test;
- a session-scoped fixture's threads live as long as the session.

`@pytest.mark.allow_leaked_threads` opts a single test out; the reason goes in the test.
Leaked child processes and containers are removed after being reported, so one leak cannot
cascade. (Containers are checked once the process has used the Docker SDK: those labelled with
this process as their owner, app/sandbox/containers.py.)
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

GRACE_S = 5.0
# Pools a library creates once per process, on first use, and keeps for the process's life:
# not a test's leak. (litellm runs its logging callbacks in such a pool.)
PROCESS_WIDE_POOLS = ("litellm-logging",)


def _thread_alive(thread: threading.Thread) -> bool:
    """Python 3.11 keeps a "dummy" Thread object for every foreign thread (a QThread, say)
    that ever ran Python code, and calls it alive forever; on Linux ask the kernel instead."""
    if isinstance(thread, threading._DummyThread):  # noqa: SLF001
        native_id = getattr(thread, "native_id", None)
        if native_id is not None and os.path.isdir("/proc/self/task"):
            return os.path.exists(f"/proc/self/task/{native_id}")
    return thread.is_alive()


def _running_children() -> set[int]:
    """PIDs of this process's live (not zombie) children, from /proc (Linux only)."""
    pids: set[int] = set()
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        return pids
    for task in tasks.iterdir():
        try:
            pids.update(int(p) for p in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return {pid for pid in pids if _process_state(pid) not in ("Z", "X", None)}


def _process_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _describe_process(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    except OSError:
        cmd = "?"
    return f"pid {pid} ({cmd.strip()})"


def _process_qt_events() -> None:
    """Let queued Qt work finish (a QThread's `finished` handler) while we wait."""
    qtcore = sys.modules.get("PySide6.QtCore")
    if qtcore is not None and qtcore.QCoreApplication.instance() is not None:
        qtcore.QCoreApplication.processEvents()


def _broader_fixtures_not_set_up(item: pytest.Item) -> set:
    """The item's fixtures of a scope broader than function that have no value yet."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return set()
    return {
        fixture
        for fixtures in info.name2fixturedefs.values()
        for fixture in fixtures
        if fixture.scope != "function" and fixture.cached_result is None
    }


_docker_client = None


def _own_containers() -> set[str]:
    """IDs of sandbox containers this process owns (only once it has used the Docker SDK)."""
    global _docker_client
    if "docker" not in sys.modules:
        return set()
    try:
        if _docker_client is None:
            _docker_client = sys.modules["docker"].from_env(timeout=30)
        found = _docker_client.containers.list(
            all=True, filters={"label": ["gauntlet.sandbox=1", f"gauntlet.owner.pid={os.getpid()}"]}
        )
    except Exception:  # noqa: BLE001 - no engine here: nothing of ours can be running in it
        return set()
    return {container.id[:12] for container in found}


def _remove_container(container_id: str) -> None:
    try:
        _docker_client.containers.get(container_id).remove(force=True)
    except Exception:  # noqa: BLE001 - already gone
        pass


class _Snapshot:
    def __init__(self) -> None:
        self.threads = set(threading.enumerate())
        self.children = _running_children()
        self.containers = _own_containers()


class LeakGuard:
    def __init__(self) -> None:
        self._module: Path | None = None
        self._module_start: _Snapshot | None = None
        self._before_setup: _Snapshot | None = None
        self._opened_scopes: set[str] = set()  # broader fixtures this test's setup started
        self._after_setup: _Snapshot | None = None
        self._reported: set[object] = set()  # reported once, never blamed on a later test
        self._session_owned: set[object] = set()  # started by session-scoped fixtures

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item):
        if item.path != self._module:
            self._module, self._module_start = item.path, _Snapshot()
        self._before_setup = _Snapshot()
        pending = _broader_fixtures_not_set_up(item)
        try:
            return (yield)
        finally:
            self._after_setup = _Snapshot()
            started = pending - _broader_fixtures_not_set_up(item)
            self._opened_scopes = {fixture.scope for fixture in started}
            if self._opened_scopes & {"session", "package"}:
                self._session_owned |= self._after_setup.threads - self._before_setup.threads
                self._session_owned |= self._after_setup.children - self._before_setup.children
                self._session_owned |= self._after_setup.containers - self._before_setup.containers

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None):
        result = yield
        if item.get_closest_marker("allow_leaked_threads") or self._before_setup is None:
            return result
        module_ends = nextitem is None or nextitem.path != item.path
        baseline = self._module_start if module_ends else self._before_setup
        threads, children, containers = self._wait_for_leaks(baseline)
        threads -= self._reported | self._session_owned
        children -= self._reported | self._session_owned
        containers -= self._reported | self._session_owned
        if not module_ends and self._opened_scopes and self._after_setup is not None:
            # Started while this test's setup ran module-scoped fixtures: checked at the end.
            threads -= self._after_setup.threads
            children -= self._after_setup.children
            containers -= self._after_setup.containers
        if threads or children or containers:
            self._reported |= threads | children | containers
            self._fail(threads, children, containers, module_ends)
        return result

    @staticmethod
    def _wait_for_leaks(
        baseline: _Snapshot,
    ) -> tuple[set[threading.Thread], set[int], set[str]]:
        deadline = time.monotonic() + GRACE_S
        while True:
            threads = {
                t
                for t in threading.enumerate()
                if t not in baseline.threads
                and _thread_alive(t)
                and not t.name.startswith(PROCESS_WIDE_POOLS)
            }
            children = _running_children() - baseline.children
            containers = _own_containers() - baseline.containers
            if (not threads and not children and not containers) or time.monotonic() > deadline:
                return threads, children, containers
            _process_qt_events()
            time.sleep(0.02)

    @staticmethod
    def _fail(
        threads: set[threading.Thread], children: set[int], containers: set[str], module_ends: bool
    ) -> None:
        parts = []
        if threads:
            parts.append("threads " + ", ".join(sorted(t.name for t in threads)))
        if children:
            parts.append("child processes " + ", ".join(_describe_process(p) for p in children))
            for pid in children:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        if containers:
            parts.append("sandbox containers " + ", ".join(sorted(containers)))
            for container_id in containers:
                _remove_container(container_id)
        whose = "this test or this module's fixtures" if module_ends else "this test"
        pytest.fail(
            f"{whose} left {' and '.join(parts)} running {GRACE_S:.0f} s after teardown; "
            "stop them in the fixture or test that starts them.",
            pytrace=False,
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "allow_leaked_threads: this test may leave threads running (say why)"
    )
    config.pluginmanager.register(LeakGuard(), "gauntlet-leak-guard")
