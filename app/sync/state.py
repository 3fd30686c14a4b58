"""The sync status the app shows quietly in its status bar: online, offline, syncing, error.

Offline is a state, not an error: work is kept locally and sent later. Only things the user
must act on (a refused token, a true conflict, a change the server rejected) are `ERROR`
with a human message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum


class SyncPhase(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    SYNCING = "syncing"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class SyncState:
    phase: SyncPhase = SyncPhase.OFFLINE
    message: str = "Not synced yet."
    hint: str = ""
    pending: int = 0  # local changes waiting to be sent
    needs_attention: int = 0  # conflicts and refused changes the user must look at
    last_synced_at: str | None = None  # ISO time of the last complete sync

    @property
    def summary(self) -> str:
        """One line for a status bar or `gauntlet status`."""
        parts = [str(self.phase)]
        if self.pending:
            parts.append(f"{self.pending} change{'s' if self.pending != 1 else ''} waiting")
        if self.needs_attention:
            parts.append(
                f"{self.needs_attention} "
                f"need{'s' if self.needs_attention == 1 else ''} your attention"
            )
        return " · ".join(parts) + (f" — {self.message}" if self.message else "")


Listener = Callable[[SyncState], None]


class SyncStatus:
    """The current `SyncState` plus listeners (called on the thread that changed it)."""

    def __init__(self) -> None:
        self._state = SyncState()
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    @property
    def state(self) -> SyncState:
        with self._lock:
            return self._state

    def update(self, **changes) -> SyncState:
        with self._lock:
            self._state = replace(self._state, **changes)
            state, listeners = self._state, list(self._listeners)
        for listener in listeners:
            listener(state)
        return state

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` on every change; returns a function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe
