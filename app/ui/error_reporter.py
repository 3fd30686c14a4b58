"""Uncaught exceptions from anywhere (GUI thread, worker threads, coroutines) become a
non-modal notification with "Copy details" and a line in the log: never silent, never a crash.

`UserError`s are shown as what they are (a message and a hint), without a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import traceback
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from app.errors import UserError
from app.ui.app_logging import redact

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Problem:
    title: str  # one line, plain words
    hint: str  # what to do next
    details: str  # traceback or context for a bug report (secrets scrubbed)
    is_bug: bool  # True: our fault (offer to copy details); False: a UserError


def problem_from_exception(exc: BaseException, context: str = "") -> Problem:
    if isinstance(exc, UserError):
        where = f"{exc.where}: " if exc.where else ""
        return Problem(f"{where}{exc.message}", exc.hint, redact(str(exc)), is_bug=False)
    details = redact("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    if context:
        details = f"{context}\n\n{details}"
    title = (
        f"Something went wrong inside Gauntlet Studio ({type(exc).__name__}: "
        f"{redact(str(exc))[:160]})"
    )
    hint = "Your files are safe. You can keep working; copy the details if you report this bug."
    return Problem(title, hint, details, is_bug=True)


class ErrorReporter(QObject):
    """Collects problems from every thread and re-emits them on the GUI thread."""

    problem = Signal(object)  # Problem; queued across threads by Qt

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._previous_excepthook = None
        self._previous_threading_hook = None

    def report(self, exc: BaseException, context: str = "") -> None:
        """Thread-safe: log the exception and show it to the user."""
        if isinstance(exc, UserError):
            log.info("user error: %s", exc)
        else:
            log.error(
                "uncaught %s", context or "exception", exc_info=(type(exc), exc, exc.__traceback__)
            )
        try:
            self.problem.emit(problem_from_exception(exc, context))
        except RuntimeError:  # the reporter is being destroyed at exit: the log has it
            pass

    # -- hooks -------------------------------------------------------------------------------

    def install(self) -> None:
        self._previous_excepthook = sys.excepthook
        self._previous_threading_hook = threading.excepthook
        sys.excepthook = self._excepthook
        threading.excepthook = self._threading_excepthook

    def uninstall(self) -> None:
        if self._previous_excepthook is not None:
            sys.excepthook = self._previous_excepthook
            threading.excepthook = self._previous_threading_hook
            self._previous_excepthook = None

    def install_on_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.set_exception_handler(self._loop_exception_handler)

    def _excepthook(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            return
        self.report(exc.with_traceback(tb) if exc is not None else exc_type(), "in the window")

    def _threading_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        name = args.thread.name if args.thread else "a worker thread"
        self.report(args.exc_value, f"in background thread {name}")

    def _loop_exception_handler(self, loop, context: dict) -> None:
        exc = context.get("exception")
        if isinstance(exc, asyncio.CancelledError):
            return
        if exc is None:
            log.warning("event loop: %s", context.get("message"))
            return
        self.report(exc, f"in a background task: {context.get('message', '')}")
