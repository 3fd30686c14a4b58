"""Python's cyclic garbage collector, run on the GUI thread only.

CPython collects in whichever thread happens to allocate when a generation's threshold is
crossed. In a Qt app with worker threads (live lint, the funnel's reader, the task pool) that
can be a worker: an unreachable cycle holding a QObject is then destroyed off the GUI thread,
and Qt crashes (a segfault, not an exception). So automatic collection is switched off while
the app runs and a GUI-thread timer collects instead, generation by generation, when the
allocation counts cross the same thresholds CPython would use (pyqtgraph does the same).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_INTERVAL_MS = 500


class MainThreadGarbageCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_INTERVAL_MS) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()

    def collect_due(self) -> int:
        """Collect the oldest generation whose count is over its threshold; return it (-1: none)."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._thresholds[generation]:
                gc.collect(generation)
                return generation
        return -1
