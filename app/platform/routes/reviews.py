"""Review threads anchored to lines, append-only comments, rubric scores and verdicts."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.platform import changefeed, workflow
from app.platform.access import (
    can_review,
    get_revision,
    get_submission,
    require_reviewer_of,
    submission_children,
    visible_submission_ids,
)
from app.platform.anchoring import locate, make_anchor
from app.platform.clock import new_id, utcnow
from app.platform.deps import CurrentCaller
from app.platform.models import Blob, Bounty, Comment, Review, Revision, Submission, Thread, User
from app.platform.problems import Problem, field_error, invalid, not_found
from app.platform.responses import Reply, json_read, version_etag
from app.platform.revisions import file_text
from app.platform.schemas import CommentCreate, ResolveRequest, ReviewCreate, ThreadCreate, as_json
from app.platform.thread_fields import checked_thread
from app.platform.views import comment_view, review_view, thread_view

router = APIRouter(tags=["reviews"])


def _require_participant(session: Session, user: User, submission: Submission) -> None:
    if submission.author_id != user.id and not can_review(session, user, submission):
        raise Problem(
            403,
            (
                "only the author, an assigned reviewer, "
                "the bounty's lab or an admin may discuss this submission"
            ),
        )


def _text_of(session: Session, revision: Revision, path: str) -> str:
    sha = revision.files.get(path)
    if sha is None:
        raise invalid(
            f"revision {revision.number} has no file {path!r}",
            ["body", "path"],
            "no such file in this revision",
        )
    blob = session.get(Blob, sha)
    try:
        return blob.data.decode("utf-8") if blob else ""
    except UnicodeDecodeError as exc:
        raise invalid(
            f"{path} is not a text file; comment on the whole submission instead (omit path)",
            ["body", "path"],
            "not UTF-8 text",
        ) from exc


def _anchor_thread(
    session: Session,
    thread: Thread,
    submission: Submission,
    revision: Revision,
    body: ThreadCreate,
) -> None:
    """Anchor the new thread to its lines in `revision`, and place it on the latest revision
    (current, moved or outdated) when the author has pushed since."""
    start = body.start_line or 1
    end = body.end_line or start
    text = _text_of(session, revision, body.path)
    try:
        anchor = make_anchor(text, start, end)
    except ValueError as exc:
        raise invalid(f"{body.path}: {exc}", ["body", "end_line"], str(exc)) from exc
    thread.anchor_path, thread.anchor_start, thread.anchor_end = body.path, start, end
    thread.quote, thread.context_before, thread.context_after = (
        anchor.quote,
        anchor.context_before,
        anchor.context_after,
    )
    thread.quote_sha256, thread.context_sha256 = anchor.quote_sha256, anchor.context_sha256
    position = locate(anchor, text)
    if submission.current_revision and submission.current_revision != revision.number:
        latest = session.get(Revision, (submission.id, submission.current_revision))
        position = locate(anchor, file_text(session, latest.files, body.path) if latest else None)
    thread.position_status = position.status
    thread.position_start, thread.position_end = position.start_line, position.end_line


@router.post(
    "/v1/submissions/{submission_id}/threads",
    status_code=201,
    summary="Start a thread on lines of a file",
)
def create_thread(submission_id: str, body: ThreadCreate, caller: CurrentCaller):
    def action(session: Session) -> Reply:
        submission = get_submission(session, caller.user, submission_id)
        _require_participant(session, caller.user, submission)
        revision = get_revision(session, submission, body.revision)
        request_body = checked_thread(session, revision, body)
        now = utcnow()
        thread = Thread(
            id=new_id("t"),
            submission_id=submission.id,
            author_id=caller.user.id,
            created_at=now,
            version=1,
            resolved=False,
            anchor_revision=revision.number,
            position_revision=submission.current_revision or revision.number,
            position_status="current",
            severity=body.severity,
            suggestion=body.suggestion,
            task_id=body.task_id,
        )
        if request_body.path is not None:
            _anchor_thread(session, thread, submission, revision, request_body)
        elif body.start_line is not None or body.end_line is not None:
            raise invalid(
                "lines need a path; omit both for a thread about the whole submission",
                ["body", "path"],
                "required with lines",
            )
        session.add(thread)
        session.flush()
        comment = Comment(
            id=new_id("c"),
            thread_id=thread.id,
            parent_id=None,
            author_id=caller.user.id,
            body=body.body,
            created_at=now,
        )
        session.add(comment)
        session.flush()
        changefeed.publish_thread(session, thread)
        changefeed.publish_comment(session, comment, submission.id)
        return Reply(
            201,
            thread_view(session, thread, with_comments=True),
            {"ETag": version_etag(thread.version), "Location": f"/v1/threads/{thread.id}"},
        )

    return caller.run_idempotent(as_json(body), action)


@router.get(
    "/v1/submissions/{submission_id}/threads", summary="Threads of a submission, with comments"
)
def list_threads(submission_id: str, caller: CurrentCaller):
    with caller.platform.read() as session:
        rows = submission_children(
            session, caller.user, submission_id, Thread, Thread.created_at, Thread.id
        )
        return json_read(
            caller.request, {"items": [thread_view(session, t, with_comments=True) for t in rows]}
        )


def _get_thread(
    session: Session, user: User, thread_id: str, *, to_discuss: bool = False
) -> tuple[Thread, Submission]:
    """A thread `user` may see and its submission; `to_discuss` also requires that they may
    write in it (403 otherwise)."""
    thread = session.scalar(
        select(Thread).where(
            Thread.id == thread_id, Thread.submission_id.in_(visible_submission_ids(user))
        )
    )
    if thread is None:
        raise not_found(f"thread {thread_id}")
    submission = session.get(Submission, thread.submission_id)
    if to_discuss:
        _require_participant(session, user, submission)
    return thread, submission


@router.get("/v1/threads/{thread_id}", summary="One thread with its comments")
def read_thread(thread_id: str, caller: CurrentCaller):
    with caller.platform.read() as session:
        thread, _ = _get_thread(session, caller.user, thread_id)
        return json_read(
            caller.request,
            thread_view(session, thread, with_comments=True),
            etag=version_etag(thread.version),
        )


@router.post(
    "/v1/threads/{thread_id}/comments", status_code=201, summary="Reply in a thread (append-only)"
)
def add_comment(thread_id: str, body: CommentCreate, caller: CurrentCaller):
    def action(session: Session) -> Reply:
        thread, submission = _get_thread(session, caller.user, thread_id, to_discuss=True)
        if body.parent_id is not None:
            parent = session.get(Comment, body.parent_id)
            if parent is None or parent.thread_id != thread.id:
                raise invalid(
                    f"comment {body.parent_id} is not in thread {thread.id}",
                    ["body", "parent_id"],
                    "not in this thread",
                )
        comment = Comment(
            id=new_id("c"),
            thread_id=thread.id,
            parent_id=body.parent_id,
            author_id=caller.user.id,
            body=body.body,
            created_at=utcnow(),
        )
        session.add(comment)
        session.flush()
        changefeed.publish_comment(session, comment, submission.id)
        return Reply(201, comment_view(session, comment), {"Location": f"/v1/threads/{thread.id}"})

    return caller.run_idempotent(as_json(body), action)


@router.post("/v1/threads/{thread_id}/resolve", summary="Resolve or reopen a thread")
def resolve_thread(thread_id: str, body: ResolveRequest, caller: CurrentCaller):
    def action(session: Session) -> Reply:
        thread, submission = _get_thread(session, caller.user, thread_id, to_discuss=True)
        if thread.resolved != body.resolved:
            thread.resolved = body.resolved
            thread.resolved_by = caller.user.id if body.resolved else None
            thread.resolved_at = utcnow() if body.resolved else None
            thread.version += 1
            changefeed.publish_thread(session, thread)
        return Reply(
            200,
            thread_view(session, thread, with_comments=True),
            {"ETag": version_etag(thread.version)},
        )

    return caller.run_idempotent(as_json(body), action)


def _check_scores(bounty: Bounty, scores: dict[str, float]) -> None:
    criteria = {item["id"]: item for item in bounty.rubric}
    errors = []
    for key, value in scores.items():
        loc = ["body", "scores", key]
        if key not in criteria:
            known = ", ".join(criteria) or "none"
            errors.append(field_error(loc, f"not a criterion of this bounty's rubric ({known})"))
            continue
        top = criteria[key].get("max_score", 5)
        if not 0 <= value <= top:
            errors.append(field_error(loc, f"must be between 0 and {top}"))
    if errors:
        raise Problem(422, f"scores.{errors[0]['loc'][-1]}: {errors[0]['msg']}", errors=errors)


@router.post(
    "/v1/submissions/{submission_id}/reviews",
    status_code=201,
    summary="Score and decide a revision",
)
def create_review(submission_id: str, body: ReviewCreate, caller: CurrentCaller):
    def action(session: Session) -> Reply:
        submission = get_submission(session, caller.user, submission_id, for_update=True)
        require_reviewer_of(session, caller.user, submission)
        get_revision(session, submission, body.revision)  # 404 when there is no such revision
        if body.revision != submission.current_revision:
            raise Problem(
                409,
                (
                    f"revision {body.revision} was superseded by revision "
                    f"{submission.current_revision}; review the latest one"
                ),
                slug="revision-superseded",
                current_revision=submission.current_revision,
            )
        _check_scores(session.get(Bounty, submission.bounty_id), body.scores)
        outcome = workflow.VERDICT_OUTCOME.get(body.verdict)
        if outcome and submission.state != "in_review":
            raise Problem(
                409,
                (
                    "a verdict needs the submission in review; "
                    f"it is {submission.state} (a 'comment' review is always possible)"
                ),
                slug="invalid-transition",
                state=submission.state,
                allowed=["comment"],
            )
        review = Review(
            id=new_id("r"),
            submission_id=submission.id,
            revision=body.revision,
            reviewer_id=caller.user.id,
            verdict=body.verdict,
            scores=dict(body.scores),
            summary=body.summary,
            created_at=utcnow(),
        )
        session.add(review)
        session.flush()
        changefeed.publish_review(session, review)
        if outcome:
            workflow.move(session, submission, outcome)
        else:
            workflow.touch(submission)
        changefeed.publish_submission(session, submission)
        return Reply(201, review_view(session, review), {"ETag": version_etag(submission.version)})

    return caller.run_idempotent(as_json(body), action)


@router.get("/v1/submissions/{submission_id}/reviews", summary="Reviews of a submission")
def list_reviews(submission_id: str, caller: CurrentCaller):
    with caller.platform.read() as session:
        rows = submission_children(
            session, caller.user, submission_id, Review, Review.created_at, Review.id
        )
        return json_read(caller.request, {"items": [review_view(session, r) for r in rows]})
