"""Submissions, their revisions (one per push) and their state transitions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.platform import changefeed, jobs, quotas, workflow
from app.platform.access import (
    get_bounty,
    get_submission,
    is_assigned,
    owns_bounty_of,
    possessed_blobs,
    require_manager_of,
    visible_submission_ids,
)
from app.platform.anchoring import Anchor, locate
from app.platform.auth import require_role
from app.platform.clock import new_id, utcnow
from app.platform.deps import current_user, get_platform
from app.platform.idempotency import run_idempotent
from app.platform.models import Assignment, Blob, Revision, RevisionBlob, Submission, Thread, User
from app.platform.platform import Platform
from app.platform.problems import Problem, not_found
from app.platform.recheck import CHECK_REVISION
from app.platform.responses import Reply, check_if_match, json_read, version_etag
from app.platform.schemas import (
    AssignReviewer,
    RevisionCreate,
    SubmissionCreate,
    SubmissionState,
    TransitionRequest,
    as_json,
)
from app.platform.views import revision_view, submission_view

router = APIRouter(prefix="/v1/submissions", tags=["submissions"])
RevisionNumber = Annotated[int, Path(ge=1, le=1_000_000)]


def _submission_reply(
    session: Session, submission: Submission, status: int = 200, **headers: str
) -> Reply:
    return Reply(
        status,
        submission_view(session, submission),
        {"ETag": version_etag(submission.version), **headers},
    )


@router.post("", status_code=201, summary="Start a submission to a bounty (author)")
def create_submission(
    body: SubmissionCreate,
    request: Request,
    user: User = Depends(current_user),
    platform: Platform = Depends(get_platform),
):
    require_role(user, "author")

    def action(session: Session) -> Reply:
        quotas.check_submissions(session, platform.settings, user)
        bounty = get_bounty(session, user, body.bounty_id)
        existing = session.scalar(
            select(Submission.id).where(
                Submission.author_id == user.id, Submission.bounty_id == bounty.id
            )
        )
        if existing is not None:
            raise Problem(
                409,
                f"you already have a submission to bounty {bounty.id}: push a new revision to it",
                slug="submission-exists",
                submission_id=existing,
            )
        if bounty.status != "open" or bounty.deadline <= utcnow():
            raise Problem(
                409,
                (
                    f"bounty {bounty.id} is not open for submissions (status {bounty.status}, "
                    f"deadline passed: {bounty.deadline <= utcnow()})"
                ),
                slug="bounty-closed",
            )
        now = utcnow()
        submission = Submission(
            id=new_id("s"),
            bounty_id=bounty.id,
            author_id=user.id,
            state="submitted",
            current_revision=None,
            created_at=now,
            updated_at=now,
            version=1,
        )
        session.add(submission)
        changefeed.publish_submission(session, submission)
        return _submission_reply(
            session, submission, 201, Location=f"/v1/submissions/{submission.id}"
        )

    return run_idempotent(platform, request, user, as_json(body), action)


@router.get("", summary="Submissions you can see: yours, assigned to you, to your bounties")
def list_submissions(
    request: Request,
    bounty_id: str | None = Query(None, max_length=40),
    state: SubmissionState | None = None,
    cursor: str | None = Query(None, max_length=100),
    limit: int = Query(50, ge=1, le=200),
    user: User = Depends(current_user),
    platform: Platform = Depends(get_platform),
):
    query = select(Submission).where(Submission.id.in_(visible_submission_ids(user)))
    if bounty_id:
        query = query.where(Submission.bounty_id == bounty_id)
    if state:
        query = query.where(Submission.state == state)
    if cursor:
        query = query.where(Submission.id > cursor)
    with platform.read() as session:
        rows = session.scalars(query.order_by(Submission.id).limit(limit + 1)).all()
        items = [submission_view(session, s) for s in rows[:limit]]
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return json_read(request, {"items": items, "next_cursor": next_cursor})


@router.get("/{submission_id}", summary="One submission")
def read_submission(
    submission_id: str,
    request: Request,
    user: User = Depends(current_user),
    platform: Platform = Depends(get_platform),
):
    with platform.read() as session:
        submission = get_submission(session, user, submission_id)
        return json_read(
            request, submission_view(session, submission), etag=version_etag(submission.version)
        )


def validate_manifest_path(path: str) -> str | None:
    """Why `path` is not a safe relative package path, or None when it is."""
    if path.startswith("/") or "\\" in path or "\x00" in path or ":" in path.split("/")[0]:
        return "must be a relative path with '/' separators"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "must not contain empty, '.' or '..' segments"
    if any(ord(ch) < 32 for ch in path):
        return "must not contain control characters"
    return None


def _file_text(session: Session, files: dict[str, str], path: str | None) -> str | None:
    if path is None or path not in files:
        return None
    blob = session.get(Blob, files[path])
    if blob is None:
        return None
    try:
        return blob.data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def reanchor_threads(session: Session, submission: Submission, revision: Revision) -> None:
    """Place every thread of the submission on the new revision: current, moved or outdated."""
    for thread in session.scalars(select(Thread).where(Thread.submission_id == submission.id)):
        thread.position_revision = revision.number
        if thread.anchor_path is not None:
            anchor = Anchor(
                thread.anchor_start,
                thread.anchor_end,
                thread.quote or "",
                thread.context_before or "",
                thread.context_after or "",
            )
            position = locate(anchor, _file_text(session, revision.files, thread.anchor_path))
            thread.position_status = position.status
            thread.position_start, thread.position_end = position.start_line, position.end_line
        thread.version += 1
        changefeed.publish_thread(session, thread)


@router.post(
    "/{submission_id}/revisions",
    status_code=201,
    summary="Push a revision (author; needs If-Match)",
)
def create_revision(
    submission_id: str,
    body: RevisionCreate,
    request: Request,
    user: User = Depends(current_user),
    platform: Platform = Depends(get_platform),
):
    settings = platform.settings

    def action(session: Session) -> Reply:
        submission = get_submission(session, user, submission_id, for_update=True)
        if submission.author_id != user.id:
            raise Problem(403, "only the author of a submission may push revisions to it")
        check_if_match(request, submission.version, f"submission {submission_id}")
        quotas.check_revisions(session, settings, user)
        if submission.state not in workflow.PUSHABLE_STATES:
            raise Problem(
                409,
                f"a {submission.state} submission takes no new revisions",
                slug="invalid-transition",
                state=submission.state,
                allowed=[],
            )
        errors = [
            {"loc": ["body", "files", path], "msg": why, "type": "value_error"}
            for path, why in ((p, validate_manifest_path(p)) for p in body.files)
            if why
        ]
        if errors:
            raise Problem(422, f"{errors[0]['loc'][-1]!r}: {errors[0]['msg']}", errors=errors)
        if len(body.files) > settings.max_files:
            raise Problem(
                413,
                (
                    f"{len(body.files)} files; "
                    f"the platform accepts at most {settings.max_files} per revision"
                ),
                limit=settings.max_files,
            )
        shas = sorted(set(body.files.values()))
        held = possessed_blobs(session, user, shas)  # naming a hash is no proof of holding it
        sizes = dict(
            session.execute(
                select(Blob.sha256, Blob.size).where(Blob.sha256.in_(sorted(held)))
            ).all()
        )
        missing = [sha for sha in shas if sha not in sizes]
        if missing:
            raise Problem(
                422,
                (
                    f"{len(missing)} file(s) are not uploaded yet; "
                    f"PUT them to /v1/blobs/{{sha256}} and retry"
                ),
                slug="missing-blobs",
                missing=missing,
            )
        total = sum(sizes[sha] for sha in body.files.values())
        if total > settings.max_revision_bytes:
            raise Problem(
                413,
                (
                    f"the package is {total} bytes; "
                    f"the platform accepts at most {settings.max_revision_bytes}"
                ),
                limit=settings.max_revision_bytes,
            )
        number = (submission.current_revision or 0) + 1
        revision = Revision(
            submission_id=submission.id,
            number=number,
            author_id=user.id,
            message=body.message,
            files=dict(sorted(body.files.items())),
            total_bytes=total,
            client_report=body.client_report,
            created_at=utcnow(),
            check_status="queued",
            check_attempts=0,
        )
        session.add(revision)
        session.add_all(
            RevisionBlob(submission_id=submission.id, revision=number, sha256=sha) for sha in shas
        )
        submission.current_revision = number
        workflow.move(session, submission, "checking")
        session.flush()
        cancel_superseded_checks(session, submission.id, number)
        jobs.enqueue(
            session,
            CHECK_REVISION,
            {"submission_id": submission.id, "revision": number},
            max_attempts=settings.job_max_attempts,
        )
        reanchor_threads(session, submission, revision)
        changefeed.publish_revision(session, revision)
        changefeed.publish_submission(session, submission)
        return Reply(
            201,
            revision_view(session, revision),
            {
                "ETag": version_etag(submission.version),
                "Location": f"/v1/submissions/{submission.id}/revisions/{number}",
            },
        )

    return run_idempotent(platform, request, user, as_json(body), action)


def cancel_superseded_checks(session: Session, submission_id: str, latest: int) -> None:
    """A newer revision makes the older ones' pending checks pointless: cancel them (queued or
    running), so a burst of pushes costs one sandbox run, not one per push."""
    cancelled = jobs.cancel_matching(
        session,
        CHECK_REVISION,
        lambda p: p.get("submission_id") != submission_id or int(p.get("revision", 0)) >= latest,
    )
    for payload in cancelled:
        old = session.get(Revision, (submission_id, int(payload["revision"])))
        if old is not None and old.check_status in ("queued", "running"):
            old.check_status = "superseded"
            old.check_error = f"revision {latest} was pushed before this check finished"
            old.check_finished_at = utcnow()
            changefeed.publish_revision(session, old)


def _get_revision(session: Session, submission: Submission, number: int) -> Revision:
    revision = session.get(Revision, (submission.id, number))
    if revision is None:
        raise not_found(f"revision {number} of submission {submission.id}")
    return revision


@router.get("/{submission_id}/revisions", summary="All revisions of a submission")
def list_revisions(
    submission_id: str,
    request: Request,
    user: User = Depends(current_user),
    platform: Platform = Depends(get_platform),
):
    with platform.read() as session:
        submission = get_submission(session, user, submission_id)
        rows = session.scalars(
            select(Revision)
            .where(Revision.submission_id == submission.id)
            .order_by(Revision.number)
        )
        return json_read(request, {"items": [revision_view(session, r) for r in rows]})


@router.get("/{submission_id}/revisions/{number}", summary="One revision")
def read_revision(
    submission_id: str,
    number: RevisionNumber,
    request: Request,
    user: User = Depends(current_user),
    platform: Platform = Depends(get_platform),
):
    with platform.read() as session:
        submission = get_submission(session, user, submission_id)
        return json_read(
            request, revision_view(session, _get_revision(session, submission, number))
        )


@router.get(
    "/{submission_id}/revisions/{number}/report", summary="The server's own report on a revision"
)
def read_report(
    submission_id: str,
    number: RevisionNumber,
    request: Request,
    user: User = Depends(current_user),
    platform: Platform = Depends(get_platform),
):
    with platform.read() as session:
        submission = get_submission(session, user, submission_id)
        revision = _get_revision(session, submission, number)
        if revision.report is None:
            detail = (
                "the server has not finished checking revision "
                f"{number} (check is {revision.check_status})"
            )
            if revision.check_error:
                detail += f": {revision.check_error}"
            raise Problem(409, detail, slug="report-not-ready", check_status=revision.check_status)
        return json_read(request, revision.report)


@router.post("/{submission_id}/transition", summary="Change a submission's state (needs If-Match)")
def transition(
    submission_id: str,
    body: TransitionRequest,
    request: Request,
    user: User = Depends(current_user),
    platform: Platform = Depends(get_platform),
):
    def action(session: Session) -> Reply:
        submission = get_submission(session, user, submission_id, for_update=True)
        as_author = submission.author_id == user.id
        as_reviewer = (
            user.role == "admin"
            or is_assigned(session, user, submission)
            or owns_bounty_of(session, user, submission)
        )
        if not (as_author or as_reviewer):
            raise Problem(403, "you may not change the state of this submission")
        if body.to in workflow.REVIEW_OUTCOMES and not as_reviewer:
            raise Problem(
                403,
                (
                    "only a reviewer assigned to this submission, "
                    "its bounty's lab or an admin may decide it"
                ),
            )
        if body.to == "withdrawn" and not as_author:
            raise Problem(403, "only the author may withdraw a submission")
        check_if_match(request, submission.version, f"submission {submission_id}")
        allowed = workflow.allowed_targets(
            submission.state, as_author=as_author, as_reviewer=as_reviewer
        )
        if body.to not in allowed:
            raise Problem(
                409,
                f"a submission in state {submission.state} cannot move to {body.to}",
                slug="invalid-transition",
                state=submission.state,
                allowed=allowed,
            )
        workflow.move(session, submission, body.to)
        changefeed.publish_submission(session, submission)
        return _submission_reply(session, submission)

    return run_idempotent(platform, request, user, as_json(body), action)


@router.post(
    "/{submission_id}/recheck",
    status_code=202,
    summary="Re-queue the server check of the latest revision (lab, admin)",
)
def recheck(
    submission_id: str,
    request: Request,
    user: User = Depends(current_user),
    platform: Platform = Depends(get_platform),
):
    def action(session: Session) -> Reply:
        submission = get_submission(session, user, submission_id, for_update=True)
        require_manager_of(session, user, submission)
        if submission.current_revision is None:
            raise Problem(
                409,
                "this submission has no revision to check yet",
                slug="invalid-transition",
                state=submission.state,
                allowed=[],
            )
        revision = _get_revision(session, submission, submission.current_revision)
        revision.check_status, revision.check_error = "queued", None
        jobs.enqueue(
            session,
            CHECK_REVISION,
            {"submission_id": submission.id, "revision": revision.number},
            max_attempts=platform.settings.job_max_attempts,
        )
        if submission.state in ("check_failed", "in_review"):
            workflow.move(session, submission, "checking")
            changefeed.publish_submission(session, submission)
        changefeed.publish_revision(session, revision)
        return Reply(
            202, revision_view(session, revision), {"ETag": version_etag(submission.version)}
        )

    return run_idempotent(platform, request, user, None, action)


@router.post("/{submission_id}/reviewers", summary="Assign a reviewer (the bounty's lab, admin)")
def assign_reviewer(
    submission_id: str,
    body: AssignReviewer,
    request: Request,
    user: User = Depends(current_user),
    platform: Platform = Depends(get_platform),
):
    def action(session: Session) -> Reply:
        submission = get_submission(session, user, submission_id, for_update=True)
        require_manager_of(session, user, submission)
        reviewer = session.get(User, body.reviewer_id)
        if reviewer is None or reviewer.role not in ("reviewer", "lab", "admin"):
            raise Problem(
                422,
                f"{body.reviewer_id} is not a reviewer on this platform",
                errors=[
                    {"loc": ["body", "reviewer_id"], "msg": "not a reviewer", "type": "value_error"}
                ],
            )
        if reviewer.id == submission.author_id:
            raise Problem(
                422,
                "an author cannot review their own submission",
                errors=[
                    {"loc": ["body", "reviewer_id"], "msg": "is the author", "type": "value_error"}
                ],
            )
        if workflow.assign(session, submission, reviewer.id):
            changefeed.publish_submission(session, submission)
        return _submission_reply(session, submission)

    return run_idempotent(platform, request, user, as_json(body), action)


@router.delete(
    "/{submission_id}/reviewers/{reviewer_id}",
    summary="Unassign a reviewer (the bounty's lab, admin)",
)
def unassign_reviewer(
    submission_id: str,
    reviewer_id: str,
    user: User = Depends(current_user),
    platform: Platform = Depends(get_platform),
):
    with platform.write() as session:
        submission = get_submission(session, user, submission_id, for_update=True)
        require_manager_of(session, user, submission)
        removed = session.execute(
            delete(Assignment).where(
                Assignment.submission_id == submission.id, Assignment.reviewer_id == reviewer_id
            )
        ).rowcount
        if removed:
            workflow.touch(submission)
            changefeed.retract_submission_from(session, submission, reviewer_id)
            changefeed.publish_submission(session, submission)
        reply = _submission_reply(session, submission)
    return reply.response()
