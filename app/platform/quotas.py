"""Per-author rate limits: submissions, revisions and uploaded bytes in a sliding window.

Counted from the database itself (the rows each action leaves, with their times), so every
server process and host agrees without shared memory. Going over answers 429 problem+json
with Retry-After: the seconds until the oldest counted action leaves the window. Admins are
not limited; a limit of 0 turns that limit off.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.platform.clock import utcnow
from app.platform.models import Blob, BlobUpload, Revision, Submission, User
from app.platform.problems import Problem
from app.platform.settings import Settings


def check_submissions(session: Session, settings: Settings, user: User) -> None:
    limit = settings.max_submissions_per_window
    _check_count(session, settings, user, Submission, limit, "started", "submissions")


def check_revisions(session: Session, settings: Settings, user: User) -> None:
    limit = settings.max_revisions_per_window
    _check_count(session, settings, user, Revision, limit, "pushed", "revisions")


def _check_count(
    session: Session,
    settings: Settings,
    user: User,
    model: type[Submission] | type[Revision],
    limit: int,
    verb: str,
    unit: str,
) -> None:
    """Refuse `user` one more `model` row (a submission or revision) when the window is full."""
    if _exempt(user, limit):
        return
    count, oldest = session.execute(
        select(func.count(), func.min(model.created_at)).where(
            model.author_id == user.id, model.created_at >= _since(settings)
        )
    ).one()
    if count >= limit:
        raise _too_many(settings, f"{verb} {count} {unit}", limit, unit, oldest)


def check_upload_bytes(session: Session, settings: Settings, user: User, adding: int) -> None:
    """Refuse an upload of `adding` bytes that would take `user` over the window's budget."""
    limit = settings.max_upload_bytes_per_window
    if _exempt(user, limit):
        return
    since = _since(settings)
    used, oldest = session.execute(
        select(func.coalesce(func.sum(Blob.size), 0), func.min(BlobUpload.uploaded_at))
        .join(Blob, Blob.sha256 == BlobUpload.sha256)
        .where(BlobUpload.user_id == user.id, BlobUpload.uploaded_at >= since)
    ).one()
    if int(used) + adding > limit:
        raise _too_many(settings, f"uploaded {int(used)} bytes", limit, "bytes", oldest)


def _exempt(user: User, limit: int) -> bool:
    return limit <= 0 or user.role == "admin"


def _since(settings: Settings) -> datetime:
    return utcnow() - timedelta(seconds=settings.rate_window_s)


def _too_many(
    settings: Settings, done: str, limit: int, unit: str, oldest: datetime | None
) -> Problem:
    window = settings.rate_window_s
    wait = window
    if oldest is not None:
        wait = (oldest + timedelta(seconds=window) - utcnow()).total_seconds()
    retry = max(1, math.ceil(wait))
    return Problem(
        429,
        (
            f"you {done} in the last {_duration(window)}; the platform allows {limit} {unit} "
            f"per {_duration(window)}. Try again in {_duration(retry)}"
        ),
        slug="rate-limited",
        headers={"Retry-After": str(retry)},
        limit=limit,
        window_s=window,
        retry_after_s=retry,
    )


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds % 3600 == 0 and seconds >= 3600:
        return f"{seconds // 3600} h"
    if seconds >= 120:
        return f"{math.ceil(seconds / 60)} min"
    return f"{seconds} s"
