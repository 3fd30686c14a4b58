"""The outbox: local changes replayed to the platform in order, exactly once.

Each local change was written with its outbox row in one transaction (see
`store.outbox.queue`), so after a crash or restart the queue is exactly what the user did.
Replay is strictly in order; each request carries the row's idempotency key, so a change the
server already applied (the client died before it could note the reply) is answered with the
first result instead of being applied twice.

Failures:
- transient (offline, timeouts, 5xx, garbled replies): retried a few times at once with
  exponential backoff and jitter, then the queue stops and waits (`next_attempt_at`); the
  sync state becomes *offline*, not an error.
- 412 (stale `If-Match`): the handler refetches and decides. If the server already is where
  the user wanted it, or the intents are compatible, it retries with the fresh version; only a
  true conflict is set aside as a `SyncConflict` for the user.
- other refusals (4xx): set aside as *failed* with the server's explanation; later changes
  still go out.
- 401/403: the whole queue stops until the user logs in again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from app.sync.errors import NotAuthorized, PlatformError, StaleVersion
from app.sync.store import LocalStore, OutboxEntry

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    immediate_attempts: int = 3  # tries within one flush before the change waits
    base_delay_s: float = 0.5
    factor: float = 2.0
    max_delay_s: float = 300.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Backoff before try number `attempt + 1`: exponential, with "equal jitter"."""
        ceiling = min(self.max_delay_s, self.base_delay_s * self.factor ** max(0, attempt))
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_delay_s))
        return delay


class StaleOutcome(StrEnum):
    RETRY = "retry"  # refetched; intents compatible; send again (payload may be updated)
    DONE = "done"  # the server is already where the user wanted it


@dataclass(frozen=True, slots=True)
class SyncConflict:
    """A local change that truly contradicts what happened on the platform meanwhile."""

    seq: int
    kind: str
    message: str  # what the user wanted vs what happened, in plain words
    hint: str
    local: dict[str, Any] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)


class ConflictDetected(Exception):
    """Raised by a handler when the server's state contradicts the change (not a 412)."""

    def __init__(self, conflict: SyncConflict) -> None:
        super().__init__(conflict.message)
        self.conflict = conflict


class ChangeHandler(Protocol):
    """Knows how to send one kind of local change (e.g. "submit", "withdraw", "reply")."""

    async def send(self, entry: OutboxEntry) -> None:
        """Send it; on success apply the reply and complete the entry in one transaction."""

    async def on_stale(
        self, entry: OutboxEntry, error: StaleVersion
    ) -> StaleOutcome | SyncConflict:
        """The server said 412: refetch, then say whether to retry, stop, or ask the user."""

    def revert(self, entry: OutboxEntry, conn) -> None:
        """Undo the change's local effect (the user discarded it)."""


@dataclass(slots=True)
class FlushOutcome:
    sent: int = 0
    remaining: int = 0
    stopped_by: PlatformError | None = None  # offline / busy / unauthorized: queue paused
    conflicts: list[SyncConflict] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)  # (seq, message)
    waiting: bool = False  # stopped before trying: the head change is backing off

    @property
    def offline(self) -> bool:
        return self.stopped_by is not None and self.stopped_by.transient


