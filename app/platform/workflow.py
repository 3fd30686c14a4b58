"""The life of a submission: its states, who may move it where, and what happens on the way.

submitted → checking → check_failed | in_review → changes_requested | accepted | rejected
any state but accepted/rejected → withdrawn (by the author)
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.platform import changefeed
from app.platform.clock import utcnow
from app.platform.models import Assignment, Submission, User

FINAL_STATES = ("accepted", "rejected", "withdrawn")
# A new revision may be pushed from these; it always moves the submission to `checking`.
PUSHABLE_STATES = ("submitted", "checking", "check_failed", "in_review", "changes_requested")
REVIEW_OUTCOMES = ("accepted", "rejected", "changes_requested")
VERDICT_OUTCOME = {
    "approve": "accepted",
    "request_changes": "changes_requested",
    "reject": "rejected",
}


def allowed_targets(state: str, *, as_author: bool, as_reviewer: bool) -> list[str]:
    targets: list[str] = []
    if as_author and state not in FINAL_STATES:
        targets.append("withdrawn")
    if as_reviewer and state == "in_review":
        targets.extend(REVIEW_OUTCOMES)
    return targets


def move(session: Session, submission: Submission, state: str) -> None:
    submission.state = state
    touch(submission)


def touch(submission: Submission) -> None:
    submission.version += 1
    submission.updated_at = utcnow()


def assign(session: Session, submission: Submission, reviewer_id: str) -> bool:
    """Assign a reviewer; True when newly assigned (they get the submission in their feed)."""
    if session.get(Assignment, (submission.id, reviewer_id)) is not None:
        return False
    session.add(
        Assignment(submission_id=submission.id, reviewer_id=reviewer_id, created_at=utcnow())
    )
    session.flush()
    touch(submission)
    changefeed.announce_submission_to(session, submission, reviewer_id)
    return True


def auto_assign(session: Session, submission: Submission) -> None:
    """Give a submission entering review to the least busy reviewer, if it has none yet."""
    has_reviewer = session.scalar(
        select(Assignment.reviewer_id).where(Assignment.submission_id == submission.id).limit(1)
    )
    if has_reviewer is not None:
        return
    load = (
        select(User.id, func.count(Assignment.submission_id).label("n"))
        .outerjoin(Assignment, Assignment.reviewer_id == User.id)
        .where(User.role == "reviewer", User.id != submission.author_id)
        .group_by(User.id)
        .order_by("n", User.id)
        .limit(1)
    )
    row = session.execute(load).first()
    if row is not None:
        assign(session, submission, row.id)
