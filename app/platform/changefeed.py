"""The change feed: what a client needs to stay in sync, in commit order, compacted.

Each entity has one row per audience at the seq of its latest change (like CouchDB's
_changes), so a first sync reads every entity once and an unchanged re-sync reads nothing.
On PostgreSQL, writers take a transaction-scoped advisory lock before they allocate seqs, so
seqs become visible in order and a reader's cursor can never skip a change that commits late.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import and_, delete, or_, select, text
from sqlalchemy.orm import Session

from app.platform.access import visible_bounty_ids, visible_submission_ids
from app.platform.models import Bounty, Change, Comment, Review, Revision, Submission, Thread, User
from app.platform.views import (
    bounty_view,
    comment_view,
    review_view,
    revision_view,
    submission_view,
    thread_view,
)

_FEED_LOCK_KEY = 7262002
EVERYONE = ""


def take_feed_lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql" and not session.info.get("feed_locked"):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FEED_LOCK_KEY})
        session.info["feed_locked"] = True


def record(
    session: Session,
    entity: str,
    entity_id: str,
    data: dict[str, Any] | None,
    *,
    op: str = "upsert",
    bounty_id: str | None = None,
    submission_id: str | None = None,
    audience: str = EVERYONE,
) -> None:
    take_feed_lock(session)
    session.flush()
    session.execute(
        delete(Change).where(
            Change.entity == entity,
            Change.entity_id == entity_id,
            Change.audience_user_id == audience,
        )
    )
    session.add(
        Change(
            entity=entity,
            entity_id=entity_id,
            op=op,
            data=encode(data),
            bounty_id=bounty_id,
            submission_id=submission_id,
            audience_user_id=audience,
        )
    )
    session.flush()


def encode(data: dict[str, Any] | None) -> str | None:
    if data is None:
        return None
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def publish_bounty(session: Session, bounty: Bounty) -> None:
    record(session, "bounty", bounty.id, bounty_view(session, bounty), bounty_id=bounty.id)


def publish_submission(
    session: Session, submission: Submission, *, audience: str = EVERYONE
) -> None:
    session.flush()
    record(
        session,
        "submission",
        submission.id,
        submission_view(session, submission),
        bounty_id=submission.bounty_id,
        submission_id=submission.id,
        audience=audience,
    )


# A submission's children are filed under it: whoever may see the submission sees them.
def publish_revision(session: Session, revision: Revision, *, audience: str = EVERYONE) -> None:
    key = f"{revision.submission_id}/{revision.number}"
    data = revision_view(session, revision, with_report=True)
    record(session, "revision", key, data, submission_id=revision.submission_id, audience=audience)


def publish_thread(session: Session, thread: Thread, *, audience: str = EVERYONE) -> None:
    data = thread_view(session, thread)
    record(
        session, "thread", thread.id, data, submission_id=thread.submission_id, audience=audience
    )


def publish_comment(
    session: Session, comment: Comment, submission_id: str, *, audience: str = EVERYONE
) -> None:
    data = comment_view(session, comment)
    record(session, "comment", comment.id, data, submission_id=submission_id, audience=audience)


def publish_review(session: Session, review: Review, *, audience: str = EVERYONE) -> None:
    data = review_view(session, review)
    record(
        session, "review", review.id, data, submission_id=review.submission_id, audience=audience
    )


def announce_submission_to(session: Session, submission: Submission, user_id: str) -> None:
    """Re-send a submission and everything under it to one user who can newly see it, since
    their cursor is already past the original changes."""
    publish_submission(session, submission, audience=user_id)
    for revision in session.scalars(
        select(Revision).where(Revision.submission_id == submission.id)
    ):
        publish_revision(session, revision, audience=user_id)
    threads = session.scalars(select(Thread).where(Thread.submission_id == submission.id)).all()
    for thread in threads:
        publish_thread(session, thread, audience=user_id)
        for comment in session.scalars(select(Comment).where(Comment.thread_id == thread.id)):
            publish_comment(session, comment, submission.id, audience=user_id)
    for review in session.scalars(select(Review).where(Review.submission_id == submission.id)):
        publish_review(session, review, audience=user_id)


def retract_submission_from(session: Session, submission: Submission, user_id: str) -> None:
    """Tell one user who can no longer see a submission to drop it."""
    session.execute(
        delete(Change).where(
            Change.submission_id == submission.id, Change.audience_user_id == user_id
        )
    )
    record(
        session,
        "submission",
        submission.id,
        None,
        op="delete",
        bounty_id=submission.bounty_id,
        submission_id=submission.id,
        audience=user_id,
    )


def read_feed(
    session: Session, user: User, after: int, limit: int
) -> tuple[bytes, int | None, bool]:
    """One page of the caller's feed as the JSON array of its changes (bytes), the last seq on
    the page (None when empty) and whether more follow."""
    visible = or_(
        Change.audience_user_id == user.id,
        and_(
            Change.audience_user_id == EVERYONE,
            or_(
                and_(
                    Change.submission_id.is_(None), Change.bounty_id.in_(visible_bounty_ids(user))
                ),
                Change.submission_id.in_(visible_submission_ids(user)),
            ),
        ),
    )
    rows = session.execute(
        select(Change.seq, Change.entity, Change.entity_id, Change.op, Change.data)
        .where(Change.seq > after, visible)
        .order_by(Change.seq)
        .limit(limit + 1)
    ).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    parts = [
        f'{{"seq":{row.seq:d},"entity":{json.dumps(row.entity)},'
        f'"id":{json.dumps(row.entity_id, ensure_ascii=False)},'
        f'"op":{json.dumps(row.op)},"data":{row.data if row.data is not None else "null"}}}'
        for row in rows
    ]
    body = ("[" + ",".join(parts) + "]").encode("utf-8")
    return body, (rows[-1].seq if rows else None), has_more
