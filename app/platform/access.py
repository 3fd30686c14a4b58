"""Who may see what. Every query for submissions and their children goes through these, so a
rule lives in one place."""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from app.platform.models import (
    Assignment,
    Blob,
    BlobUpload,
    Bounty,
    Revision,
    RevisionBlob,
    Submission,
    User,
)
from app.platform.problems import Problem, not_found


def visible_bounty_ids(user: User) -> Select:
    query = select(Bounty.id)
    if user.role == "admin":
        return query
    return query.where(or_(Bounty.status != "draft", Bounty.lab_id == user.id))


def visible_submission_ids(user: User) -> Select:
    query = select(Submission.id)
    if user.role == "admin":
        return query
    return query.where(
        or_(
            Submission.author_id == user.id,
            Submission.id.in_(
                select(Assignment.submission_id).where(Assignment.reviewer_id == user.id)
            ),
            Submission.bounty_id.in_(select(Bounty.id).where(Bounty.lab_id == user.id)),
        )
    )


def get_bounty(session: Session, user: User, bounty_id: str) -> Bounty:
    bounty = session.get(Bounty, bounty_id)
    if bounty is None or (
        bounty.status == "draft" and bounty.lab_id != user.id and user.role != "admin"
    ):
        raise not_found(f"bounty {bounty_id}")
    return bounty


def get_submission(
    session: Session, user: User, submission_id: str, *, for_update: bool = False
) -> Submission:
    query = select(Submission).where(
        Submission.id == submission_id, Submission.id.in_(visible_submission_ids(user))
    )
    if for_update:
        query = query.with_for_update()
    submission = session.scalar(query)
    if submission is None:
        raise not_found(f"submission {submission_id}")
    return submission


def get_revision(session: Session, submission: Submission, number: int) -> Revision:
    """Revision `number` of `submission` (404 when it has none)."""
    revision = session.get(Revision, (submission.id, number))
    if revision is None:
        raise not_found(f"revision {number} of submission {submission.id}")
    return revision


def submission_children(
    session: Session, user: User, submission_id: str, model: type, *order_by
) -> list:
    """The rows of `model` (revisions, threads, reviews) under a submission `user` may see, in
    `order_by` order; 404 as for the submission itself when they may not see it."""
    submission = get_submission(session, user, submission_id)
    query = select(model).where(model.submission_id == submission.id).order_by(*order_by)
    return list(session.scalars(query))


def is_assigned(session: Session, user: User, submission: Submission) -> bool:
    return session.get(Assignment, (submission.id, user.id)) is not None


def owns_bounty_of(session: Session, user: User, submission: Submission) -> bool:
    bounty = session.get(Bounty, submission.bounty_id)
    return bounty is not None and bounty.lab_id == user.id


def can_review(session: Session, user: User, submission: Submission) -> bool:
    """Reviewers assigned to it, the lab that posted the bounty, admins."""
    return (
        user.role == "admin"
        or is_assigned(session, user, submission)
        or owns_bounty_of(session, user, submission)
    )


def require_reviewer_of(session: Session, user: User, submission: Submission) -> None:
    # Checked first: an admin (who may author) or a lab must not judge their own work either.
    if submission.author_id == user.id:
        raise Problem(403, "nobody may review their own submission; ask another reviewer")
    if not can_review(session, user, submission):
        raise Problem(
            403,
            "only a reviewer assigned to this submission, the bounty's lab or an admin may do this",
        )


def require_manager_of(session: Session, user: User, submission: Submission) -> None:
    if not (user.role == "admin" or owns_bounty_of(session, user, submission)):
        raise Problem(403, "only the lab that posted the bounty or an admin may do this")


def possessed_blobs(session: Session, user: User, shas: list[str]) -> set[str]:
    """Which of `shas` this user has proved they hold: uploaded the bytes themselves, or can
    read a revision that names them. Knowing a hash is not enough (proof of possession): a
    guessed or leaked hash must not tell whether the blob exists, nor let anyone name it."""
    if not shas:
        return set()
    if user.role == "admin":
        return set(session.scalars(select(Blob.sha256).where(Blob.sha256.in_(shas))).all())
    uploaded = select(BlobUpload.sha256).where(
        BlobUpload.user_id == user.id, BlobUpload.sha256.in_(shas)
    )
    visible = select(RevisionBlob.sha256).where(
        RevisionBlob.sha256.in_(shas),
        RevisionBlob.submission_id.in_(visible_submission_ids(user)),
    )
    return set(session.scalars(uploaded.union(visible)).all())
