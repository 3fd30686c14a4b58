"""Workers take jobs from the database queue (server/jobs.py) and run them.

`gauntlet worker --db URL` runs one on any host; the embedded platform and `gauntlet serve`
(unless told otherwise) run one in a background thread. A job that raises is retried with
backoff up to its `max_attempts`, then given up with its error recorded where users see it.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.platform import jobs
from app.platform.clock import utcnow
from app.platform.models import IdempotencyRecord
from app.platform.platform import Platform
from app.progress import CancelToken

log = logging.getLogger("gauntlet.worker")


class LeaseLost(Exception):
    """Our lease on the job ran out and another worker took it: drop our result."""


@dataclass
class JobContext:
    platform: Platform
    job: jobs.ClaimedJob
    worker_id: str
    cancel: CancelToken

    def complete(self, session: Session) -> None:
        """Mark the job done inside the transaction that stores its result."""
        if not jobs.finish(session, self.job.id, self.worker_id):
            raise LeaseLost(f"job {self.job.id} was taken over by another worker")


@dataclass(frozen=True)
class JobKind:
    run: Callable[[JobContext], None]
    # Called in a transaction when the job failed and will be retried / was given up.
    on_retry: Callable[[Session, JobContext, str], None] = lambda s, c, e: None
    on_give_up: Callable[[Session, JobContext, str], None] = lambda s, c, e: None


def default_kinds() -> dict[str, JobKind]:
    from app.platform.recheck import CHECK_REVISION, check_revision_kind

    return {CHECK_REVISION: check_revision_kind()}


def _backoff_s(attempt: int) -> float:
    return min(300.0, 5.0 * 4 ** (attempt - 1)) * random.uniform(0.8, 1.2)


@dataclass
class Worker:
    platform: Platform
    kinds: dict[str, JobKind] = field(default_factory=default_kinds)
    worker_id: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    )
    lease_s: float | None = None
    poll_s: float = 1.0
    _last_maintenance: float = 0.0

    def __post_init__(self) -> None:
        if self.lease_s is None:
            self.lease_s = self.platform.settings.worker_lease_s

    def run_once(self) -> bool:
        """Take and run one job; False when there was none ready."""
        with self.platform.write() as session:
            job = jobs.claim(session, self.worker_id, self.lease_s, tuple(self.kinds))
        if job is None:
            return False
        kind = self.kinds[job.kind]
        ctx = JobContext(self.platform, job, self.worker_id, CancelToken())
        if job.attempts > job.max_attempts:
            # Its previous workers died mid-job every time: stop trying, say so.
            self._fail(
                ctx,
                kind,
                (
                    f"the check was interrupted {job.attempts - 1} "
                    "times (a worker stopped while running it)"
                ),
            )
            return True
        stop_heartbeat = threading.Event()
        beat = threading.Thread(
            target=self._heartbeat,
            args=(ctx, stop_heartbeat),
            daemon=True,
            name=f"gauntlet-heartbeat-{job.id}",
        )
        beat.start()
        try:
            kind.run(ctx)
        except LeaseLost as exc:
            log.warning("%s", exc)
        except Exception as exc:  # a job must never take its worker down
            log.warning(
                "job %s (%s) failed: %s",
                job.id,
                job.kind,
                exc,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            self._fail(ctx, kind, str(exc) or type(exc).__name__)
        finally:
            stop_heartbeat.set()
            beat.join()
        return True

    def _fail(self, ctx: JobContext, kind: JobKind, error: str) -> None:
        job = ctx.job
        with self.platform.write() as session:
            if job.attempts < job.max_attempts:
                if jobs.retry_later(
                    session, job.id, self.worker_id, error, _backoff_s(job.attempts)
                ):
                    kind.on_retry(session, ctx, error)
            elif jobs.give_up(session, job.id, self.worker_id, error):
                kind.on_give_up(session, ctx, error)

    def _heartbeat(self, ctx: JobContext, stop: threading.Event) -> None:
        while not stop.wait(self.lease_s / 3):
            try:
                with self.platform.write() as session:
                    still_ours = jobs.heartbeat(session, ctx.job.id, self.worker_id, self.lease_s)
            except Exception as exc:  # database hiccup: try again on the next beat
                log.warning("heartbeat for job %s failed: %s", ctx.job.id, exc)
                continue
            if not still_ours:
                ctx.cancel.cancel()
                return

    def maintain(self) -> None:
        """Housekeeping no single request owns: forget old idempotency keys."""
        cutoff = utcnow() - timedelta(days=self.platform.settings.idempotency_days)
        with self.platform.write() as session:
            session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))

    def run_forever(self, stop: threading.Event) -> None:
        log.info("worker %s started", self.worker_id)
        while not stop.is_set():
            try:
                if time.monotonic() - self._last_maintenance > 3600:
                    self._last_maintenance = time.monotonic()
                    self.maintain()
                if self.run_once():
                    continue
            except Exception as exc:  # database down: wait and try again, do not exit
                log.warning("worker %s: %s", self.worker_id, exc)
            stop.wait(self.poll_s)
        log.info("worker %s stopped", self.worker_id)


class WorkerThread:
    """One worker running in a background thread of this process."""

    def __init__(self, platform: Platform, **options) -> None:
        self.worker = Worker(platform, **options)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self.worker.run_forever, args=(self._stop,), daemon=True, name="gauntlet-worker"
        )

    def start(self) -> WorkerThread:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
