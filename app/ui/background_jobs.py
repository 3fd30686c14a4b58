"""Background work for the window: blocking calls in worker threads, coroutines on the qasync
loop, results always delivered back on the GUI thread. The GUI thread never waits.

Errors nobody handles go to the `ErrorReporter` (a notification), never into the void.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class JobRunner(QObject):
    """One per window. `shutdown()` on close stops everything it started."""

    _deliver = Signal(object, object)  # (callback, value), emitted from worker threads
    jobs_changed = Signal(int)

    def __init__(
        self, report_error: ErrorCallback, *, max_workers: int = 4, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._report_error = report_error
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="gauntlet-worker"
        )
        self._coroutines: set[asyncio.Task] = set()
        self._futures: set[concurrent.futures.Future] = set()
        self._closed = False
        self._deliver.connect(self._on_deliver)

    @property
    def running(self) -> int:
        return len(self._futures) + len(self._coroutines)

    def run_in_thread(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> concurrent.futures.Future | None:
        """Run a blocking call (Docker SDK, keychain, filesystem) in a worker thread."""
        if self._closed:
            return None
        future = self._executor.submit(fn, *args)
        self._futures.add(future)
        self.jobs_changed.emit(self.running)

        def finished(f: concurrent.futures.Future) -> None:
            if f.cancelled():
                self._deliver.emit(self._forget_future, f)
                return
            exc = f.exception()
            self._deliver.emit(self._forget_future, f)
            if exc is not None:
                self._deliver.emit(on_error or self._report_error, exc)
            elif on_done is not None:
                self._deliver.emit(on_done, f.result())

        future.add_done_callback(finished)
        return future

    def run_coroutine(
        self,
        coro: Awaitable[Any],
        *,
        on_done: Callback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> asyncio.Task | None:
        """Run a coroutine (httpx, litellm, the sync engine) on the window's event loop."""
        if self._closed:
            coro.close()  # type: ignore[union-attr]
            return None
        task = asyncio.ensure_future(coro)
        self._coroutines.add(task)
        self.jobs_changed.emit(self.running)

        def finished(t: asyncio.Task) -> None:
            self._coroutines.discard(t)
            self.jobs_changed.emit(self.running)
            if t.cancelled():
                return
            exc = t.exception()
            if exc is not None:
                (on_error or self._report_error)(exc)
            elif on_done is not None:
                on_done(t.result())

        task.add_done_callback(finished)
        return task

    def shutdown(self, wait: bool = True) -> None:
        """Cancel coroutines and queued work; wait for running threads to return."""
        self._closed = True
        for task in list(self._coroutines):
            task.cancel()
        self._executor.shutdown(wait=wait, cancel_futures=True)

    def _forget_future(self, future: concurrent.futures.Future) -> None:
        self._futures.discard(future)
        self.jobs_changed.emit(self.running)

    @Slot(object, object)
    def _on_deliver(self, callback: Callable[[Any], None], value: Any) -> None:
        try:
            callback(value)
        except Exception as exc:  # a bug in a callback must not vanish inside Qt
            self._report_error(exc)
