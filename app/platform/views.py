"""How each entity looks on the wire (the same shape in GET answers and the change feed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.platform.clock import iso
from app.platform.models import (
    Assignment,
    Bounty,
    Comment,
    Review,
    Revision,
    Submission,
    Thread,
    User,
)


def user_ref(session: Session, user_id: str | None) -> dict[str, str] | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return {"id": user_id, "name": user.name if user else "(deleted user)"}


def bounty_view(session: Session, bounty: Bounty) -> dict[str, Any]:
    return {
        "id": bounty.id,
        "title": bounty.title,
        "summary": bounty.summary,
        "domain": bounty.domain,
        "tags": list(bounty.tags),
        "status": bounty.status,
        "reward": bounty.reward,
        "currency": bounty.currency,
        "deadline": iso(bounty.deadline),
        "env_kind": bounty.env_kind,
        "constraints": dict(bounty.constraints),
        "brief": bounty.brief,
        "rubric": list(bounty.rubric),
        "calibration_targets": list(bounty.calibration_targets or []),
        "lab": user_ref(session, bounty.lab_id),
        "created_at": iso(bounty.created_at),
        "updated_at": iso(bounty.updated_at),
        "version": bounty.version,
    }


def submission_view(session: Session, submission: Submission) -> dict[str, Any]:
    reviewer_ids = session.scalars(
        select(Assignment.reviewer_id)
        .where(Assignment.submission_id == submission.id)
        .order_by(Assignment.created_at)
    ).all()
    return {
        "id": submission.id,
        "bounty_id": submission.bounty_id,
        "author": user_ref(session, submission.author_id),
        "state": submission.state,
        "current_revision": submission.current_revision,
        "reviewers": [user_ref(session, rid) for rid in reviewer_ids],
        "created_at": iso(submission.created_at),
        "updated_at": iso(submission.updated_at),
        "version": submission.version,
    }


def revision_view(
    session: Session, revision: Revision, *, with_report: bool = False
) -> dict[str, Any]:
    client_digest = None
    if isinstance(revision.client_report, dict):
        package = revision.client_report.get("package")
        if (
            isinstance(package, dict)
            and isinstance(package.get("digest"), str)
            and package["digest"]
        ):
            client_digest = package["digest"]
    matches = None
    if client_digest and revision.check_digest:
        matches = client_digest == revision.check_digest
    check: dict[str, Any] = {
        "status": revision.check_status,
        "verdict": revision.check_verdict,
        "error": revision.check_error,
        "attempts": revision.check_attempts,
        "started_at": iso(revision.check_started_at),
        "finished_at": iso(revision.check_finished_at),
        "digest": revision.check_digest,
        "client_digest": client_digest,
        "digest_matches": matches,
    }
    if with_report and revision.report is not None:
        check["report"] = revision.report
    return {
        "submission_id": revision.submission_id,
        "number": revision.number,
        "message": revision.message,
        "files": dict(revision.files),
        "total_bytes": revision.total_bytes,
        "created_at": iso(revision.created_at),
        "author": user_ref(session, revision.author_id),
        "check": check,
        "client_report": revision.client_report,
        "card": revision.card_sha256,
    }


def thread_view(session: Session, thread: Thread, *, with_comments: bool = False) -> dict[str, Any]:
    anchor = None
    if thread.anchor_path is not None:
        anchor = {
            "revision": thread.anchor_revision,
            "path": thread.anchor_path,
            "start_line": thread.anchor_start,
            "end_line": thread.anchor_end,
            "quote": thread.quote,
            "quote_sha256": thread.quote_sha256,
            "context_sha256": thread.context_sha256,
        }
    data: dict[str, Any] = {
        "id": thread.id,
        "submission_id": thread.submission_id,
        "author": user_ref(session, thread.author_id),
        "created_at": iso(thread.created_at),
        "version": thread.version,
        "resolved": thread.resolved,
        "resolved_by": user_ref(session, thread.resolved_by),
        "resolved_at": iso(thread.resolved_at),
        "anchor": anchor,
        "severity": thread.severity or "normal",
        "suggestion": thread.suggestion,
        "task_id": thread.task_id,
        "position": {
            "revision": thread.position_revision,
            "status": thread.position_status,
            "path": thread.anchor_path,
            "start_line": thread.position_start,
            "end_line": thread.position_end,
        },
    }
    if with_comments:
        comments = session.scalars(
            select(Comment)
            .where(Comment.thread_id == thread.id)
            .order_by(Comment.created_at, Comment.id)
        ).all()
        data["comments"] = [comment_view(session, c) for c in comments]
    return data


def comment_view(session: Session, comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "thread_id": comment.thread_id,
        "parent_id": comment.parent_id,
        "author": user_ref(session, comment.author_id),
        "body": comment.body,
        "created_at": iso(comment.created_at),
    }


def review_view(session: Session, review: Review) -> dict[str, Any]:
    return {
        "id": review.id,
        "submission_id": review.submission_id,
        "revision": review.revision,
        "reviewer": user_ref(session, review.reviewer_id),
        "verdict": review.verdict,
        "scores": dict(review.scores),
        "summary": review.summary,
        "created_at": iso(review.created_at),
    }
