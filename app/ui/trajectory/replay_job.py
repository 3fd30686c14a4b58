"""One step-by-step replay (app/funnel/replay_steps.py) in the window's worker threads.

The sandbox's Docker SDK calls block, so the replay runs on a `JobRunner` thread and its result
comes back on the GUI thread. Cancel sets the replay's `CancelToken`: the sandbox removes its
container and the batch raises `Cancelled`, reported as "cancelled", not as an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.errors import UserError
from app.progress import Cancelled, CancelToken

log = logging.getLogger(__name__)


def run_replay(root: Path, task_id: str, raw_turns: Any, backend_name: str, cancel: CancelToken):
    """Blocking: a worker thread's. The package as saved, the trajectory as edited."""
    from app.funnel.replay_steps import load_pack, replay_trajectory, sandbox_for
    from app.sandbox.base import SandboxUnavailable

    pack = load_pack(root)
    try:
        backend = sandbox_for(root, backend_name)
        cancel.raise_if_cancelled()
        return replay_trajectory(pack, task_id, raw_turns, backend, cancel)
    except SandboxUnavailable as exc:
        raise UserError(f"the sandbox cannot run: {exc.message}.", exc.hint) from None


class ReplayJob(QObject):
    """`start(...)` once at a time; `finished(Replay)`, `failed(UserError)`, `cancelled()`."""

    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    running_changed = Signal(bool)

    def __init__(
        self, job_runner: Any, backend_name: Callable[[], str], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._jobs = job_runner
        self._backend_name = backend_name
        self._cancel: CancelToken | None = None
        self._closed = False

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def start(self, root: Path, task_id: str, raw_turns: Any) -> bool:
        if self.running or self._closed:
            return False
        token = self._cancel = CancelToken()
        self.running_changed.emit(True)
        future = self._jobs.run_in_thread(
            run_replay, root, task_id, raw_turns, self._backend_name(), token,
            on_done=lambda replay: self._done(token, replay),
            on_error=lambda exc: self._error(token, exc),
        )  # fmt: skip
        if future is None:  # the window is closing
            self._cancel = None
            self.running_changed.emit(False)
            return False
        return True

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()

    def close(self) -> None:
        """The tab closes: stop the replay; its late result is dropped."""
        self.cancel()
        self._closed = True

    def _finish(self, token: CancelToken) -> bool:
        if self._closed or token is not self._cancel:
            return False
        self._cancel = None
        self.running_changed.emit(False)
        return True

    def _done(self, token: CancelToken, replay) -> None:
        if self._finish(token):
            self.finished.emit(replay)

    def _error(self, token: CancelToken, exc: BaseException) -> None:
        if not self._finish(token):
            return
        if isinstance(exc, Cancelled):
            self.cancelled.emit()
        elif isinstance(exc, UserError):
            self.failed.emit(exc)
        else:
            log.error("the replay failed", exc_info=exc)
            self.failed.emit(
                UserError(
                    f"the replay stopped: {type(exc).__name__}: {exc}.",
                    "Check that the sandbox works (Settings → Sandbox), then replay again.",
                )
            )
