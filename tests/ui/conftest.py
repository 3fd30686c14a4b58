"""Fixtures for every Qt test under tests/ui (the shell's and the editor helper's).

Three rules hold for every test in this folder, as napari does it:
- a Qt warning (qWarning, QML errors, qt.modeltest) fails the test;
- a Qt thread or thread-pool job started by the test and still alive after it fails the test
  (Python threads and child processes: for the whole suite, in tests/support/leak_guard.py);
- a QTimer started by the test and still active after it (or a pending singleShot) fails it.

Opt out per test, with a reason in the test, using the markers registered below.
Every test also gets its own `GAUNTLET_HOME` so settings, logs and the local store never touch
the developer's real profile.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
import weakref

import pytest
from support.bounties import make_bounty

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Warnings the offscreen platform prints for things it cannot do; not bugs in our code.
_BENIGN_QT_MESSAGES = (
    r"This plugin does not support propagateSizeHints\(\)",
    r"This plugin does not support raise\(\)",
    r"This plugin does not support grabbing the keyboard",
    r"QFont::setPointSize: Point size <= 0",
)
_UI_ROOT = os.path.dirname(os.path.abspath(__file__))
_THREAD_GRACE_S = 5.0
_TIMER_GRACE_S = 1.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_leaked_timers: this test may leave QTimers running")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if not str(item.path).startswith(_UI_ROOT):
            continue
        if item.get_closest_marker("qt_log_level_fail") is None:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
        if item.get_closest_marker("qt_log_ignore") is None:
            item.add_marker(pytest.mark.qt_log_ignore(*_BENIGN_QT_MESSAGES))


@pytest.fixture(autouse=True, scope="session")
def _garbage_collected_on_the_gui_thread():
    """As in the app (app/ui/main_thread_gc.py): no automatic collection, which could destroy
    a QObject on a worker thread and crash Qt; each test's garbage is collected after it, here."""
    gc.disable()
    yield
    gc.enable()


@pytest.fixture(autouse=True)
def _collect_after_the_test():
    yield
    gc.collect()  # after qtbot closed the test's widgets: their cycles go on this thread


