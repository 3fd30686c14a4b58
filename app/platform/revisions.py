"""Pushing a revision: its file list checked, its uploads proved, the revision recorded, and
what follows from it (older checks cancelled, the server's check queued, threads re-anchored).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import strict_json
from app.calibrate.card_data import CardFileError, check_card
from app.platform import changefeed, jobs, workflow
from app.platform.access import possessed_blobs
from app.platform.anchoring import Anchor, locate
from app.platform.clock import utcnow
from app.platform.models import Blob, Revision, RevisionBlob, Submission, Thread, User
from app.platform.problems import Problem, field_error
from app.platform.recheck import CHECK_REVISION
from app.platform.schemas import RevisionCreate
from app.platform.settings import Settings


def validate_manifest_path(path: str) -> str | None:
    """Why `path` is not a safe relative package path, or None when it is."""
    if path.startswith("/") or "\\" in path or "\x00" in path or ":" in path.split("/")[0]:
        return "must be a relative path with '/' separators"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "must not contain empty, '.' or '..' segments"
    if any(ord(ch) < 32 for ch in path):
        return "must not contain control characters"
    return None


def check_manifest(files: dict[str, str], settings: Settings) -> None:
    """Every path safe (422 naming each bad one), and not more files than a revision may hold."""
    errors = [
        field_error(["body", "files", path], why)
        for path, why in ((p, validate_manifest_path(p)) for p in files)
        if why
    ]
    if errors:
        raise Problem(422, f"{errors[0]['loc'][-1]!r}: {errors[0]['msg']}", errors=errors)
    if len(files) > settings.max_files:
        raise Problem(
            413,
            f"{len(files)} files; the platform accepts at most {settings.max_files} per revision",
            limit=settings.max_files,
        )


def uploaded_size(
    session: Session, user: User, files: dict[str, str], settings: Settings
) -> tuple[list[str], int]:
    """The revision's distinct blobs and its total size in bytes, once every blob is uploaded
    and held by `user` (422 missing-blobs otherwise) and the total is within the cap (413)."""
    shas = sorted(set(files.values()))
    held = possessed_blobs(session, user, shas)  # naming a hash is no proof of holding it
    sizes = dict(
        session.execute(select(Blob.sha256, Blob.size).where(Blob.sha256.in_(sorted(held)))).all()
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
    total = sum(sizes[sha] for sha in files.values())
    if total > settings.max_revision_bytes:
        raise Problem(
            413,
            (
                f"the package is {total} bytes; "
                f"the platform accepts at most {settings.max_revision_bytes}"
            ),
            limit=settings.max_revision_bytes,
        )
    return shas, total


def record_revision(
    session: Session,
    settings: Settings,
    user: User,
    submission: Submission,
    body: RevisionCreate,
    shas: list[str],
    total: int,
) -> Revision:
    """Add the next revision, move the submission to checking, queue the server's check of it
    (cancelling the older ones'), re-anchor the threads and publish the changes."""
    number = (submission.current_revision or 0) + 1
    revision = Revision(
        submission_id=submission.id,
        number=number,
        author_id=user.id,
        message=body.message,
        files=dict(sorted(body.files.items())),
        total_bytes=total,
        client_report=body.client_report,
        card_sha256=body.card,
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
    return revision


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


def check_card_blob(session: Session, sha256: str) -> None:
    """The blob a revision names as its pack card must be one (422 otherwise)."""
    try:
        read_card(session, sha256)
    except CardFileError as exc:
        raise Problem(
            422,
            f"the pack card is not usable: {exc} Send the card.json `gauntlet calibrate` wrote.",
            errors=[field_error(["body", "card"], str(exc))],
        ) from None


def read_card(session: Session, sha256: str) -> dict:
    """The pack card in blob `sha256`; a `CardFileError` when it is none."""
    blob = session.get(Blob, sha256)
    if blob is None:
        raise CardFileError("its blob is not uploaded.")
    try:
        data = strict_json.loads(blob.data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CardFileError(f"not valid JSON: {exc}.") from None
    check_card(data)
    return data


def file_text(session: Session, files: dict[str, str], path: str | None) -> str | None:
    """The file's text, or None when it is not in `files` or not UTF-8."""
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
            position = locate(anchor, file_text(session, revision.files, thread.anchor_path))
            thread.position_status = position.status
            thread.position_start, thread.position_end = position.start_line, position.end_line
        thread.version += 1
        changefeed.publish_thread(session, thread)
