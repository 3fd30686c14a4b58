"""Starts the desktop app: logging, the QApplication with its qasync event loop, the theme, the
error reporter, and the main window. `--smoke-test` builds it all, waits for demo data and
quits with 0."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

SMOKE_TIMEOUT_S = 120


def create_application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Gauntlet Studio")
    app.setOrganizationName("Gauntlet")
    app.setApplicationDisplayName("Gauntlet Studio")
    return app


def build_main_window(
    *, connect_platform: bool = True, check_sandbox: bool = True, folder_picker=None
):
    """The window and what it needs (also used by tests and the benchmark)."""
    from app.sync.credentials import CredentialStore, FallbackPolicy
    from app.ui.app_settings import AppSettings
    from app.ui.error_reporter import ErrorReporter
    from app.ui.main_window import MainWindow
    from app.ui.theme import apply_theme

    app = create_application()
    settings = AppSettings()
    apply_theme(app, settings.theme)
    reporter = ErrorReporter(app)
    credentials = CredentialStore(fallback=FallbackPolicy(settings.keychain_fallback))
    kwargs = {"folder_picker": folder_picker} if folder_picker else {}
    return MainWindow(
        settings,
        credentials,
        reporter,
        connect_platform=connect_platform,
        check_sandbox=check_sandbox,
        **kwargs,
    )


def run_studio(*, smoke_test: bool = False, package: Path | None = None) -> int:
    import qasync

    from app.ui.app_logging import configure_logging, remove_file_logging

    started = time.perf_counter()
    log_file = configure_logging()
    log.info("starting Gauntlet Studio (log: %s)", log_file)
    from app.ui.main_thread_gc import MainThreadGarbageCollector

    app = create_application()
    collector = MainThreadGarbageCollector(app)
    collector.start()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = build_main_window(check_sandbox=not smoke_test)
    window.reporter.install()
    window.reporter.install_on_loop(loop)
    window.show()
    if package is not None:
        window.open_package(package)
    log.info("main window shown after %.2f s", time.perf_counter() - started)
    # Everything built so far lives as long as the app: move it out of the garbage collector's
    # sight, so a full collection later is short and cannot stall the GUI thread.
    gc.collect()
    gc.freeze()
    app.aboutToQuit.connect(window.shutdown)
    smoke = SmokeTest(window, started) if smoke_test else None
    if smoke is not None:
        smoke.start()
    try:
        with loop:
            code = loop.run_forever()
    finally:
        collector.stop()
        window.reporter.uninstall()
        remove_file_logging()
    if smoke is not None:
        return smoke.exit_code
    return int(code or 0)


class SmokeTest:
    """Waits until the demo bounties are in the table, visits every screen, then quits."""

    def __init__(self, window, started: float) -> None:
        self.window = window
        self.started = started
        self.exit_code = 1
        self._problems: list[str] = []
        self._timer = QTimer(window)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._poll)
        window.reporter.problem.connect(lambda p: self._problems.append(p.title))

    def start(self) -> None:
        self._timer.start()

    def _poll(self) -> None:
        window = self.window
        elapsed = time.perf_counter() - self.started
        bounties = window.bounties.model.total_count()
        if bounties:
            for name in ("workspace", "submissions", "reviews", "settings", "bounties"):
                window.show_screen(name)
                QApplication.processEvents()
            self._finish(
                0,
                f"smoke test: ok — main window with {bounties} demo bounties after {elapsed:.1f} s",
            )
        elif self._problems:
            self._finish(1, "smoke test: failed — " + "; ".join(self._problems))
        elif elapsed > SMOKE_TIMEOUT_S:
            self._finish(
                1,
                f"smoke test: failed — no demo bounties after {SMOKE_TIMEOUT_S} s "
                f"(platform state: {window.platform.state.summary})",
            )

    def _finish(self, code: int, message: str) -> None:
        self._timer.stop()
        self.exit_code = code
        print(message, flush=True)
        self.window.close()
        QApplication.instance().exit(code)