@pytest.fixture(autouse=True)
def gauntlet_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """A throwaway profile: data, cache, logs and config of this test only."""
    home = tmp_path_factory.mktemp("gauntlet-home")
    monkeypatch.setenv("GAUNTLET_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def _no_running_pool_jobs(request: pytest.FixtureRequest):
    """Fail the test when Qt's global thread pool still runs a job of it afterwards. (Python
    threads and child processes are checked for the whole suite by support/leak_guard.py.)"""
    yield
    if request.node.get_closest_marker("allow_leaked_threads"):
        return
    from PySide6.QtCore import QThreadPool

    pool = QThreadPool.globalInstance()
    if not pool.waitForDone(int(_THREAD_GRACE_S * 1000)):
        pytest.fail(
            f"QThreadPool still has {pool.activeThreadCount()} running job(s) after the test"
        )


@pytest.fixture(autouse=True)
def _no_leaked_qthreads(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """Track every QThread started in the test; fail if one is still running afterwards."""
    try:
        from PySide6.QtCore import QThread
    except ImportError:
        yield
        return
    started: list[weakref.ref] = []
    base_start = QThread.start

    def start(self, *args, **kwargs):
        started.append(weakref.ref(self))
        return base_start(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", start)
    yield
    if request.node.get_closest_marker("allow_leaked_threads"):
        return
    running = []
    for ref in started:
        thread = ref()
        try:
            # QThread.wait itself: qasync's executor threads override wait() without a timeout.
            if thread is not None and not QThread.wait(thread, int(_THREAD_GRACE_S * 1000)):
                running.append(thread)
        except RuntimeError:  # the C++ object is gone: it cannot be running
            pass
    if running:
        pytest.fail(f"{len(running)} QThread(s) still running after the test")


@pytest.fixture(autouse=True)
def _no_leaked_qtimers(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """Track QTimer.start and QTimer.singleShot; fail if any is still pending after the test."""
    try:
        from PySide6.QtCore import QObject, QTimer
    except ImportError:
        yield
        return
    timers: list[QTimer] = []
    single_shots: list[QTimer] = []
    base_start = QTimer.start

    def start(self, *args, **kwargs):
        timers.append(self)
        return base_start(self, *args, **kwargs)

    def single_shot(msec, *args):
        # singleShot(msec, callable) | (msec, context, callable) | (msec, timerType, callable)
        context = None
        target = args[-1]
        if len(args) >= 2 and isinstance(args[0], QObject):
            context = args[0]
            if isinstance(target, str):  # a SLOT("name()") string
                target = getattr(context, target.split("(")[0].lstrip("1"))
        timer = QTimer(context)
        timer.setSingleShot(True)
        timer.timeout.connect(target)
        timer.timeout.connect(timer.deleteLater)
        single_shots.append(timer)
        base_start(timer, int(msec))

    monkeypatch.setattr(QTimer, "start", start)
    monkeypatch.setattr(QTimer, "singleShot", staticmethod(single_shot))
    yield
    if request.node.get_closest_marker("allow_leaked_timers"):
        return

    def active(timer: QTimer) -> bool:
        try:
            return timer.isActive()
        except RuntimeError:  # deleted with its owner
            return False

    # Short single shots (deferred UI updates) may fire during teardown; give them a moment.
    deadline = time.monotonic() + _TIMER_GRACE_S
    while any(active(t) and t.interval() <= _TIMER_GRACE_S * 1000 for t in single_shots):
        if time.monotonic() > deadline:
            break
        _process_qt_events()
        time.sleep(0.01)
    pending = [t for t in single_shots if active(t)]
    running = [t for t in timers if t not in single_shots and active(t)]
    problems = []
    if pending:
        problems.append(f"{len(pending)} pending QTimer.singleShot call(s)")
    if running:
        owners = ", ".join(sorted({_owner_name(t) for t in running}))
        problems.append(f"{len(running)} QTimer(s) still active (owned by: {owners})")
    for timer in pending + running:
        try:
            timer.stop()
        except RuntimeError:
            pass
    if problems:
        pytest.fail("timers leaked by the test: " + "; ".join(problems))


def _owner_name(timer) -> str:
    try:
        parent = timer.parent()
    except RuntimeError:
        return "?"
    if parent is None:
        return timer.objectName() or "no parent"
    return f"{type(parent).__name__}{'/' + parent.objectName() if parent.objectName() else ''}"


def _process_qt_events() -> None:
    try:
        from PySide6.QtCore import QCoreApplication
    except ImportError:
        return
    if QCoreApplication.instance() is not None:
        QCoreApplication.processEvents()


@pytest.fixture
def async_loop(qapp):
    """A qasync event loop marked as running inside pytest-qt's event processing, so code that
    schedules coroutines (httpx, litellm, the sync client) runs while `qtbot.waitUntil` spins.
    Closed after the test: its default executor threads end too."""
    import qasync

    previous = asyncio.events._get_running_loop()
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    # Let cancelled tasks unwind, then mark the loop stopped without quitting the QApplication.
    for task in asyncio.all_tasks(loop):
        task.cancel()
    deadline = time.monotonic() + 2.0
    while any(not t.done() for t in asyncio.all_tasks(loop)) and time.monotonic() < deadline:
        _process_qt_events()
        time.sleep(0.01)
    loop._QEventLoop__is_running = False  # noqa: SLF001 - qasync has no public "detach"
    try:
        qapp.aboutToQuit.disconnect(loop._after_run_forever)
    except (RuntimeError, TypeError):
        pass
    loop._after_run_forever()
    asyncio.events._set_running_loop(previous)
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def bounty_store(tmp_path):
    """A real local store (the sync helper's SQLite mirror) holding 40 bounties."""
    from app.sync.store import LocalStore

    store = LocalStore(tmp_path / "store.sqlite")
    store.bounties.upsert([make_bounty(i) for i in range(40)])
    yield store
    store.close()


@pytest.fixture
def job_runner(qapp):
    """The window's JobRunner on its own; unhandled errors are collected, not swallowed."""
    from app.ui.background_jobs import JobRunner

    errors: list[BaseException] = []
    runner = JobRunner(errors.append)
    runner.errors = errors
    yield runner
    runner.shutdown(wait=True)
    runner.deleteLater()
    assert not errors, f"unhandled errors in background work: {errors!r}"
