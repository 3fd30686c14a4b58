"""Stage-1 findings as the author types: debounced, computed off the GUI thread.

Each request snapshots the unsaved buffers (relative path -> text) and runs
`run_structure_stage(root, overrides=...)` in a short-lived worker thread. Only one run is in
flight; edits during a run schedule exactly one more. Results from a run that a newer request
superseded are dropped, so the editor never shows stale squiggles.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from app.findings import Finding, Severity

log = logging.getLogger(__name__)

DEBOUNCE_MS = 350


class _Bridge(QObject):
    """Carries a worker's result to the GUI thread (a queued signal)."""

    done = Signal(int, object)


class LiveLinter(QObject):
    findings_ready = Signal(list)  # list[Finding] for the whole package
    running_changed = Signal(bool)

    def __init__(
        self, snapshot: Callable[[], dict[str, str]], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._snapshot = snapshot
        self._root: Path | None = None
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._again = False
        self._closed = False
        self._bridge = _Bridge()  # parentless: the worker thread may outlive a deleteLater of self
        self._bridge.done.connect(self._finished)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.run_now)

    def set_root(self, root: Path | None) -> None:
        self._root = root
        self._generation += 1  # results for the old package are no longer wanted

    def request(self) -> None:
        """Something changed: lint after a short pause in typing."""
        if not self._closed and self._root is not None:
            self._debounce.start()

    def run_now(self) -> None:
        self._debounce.stop()
        if self._closed or self._root is None:
            return
        if self._thread is not None and self._thread.is_alive():
            self._again = True
            return
        self._generation += 1
        generation, root, overrides = self._generation, self._root, self._snapshot()
        bridge = self._bridge
        self._thread = threading.Thread(
            target=_lint,
            args=(bridge, generation, root, overrides),
            name="gauntlet-live-lint",
            daemon=True,
        )
        self.running_changed.emit(True)
        self._thread.start()

    def is_running(self) -> bool:
        return self._debounce.isActive() or (self._thread is not None and self._thread.is_alive())

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Stop the debounce and wait for an in-flight run (called when the workspace closes)."""
        self._closed = True
        self._debounce.stop()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def resume(self) -> None:
        """Accept work again after `shutdown()` (the workspace opened another package)."""
        self._closed = False

    def _finished(self, generation: int, findings: object) -> None:
        self.running_changed.emit(False)
        if self._closed:
            return
        if generation == self._generation and isinstance(findings, list):
            self.findings_ready.emit(findings)
        if self._again:
            self._again = False
            self.run_now()


def _lint(bridge: _Bridge, generation: int, root: Path, overrides: dict[str, str]) -> None:
    from app.funnel.structure import run_structure_stage

    try:
        _loaded, findings = run_structure_stage(root, overrides=overrides)
    except Exception:  # the stage promises not to raise; if it does, keep the editor alive
        log.exception("live structural checks failed")
        findings = None
    bridge.done.emit(generation, findings)


def findings_for(findings: list[Finding], relpath: str) -> list[Finding]:
    return [f for f in findings if f.file == relpath]


def problems_line(findings: list[Finding]) -> str:
    """The workspace's problems line: how many errors and warnings, in which files."""
    errors = sum(1 for f in findings if f.severity == Severity.ERROR)
    warnings = sum(1 for f in findings if f.severity == Severity.WARNING)
    if not errors and not warnings:
        return "<span style='color:#2e7d32'>✓ No problems found by the quick checks</span>"
    parts = []
    if errors:
        parts.append(
            f"<span style='color:#c62828'>{errors} error{'s' if errors != 1 else ''}</span>"
        )
    if warnings:
        parts.append(
            f"<span style='color:#b26a00'>{warnings} warning{'s' if warnings != 1 else ''}</span>"
        )
    files = sorted({f.file for f in findings if f.file and f.severity != Severity.INFO})
    return (
        " · ".join(parts)
        + f" in {', '.join(files[:4])}"
        + ("…" if len(files) > 4 else "")
        + " — <a href='next'>show me</a>; hover the underlined text for how to fix it"
    )
