"""The app's garbage collector runs on the GUI thread only (app/ui/main_thread_gc.py)."""

from __future__ import annotations

import gc
import threading

from app.ui.main_thread_gc import MainThreadGarbageCollector


class _Cycle:
    def __init__(self, log: list[str]) -> None:
        self.me = self
        self.log = log

    def __del__(self) -> None:
        self.log.append(threading.current_thread().name)


def test_cycles_made_by_a_worker_are_collected_on_the_gui_thread(qtbot):
    collector = MainThreadGarbageCollector(interval_ms=20)
    collector.start()
    try:
        assert not gc.isenabled()
        finalized: list[str] = []

        def churn() -> None:  # a worker that allocates far past every threshold
            for _ in range(3):
                _Cycle(finalized)
            junk = [[i] for i in range(200_000)]
            del junk

        worker = threading.Thread(target=churn, name="worker")
        worker.start()
        worker.join()
        assert finalized == []  # the worker collected nothing
        qtbot.waitUntil(lambda: len(finalized) == 3, timeout=5000)
        assert set(finalized) == {threading.main_thread().name}
    finally:
        collector.stop()
        gc.disable()  # the UI tests keep collection off (tests/ui/conftest.py)
    assert collector.collect_due() in (-1, 0, 1, 2)
