"""Platform calls for the lab's screens: each opens a client from the screen's factory (signed in
as the lab) and runs on the JobRunner's event loop; results come back on the GUI thread."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from PySide6.QtWidgets import QLabel

from app.errors import UserError
from app.ui.background_jobs import JobRunner

ClientFactory = Callable[[], AbstractAsyncContextManager[Any]]
Work = Callable[[Any], Awaitable[Any]]

NOT_CONNECTED = (
    "Not connected to a platform. Sign in as a lab (Settings → Platform, or `gauntlet login`) "
    "to post bounties and assign reviewers."
)
ERROR_STYLE = "color: #c62828;"


class LabCalls:
    """The screen's way to the platform: `factory` is None while not connected."""

    def __init__(self, job_runner: JobRunner) -> None:
        self._runner = job_runner
        self.factory: ClientFactory | None = None

    def run(
        self, work: Work, on_done: Callable[[Any], None], on_error: Callable[[BaseException], None]
    ) -> bool:
        """Start `work(client)`; False (and nothing started) when not connected."""
        factory = self.factory
        if factory is None:
            return False

        async def call() -> Any:
            async with factory() as client:
                return await work(client)

        self._runner.run_coroutine(call(), on_done=on_done, on_error=on_error)
        return True


def words(exc: BaseException) -> str:
    """An error in words for a label: message and hint, never a traceback."""
    if isinstance(exc, UserError):
        return f"{exc.message} {exc.hint}".strip()
    return f"Something went wrong: {exc}. Try again; if it keeps happening, report it."


def error_label() -> QLabel:
    """A red message under a field or at the top of a dialog, hidden until needed."""
    label = QLabel()
    label.setObjectName("fieldError")
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    label.hide()
    return label
