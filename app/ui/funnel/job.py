"""One funnel run, adapted to Qt signals.

The funnel runs in a child process (`app.funnel.child`): stages 2 and 3 are CPU-heavy Python and
would hold this process's GIL, stalling the window. A worker thread here only reads the child's
events from a pipe into a queue that a GUI-thread timer drains in small batches, so a stage that
emits thousands of events cannot flood the event loop either (docs/engineering.md, "Budgets").
Cancel asks the child to cancel its `CancelToken` (its sandbox removes its containers) and kills it
if it has not stopped after a grace period.

A spare child is started ahead of time (`prepare()`): it imports the stages while the user is
still editing, so pressing "Run" starts the run at once.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from app.errors import UserError
from app.findings import Stage
from app.funnel.child import ChildFunnelRun, discard_spare, spawn_funnel_child
from app.funnel.pipeline import FunnelOptions
from app.funnel.report import Report
from app.progress import ProgressEvent

log = logging.getLogger(__name__)

DRAIN_INTERVAL_MS = 40
MAX_EVENTS_PER_DRAIN = 400


@dataclass(slots=True)
class StageClock:
    """Counts and a time-left estimate for one stage."""

    started: float = field(default_factory=time.monotonic)
    done: int = 0
    total: int | None = None

    def eta_s(self) -> float | None:
        if not self.total or self.done <= 0 or self.done >= self.total:
            return None
        elapsed = time.monotonic() - self.started
        return elapsed / self.done * (self.total - self.done)


class FunnelJob(QObject):
    stage_started = Signal(object)  # Stage
    stage_progress = Signal(object, int, object, object)  # Stage, done, total | None, eta_s | None
    stage_finished = Signal(object, str)  # Stage, status
    log_line = Signal(str)
    # Every progress message, uncoalesced ("qc-report: forge-reward-txt"): the agentic log
    progress_message = Signal(object, str)  # Stage, message
    finding = Signal(object)  # Finding
    finished = Signal(object)  # Report
    failed = Signal(object)  # exception (UserError for the expected ones)
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: collections.deque = collections.deque()
        self._thread: threading.Thread | None = None
        self._run: ChildFunnelRun | None = None
        self._spare = None  # a warm child process waiting for its run request
        self._clocks: dict[Stage, StageClock] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(DRAIN_INTERVAL_MS)
        self._timer.timeout.connect(self._drain)
        self.started_at = 0.0

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def child_pid(self) -> int | None:
        """The process running the funnel now (None when idle)."""
        return self._run.pid if self._run is not None else None

    def prepare(self) -> None:
        """Start a spare child now, so the next run need not wait for Python and the imports."""
        if self._spare is not None and self._spare.poll() is None:
            return
        try:
            self._spare = spawn_funnel_child()
        except OSError as exc:  # the run will try again and report it
            log.warning("could not start a spare funnel worker: %s", exc)
            self._spare = None

    def start(
        self, path: str | Path, stages: tuple[Stage, ...], options: FunnelOptions | None = None
    ) -> None:
        if self.running:
            raise UserError(
                "The gauntlet is already running on this package.",
                "Wait for it to finish or cancel it.",
            )
        self._clocks = {}
        self._queue.clear()
        self.started_at = time.monotonic()
        spare, self._spare = self._spare, None
        run = self._run = ChildFunnelRun(
            Path(path), stages, options or FunnelOptions(), spare=spare
        )

        def work() -> None:
            try:
                run.start()
                for event in run.events():
                    self._queue.append(event)
                self._queue.append(("finished", run.result()))
            except BaseException as exc:  # noqa: BLE001 - delivered to the GUI thread
                self._queue.append(("failed", exc))

        self._thread = threading.Thread(target=work, name="gauntlet-funnel", daemon=False)
        self._timer.start()
        self.running_changed.emit(True)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the run to stop: the child cancels, and its sandbox removes its container."""
        if self._run is not None and not self._run.cancel_requested:
            self.log_line.emit("Cancelling… stopping the sandbox.")
            self._run.cancel()

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Cancel and wait for the run (window closing); let the spare child go."""
        spare, self._spare = self._spare, None
        discard_spare(spare)
        thread = self._thread
        if thread is None:
            return
        if self._run is not None:
            self._run.cancel()
        thread.join(timeout_s)
        self._drain(limit=None)
        self._timer.stop()

    # -- GUI thread ------------------------------------------------------------------------------

    def _drain(self, limit: int | None = MAX_EVENTS_PER_DRAIN) -> None:
        handled = 0
        progress: dict[Stage, ProgressEvent] = {}
        while self._queue and (limit is None or handled < limit):
            item = self._queue.popleft()
            handled += 1
            if isinstance(item, ProgressEvent):
                if item.kind == "progress":
                    progress[item.stage] = item  # only the latest count per stage matters
                    if item.message:
                        self.progress_message.emit(item.stage, item.message)
                    continue
                self._flush_progress(progress)
                self._handle(item)
            else:
                self._flush_progress(progress)
                self._finish(*item)
                return
        self._flush_progress(progress)

    def _flush_progress(self, progress: dict[Stage, ProgressEvent]) -> None:
        for stage, event in progress.items():
            clock = self._clocks.setdefault(stage, StageClock())
            clock.done, clock.total = event.done, event.total
            self.stage_progress.emit(stage, event.done, event.total, clock.eta_s())
            if event.message:
                self.log_line.emit(f"[{stage}] {event.message}")
        progress.clear()

    def _handle(self, event: ProgressEvent) -> None:
        if event.kind == "stage-start":
            self._clocks[event.stage] = StageClock()
            self.stage_started.emit(event.stage)
            self.log_line.emit(f"[{event.stage}] started")
        elif event.kind == "stage-end":
            self.stage_finished.emit(event.stage, event.message)
            self.log_line.emit(f"[{event.stage}] finished: {event.message}")
        elif event.kind == "finding" and event.finding is not None:
            self.finding.emit(event.finding)
        elif event.kind == "log" and event.message:
            self.log_line.emit(f"[{event.stage}] {event.message}")

    def _finish(self, kind: str, value) -> None:
        if self._thread is not None:
            self._thread.join(5)
        self._thread = None
        self._run = None
        self._timer.stop()
        elapsed = time.monotonic() - self.started_at
        if kind == "finished":
            self.log_line.emit(f"Done in {elapsed:.1f} s.")
            self.finished.emit(value)
        else:
            self.log_line.emit(f"Stopped: {value}")
            self.failed.emit(_explain(value))
        self.running_changed.emit(False)


def _explain(exc: BaseException) -> BaseException:
    """Known failures of the machine (no Docker...) become UserErrors with the doctor's hint."""
    try:
        from app.sandbox.base import SandboxUnavailable
    except ImportError:  # pragma: no cover - base.py is a shared contract
        SandboxUnavailable = ()  # noqa: N806
    if isinstance(exc, SandboxUnavailable):
        return UserError(
            f"The sandbox cannot run: {exc.message}",
            exc.hint or "Open Settings → Sandbox for a diagnosis.",
        )
    return exc


def report_is_cancelled(report: Report) -> bool:
    return any((s.details or {}).get("reason") == "cancelled by the user" for s in report.stages)
