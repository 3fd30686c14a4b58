"""A job queue in the platform's own database, shared by any number of workers on any hosts.

Claiming is one atomic UPDATE … RETURNING: on PostgreSQL its inner SELECT uses
`FOR UPDATE SKIP LOCKED`, so concurrent workers never take the same job and never wait on
each other; on SQLite the statement runs under the database's single write lock. A claim is a
lease: the worker renews it while it works (heartbeat); a job whose lease ran out (its worker
died or hung) is claimed again by the next worker. Finishing a job checks that the lease is
still ours, so a worker that lost its lease cannot overwrite the new owner's work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from app.platform.clock import utcnow
from app.platform.models import Job


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int  # including this one
    max_attempts: int


def enqueue(session: Session, kind: str, payload: dict[str, Any], *, max_attempts: int = 3) -> Job:
    """Add a job in the caller's transaction:
    it exists exactly when the change that needs it does.
    """
    now = utcnow()
    job = Job(
        kind=kind,
        payload=payload,
        state="queued",
        attempts=0,
        max_attempts=max_attempts,
        run_after=now,
        created_at=now,
    )
    session.add(job)
    session.flush()
    return job


def claim(
    session: Session, worker_id: str, lease_s: float, kinds: tuple[str, ...] | None = None
) -> ClaimedJob | None:
    now = utcnow()
    ready = or_(
        and_(Job.state == "queued", Job.run_after <= now),
        and_(Job.state == "running", Job.lease_expires_at < now),
    )
    pick = select(Job.id).where(ready)
    if kinds:
        pick = pick.where(Job.kind.in_(kinds))
    pick = pick.order_by(Job.run_after, Job.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    row = session.execute(
        update(Job)
        .where(Job.id == pick.scalar_subquery(), ready)
        .values(
            state="running",
            lease_owner=worker_id,
            lease_expires_at=now + timedelta(seconds=lease_s),
            attempts=Job.attempts + 1,
        )
        .returning(Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return None
    return ClaimedJob(
        id=row.id,
        kind=row.kind,
        payload=dict(row.payload),
        attempts=row.attempts,
        max_attempts=row.max_attempts,
    )


def _update_held(session: Session, job_id: int, worker_id: str, **values: Any) -> bool:
    """Set `values` on a running job only while `worker_id` still holds its lease; False when
    the job is no longer ours (it expired and was re-taken)."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.lease_owner == worker_id, Job.state == "running")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _release(session: Session, job_id: int, worker_id: str, **values: Any) -> bool:
    """Hand a held job back (queued again, done or failed), its lease cleared."""
    return _update_held(
        session, job_id, worker_id, lease_owner=None, lease_expires_at=None, **values
    )


def heartbeat(session: Session, job_id: int, worker_id: str, lease_s: float) -> bool:
    """Extend our lease; False when the job is no longer ours (it expired and was re-taken)."""
    return _update_held(
        session, job_id, worker_id, lease_expires_at=utcnow() + timedelta(seconds=lease_s)
    )


def finish(session: Session, job_id: int, worker_id: str) -> bool:
    return _release(session, job_id, worker_id, state="done", finished_at=utcnow(), last_error=None)


def retry_later(session: Session, job_id: int, worker_id: str, error: str, delay_s: float) -> bool:
    run_after = utcnow() + timedelta(seconds=delay_s)
    return _release(
        session, job_id, worker_id, state="queued", run_after=run_after, last_error=error
    )


def give_up(session: Session, job_id: int, worker_id: str, error: str) -> bool:
    return _release(
        session, job_id, worker_id, state="failed", finished_at=utcnow(), last_error=error
    )


def cancel_matching(
    session: Session, kind: str, keep: Callable[[dict[str, Any]], bool]
) -> list[dict]:
    """Cancel the queued and running jobs of `kind` whose payload `keep` rejects; returns their
    payloads. A running job's worker sees it at its next heartbeat (its lease is no longer
    ours), stops, and its result is dropped (finishing checks the job is still running)."""
    rows = session.execute(
        select(Job.id, Job.payload).where(Job.kind == kind, Job.state.in_(("queued", "running")))
    ).all()
    doomed = [(job_id, payload) for job_id, payload in rows if not keep(dict(payload))]
    if doomed:
        session.execute(
            update(Job)
            .where(Job.id.in_([job_id for job_id, _ in doomed]))
            .values(
                state="cancelled",
                finished_at=utcnow(),
                lease_owner=None,
                lease_expires_at=None,
                last_error="superseded",
            )
            .execution_options(synchronize_session=False)
        )
    return [dict(payload) for _, payload in doomed]


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Job.state, Job.id)).all()
    result: dict[str, int] = {}
    for state, _ in rows:
        result[state] = result.get(state, 0) + 1
    return result