class Outbox:
    def __init__(
        self,
        store: LocalStore,
        handlers: dict[str, ChangeHandler],
        *,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.store = store
        self.handlers = handlers
        self.policy = policy or RetryPolicy()
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()

    async def flush(self, *, force: bool = False) -> FlushOutcome:
        """Send queued changes in order. `force` ignores the backoff (the user pressed Sync)."""
        async with self._lock:
            outcome = FlushOutcome()
            for entry in self.store.outbox.pending(include_parked=False):
                if not force and entry.next_attempt_at > self._clock():
                    outcome.stopped_by = _waiting_error(entry)
                    outcome.waiting = True
                    break
                stop = await self._send_one(entry, outcome)
                if stop:
                    break
            outcome.remaining = len(self.store.outbox.pending(include_parked=False))
            return outcome

    async def _send_one(self, entry: OutboxEntry, outcome: FlushOutcome) -> bool:
        """Send one entry with immediate retries; True when the queue must stop here."""
        handler = self.handlers.get(entry.kind)
        if handler is None:
            self.store.outbox.park(
                entry.seq,
                "failed",
                f"This version of the app does not know how to send a '{entry.kind}' change.",
            )
            outcome.failed.append((entry.seq, entry.kind))
            return False
        stale_retries = 0
        attempt = 0
        while True:
            current = self.store.outbox.get(entry.seq)
            if current is None:  # completed meanwhile (e.g. by a concurrent flush)
                return False
            try:
                await handler.send(current)
                outcome.sent += 1
                return False
            except StaleVersion as exc:
                stale_retries += 1
                if await self._settle_stale(handler, current, exc, stale_retries, outcome):
                    return False
            except ConflictDetected as exc:
                self.store.outbox.park(entry.seq, "conflict", exc.conflict.message)
                outcome.conflicts.append(exc.conflict)
                return False
            except NotAuthorized as exc:
                self.store.outbox.note_attempt(entry.seq, exc.message, self._clock())
                outcome.stopped_by = exc
                return True
            except PlatformError as exc:
                if not exc.transient:
                    self.store.outbox.park(entry.seq, "failed", str(exc))
                    outcome.failed.append((entry.seq, str(exc)))
                    return False
                attempt += 1
                if await self._back_off(current, exc, attempt, outcome):
                    return True

    async def _settle_stale(
        self, handler, entry: OutboxEntry, exc: StaleVersion, tries: int, outcome: FlushOutcome
    ) -> bool:
        """The platform's copy changed since we read it: let the handler settle that. True when
        the entry is done with (applied, or set aside as a conflict), False to send it again."""
        resolution = await handler.on_stale(entry, exc)
        if isinstance(resolution, SyncConflict):
            self.store.outbox.park(entry.seq, "conflict", resolution.message)
            outcome.conflicts.append(resolution)
            return True
        if resolution == StaleOutcome.DONE:
            outcome.sent += 1
            return True
        if tries > 3:  # the object keeps changing under us: ask the user
            message = "It kept changing on the platform while we tried to apply your change."
            self.store.outbox.park(entry.seq, "conflict", message)
            outcome.conflicts.append(
                SyncConflict(entry.seq, entry.kind, message, "Sync again and retry.", entry.payload)
            )
            return True
        return False

    async def _back_off(
        self, entry: OutboxEntry, exc: PlatformError, attempt: int, outcome: FlushOutcome
    ) -> bool:
        """After a transient failure, wait and let the caller try again (False); once the
        immediate attempts are spent, note when to try next and stop the queue (True)."""
        retry_after = getattr(exc, "retry_after", None)
        if attempt >= self.policy.immediate_attempts:
            delay = self.policy.delay(entry.attempts + attempt, retry_after)
            self.store.outbox.note_attempt(entry.seq, exc.message, self._clock() + delay)
            outcome.stopped_by = exc
            return True
        log.info("retrying %s #%s after: %s", entry.kind, entry.seq, exc.message)
        await self._sleep(self.policy.delay(attempt - 1, retry_after))
        return False

    # -- what the user does with set-aside changes ------------------------------------------------

    def conflicts(self) -> list[OutboxEntry]:
        return [e for e in self.store.outbox.pending() if e.state == "conflict"]

    def failed(self) -> list[OutboxEntry]:
        return [e for e in self.store.outbox.pending() if e.state == "failed"]

    def retry(self, seq: int) -> None:
        """Put a set-aside change back in the queue (the user fixed the cause)."""
        self.store.outbox.retry(seq)

    def discard(self, seq: int) -> None:
        """Drop a queued change and undo its local effect, in one transaction."""
        entry = self.store.outbox.get(seq)
        if entry is None:
            return
        handler = self.handlers.get(entry.kind)
        with self.store.transaction() as conn:
            if handler is not None:
                handler.revert(entry, conn)
            self.store.outbox.complete(seq, conn)


def _waiting_error(entry: OutboxEntry) -> PlatformError:
    from app.sync.errors import PlatformOffline

    return PlatformOffline(
        entry.last_error or "Waiting before trying again.",
        "Changes are kept and will be sent automatically.",
    )
