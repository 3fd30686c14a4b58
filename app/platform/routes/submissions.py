"""Submissions, their revisions (one per push) and their state transitions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.calibrate.card_html import standalone_html
from app.calibrate.targets import evaluate, parse_targets
from app.platform import changefeed, jobs, quotas, workflow
from app.platform.access import (
    get_bounty,
    get_revision,
    get_submission,
    is_assigned,
    owns_bounty_of,
    require_manager_of,
    submission_children,
    visible_submission_ids,
)
from app.platform.auth import require_role
from app.platform.clock import new_id, utcnow
from app.platform.deps import CurrentCaller
from app.platform.models import Assignment, Revision, Submission, User
from app.platform.problems import Problem, invalid
from app.platform.recheck import CHECK_REVISION
from app.platform.responses import Reply, check_if_match, json_read, version_etag
from app.platform.revisions import (
    check_card_blob,
    check_manifest,
    read_card,
    record_revision,
    uploaded_size,
)
from app.platform.schemas import (
    AssignReviewer,
    RevisionCreate,
    SubmissionCreate,
    SubmissionState,
    TransitionRequest,
    as_json,
)
from app.platform.settings import Settings
from app.platform.views import revision_view, submission_view

router = APIRouter(prefix="/v1/submissions", tags=["submissions"])
RevisionNumber = Annotated[int, Path(ge=1, le=1_000_000)]
CARD_NAME = "\x00card"  # never a valid file path, so never confused with one
# The card page is a stranger's text: no script, no network, only its own inline styles.
CARD_PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _submission_reply(
    session: Session, submission: Submission, status: int = 200, **headers: str
) -> Reply:
    return Reply(
        status,
        submission_view(session, submission),
        {"ETag": version_etag(submission.version), **headers},
    )


@router.post("", status_code=201, summary="Start a submission to a bounty (author)")
def create_submission(body: SubmissionCreate, caller: CurrentCaller):
    require_role(caller.user, "author")

    def action(session: Session) -> Reply:
        quotas.check_submissions(session, caller.platform.settings, caller.user)
        bounty = get_bounty(session, caller.user, body.bounty_id)
        existing = session.scalar(
            select(Submission.id).where(
                Submission.author_id == caller.user.id, Submission.bounty_id == bounty.id
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
            author_id=caller.user.id,
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

    return caller.run_idempotent(as_json(body), action)


@router.get("", summary="Submissions you can see: yours, assigned to you, to your bounties")
def list_submissions(
    caller: CurrentCaller,
    bounty_id: str | None = Query(None, max_length=40),
    state: SubmissionState | None = None,
    cursor: str | None = Query(None, max_length=100),
    limit: int = Query(50, ge=1, le=200),
):
    query = select(Submission).where(Submission.id.in_(visible_submission_ids(caller.user)))
    if bounty_id:
        query = query.where(Submission.bounty_id == bounty_id)
    if state:
        query = query.where(Submission.state == state)
    if cursor:
        query = query.where(Submission.id > cursor)
    with caller.platform.read() as session:
        rows = session.scalars(query.order_by(Submission.id).limit(limit + 1)).all()
        items = [submission_view(session, s) for s in rows[:limit]]
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return json_read(caller.request, {"items": items, "next_cursor": next_cursor})


@router.get("/{submission_id}", summary="One submission")
def read_submission(submission_id: str, caller: CurrentCaller):
    return caller.read_one(get_submission, submission_view, submission_id)


def _check_pushable(
    request: Request, session: Session, settings: Settings, user: User, submission: Submission
) -> None:
    """Only the author pushes, to the version they read, within quota, while the state allows."""
    if submission.author_id != user.id:
        raise Problem(403, "only the author of a submission may push revisions to it")
    check_if_match(request, submission.version, f"submission {submission.id}")
    quotas.check_revisions(session, settings, user)
    if submission.state not in workflow.PUSHABLE_STATES:
        raise Problem(
            409,
            f"a {submission.state} submission takes no new revisions",
            slug="invalid-transition",
            state=submission.state,
            allowed=[],
        )


@router.post(
    "/{submission_id}/revisions",
    status_code=201,
    summary="Push a revision (author; needs If-Match)",
)
def create_revision(submission_id: str, body: RevisionCreate, caller: CurrentCaller):
    settings = caller.platform.settings

    def action(session: Session) -> Reply:
        submission = get_submission(session, caller.user, submission_id, for_update=True)
        _check_pushable(caller.request, session, settings, caller.user, submission)
        check_manifest(body.files, settings)
        # the card is a blob like the files (held by the author, counted in the size), not a file
        named = {**body.files, CARD_NAME: body.card} if body.card else body.files
        shas, total = uploaded_size(session, caller.user, named, settings)
        if body.card:
            check_card_blob(session, body.card)
        revision = record_revision(session, settings, caller.user, submission, body, shas, total)
        return Reply(
            201,
            revision_view(session, revision),
            {
                "ETag": version_etag(submission.version),
                "Location": f"/v1/submissions/{submission.id}/revisions/{revision.number}",
            },
        )

    return caller.run_idempotent(as_json(body), action)


def _visible_revision(session: Session, user: User, submission_id: str, number: int) -> Revision:
    """Revision `number` of a submission `user` may see (404 for either when not)."""
    return get_revision(session, get_submission(session, user, submission_id), number)


@router.get("/{submission_id}/revisions", summary="All revisions of a submission")
def list_revisions(submission_id: str, caller: CurrentCaller):
    with caller.platform.read() as session:
        rows = submission_children(session, caller.user, submission_id, Revision, Revision.number)
        return json_read(caller.request, {"items": [revision_view(session, r) for r in rows]})


@router.get("/{submission_id}/revisions/{number}", summary="One revision")
def read_revision(submission_id: str, number: RevisionNumber, caller: CurrentCaller):
    with caller.platform.read() as session:
        revision = _visible_revision(session, caller.user, submission_id, number)
        return json_read(caller.request, revision_view(session, revision))


@router.get(
    "/{submission_id}/revisions/{number}/report", summary="The server's own report on a revision"
)
def read_report(submission_id: str, number: RevisionNumber, caller: CurrentCaller):
    with caller.platform.read() as session:
        revision = _visible_revision(session, caller.user, submission_id, number)
        if revision.report is None:
            detail = (
                "the server has not finished checking revision "
                f"{number} (check is {revision.check_status})"
            )
            if revision.check_error:
                detail += f": {revision.check_error}"
            raise Problem(409, detail, slug="report-not-ready", check_status=revision.check_status)
        return json_read(caller.request, revision.report)


def _card_of(session: Session, user: User, submission_id: str, number: int):
    """(card, targets checked) of a revision, or a 404 when it carries no card."""
    revision = _visible_revision(session, user, submission_id, number)
    if revision.card_sha256 is None:
        raise Problem(
            404,
            f"revision {number} carries no pack card: its author did not run "
            "`gauntlet calibrate` before submitting",
            slug="no-card",
        )
    card = read_card(session, revision.card_sha256)
    bounty = get_bounty(session, user, get_submission(session, user, submission_id).bounty_id)
    targets = evaluate(parse_targets(bounty.calibration_targets or []), card)
    return revision, card, targets


@router.get(
    "/{submission_id}/revisions/{number}/card",
    summary="The revision's pack card, with the bounty's calibration targets checked against it",
)
def read_card_json(submission_id: str, number: RevisionNumber, caller: CurrentCaller):
    with caller.platform.read() as session:
        revision, card, targets = _card_of(session, caller.user, submission_id, number)
        payload = {
            "sha256": revision.card_sha256,
            "card": card,
            "targets": [t.to_dict() for t in targets],
        }
        return json_read(caller.request, payload)


@router.get(
    "/{submission_id}/revisions/{number}/card.html",
    summary="The revision's pack card as a self-contained HTML page",
    response_class=HTMLResponse,
)
def read_card_page(submission_id: str, number: RevisionNumber, caller: CurrentCaller):
    with caller.platform.read() as session:
        _revision, card, targets = _card_of(session, caller.user, submission_id, number)
    page = standalone_html(card, targets)
    return HTMLResponse(page, headers={"Content-Security-Policy": CARD_PAGE_POLICY})


@router.post("/{submission_id}/transition", summary="Change a submission's state (needs If-Match)")
def transition(submission_id: str, body: TransitionRequest, caller: CurrentCaller):
    def action(session: Session) -> Reply:
        submission = get_submission(session, caller.user, submission_id, for_update=True)
        as_author = submission.author_id == caller.user.id
        as_reviewer = (
            caller.user.role == "admin"
            or is_assigned(session, caller.user, submission)
            or owns_bounty_of(session, caller.user, submission)
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
        check_if_match(caller.request, submission.version, f"submission {submission_id}")
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

    return caller.run_idempotent(as_json(body), action)


@router.post(
    "/{submission_id}/recheck",
    status_code=202,
    summary="Re-queue the server check of the latest revision (lab, admin)",
)
def recheck(submission_id: str, caller: CurrentCaller):
    def action(session: Session) -> Reply:
        submission = get_submission(session, caller.user, submission_id, for_update=True)
        require_manager_of(session, caller.user, submission)
        if submission.current_revision is None:
            raise Problem(
                409,
                "this submission has no revision to check yet",
                slug="invalid-transition",
                state=submission.state,
                allowed=[],
            )
        revision = get_revision(session, submission, submission.current_revision)
        revision.check_status, revision.check_error = "queued", None
        jobs.enqueue(
            session,
            CHECK_REVISION,
            {"submission_id": submission.id, "revision": revision.number},
            max_attempts=caller.platform.settings.job_max_attempts,
        )
        if submission.state in ("check_failed", "in_review"):
            workflow.move(session, submission, "checking")
            changefeed.publish_submission(session, submission)
        changefeed.publish_revision(session, revision)
        return Reply(
            202, revision_view(session, revision), {"ETag": version_etag(submission.version)}
        )

    return caller.run_idempotent(None, action)


@router.post("/{submission_id}/reviewers", summary="Assign a reviewer (the bounty's lab, admin)")
def assign_reviewer(submission_id: str, body: AssignReviewer, caller: CurrentCaller):
    def action(session: Session) -> Reply:
        submission = get_submission(session, caller.user, submission_id, for_update=True)
        require_manager_of(session, caller.user, submission)
        reviewer = session.get(User, body.reviewer_id)
        if reviewer is None or reviewer.role not in ("reviewer", "lab", "admin"):
            raise invalid(
                f"{body.reviewer_id} is not a reviewer on this platform",
                ["body", "reviewer_id"],
                "not a reviewer",
            )
        if reviewer.id == submission.author_id:
            raise invalid(
                "an author cannot review their own submission",
                ["body", "reviewer_id"],
                "is the author",
            )
        if workflow.assign(session, submission, reviewer.id):
            changefeed.publish_submission(session, submission)
        return _submission_reply(session, submission)

    return caller.run_idempotent(as_json(body), action)


@router.delete(
    "/{submission_id}/reviewers/{reviewer_id}",
    summary="Unassign a reviewer (the bounty's lab, admin)",
)
def unassign_reviewer(submission_id: str, reviewer_id: str, caller: CurrentCaller):
    with caller.platform.write() as session:
        submission = get_submission(session, caller.user, submission_id, for_update=True)
        require_manager_of(session, caller.user, submission)
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
