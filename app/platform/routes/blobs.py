"""Content-addressed blobs: ask which are missing, upload only those, every hash verified."""

from __future__ import annotations

import hashlib
import re

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import exists, select

from app.platform import quotas
from app.platform.access import possessed_blobs, visible_submission_ids
from app.platform.clock import utcnow
from app.platform.deps import CurrentCaller
from app.platform.models import Blob, BlobUpload, RevisionBlob, User
from app.platform.platform import Platform
from app.platform.problems import Problem, invalid, not_found
from app.platform.schemas import BlobBatch

router = APIRouter(prefix="/v1/blobs", tags=["blobs"])
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _check_sha(sha256: str) -> None:
    if not _SHA256.match(sha256):
        raise invalid(
            "a blob is named by its SHA-256 as 64 lowercase hex characters",
            ["path", "sha256"],
            "not a sha256",
        )


@router.post("/batch", summary="Which of these blobs does the server lack?")
def missing_blobs(body: BlobBatch, caller: CurrentCaller):
    # A pure question: answering it twice is harmless, so Idempotency-Key is accepted and ignored.
    # "Missing" means missing *for you*: a blob someone else uploaded is listed as missing until
    # you upload its bytes too, so the answer never reveals what other users hold.
    wanted = list(dict.fromkeys(body.sha256))
    with caller.platform.read() as session:
        present = possessed_blobs(session, caller.user, wanted)
    return {"missing": [sha for sha in wanted if sha not in present]}


@router.put(
    "/{sha256}",
    status_code=201,
    summary="Upload one blob (raw bytes)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def put_blob(sha256: str, caller: CurrentCaller):
    _check_sha(sha256)
    limit = caller.platform.settings.max_blob_bytes
    declared = caller.request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Problem(
            413,
            f"this file is {int(declared)} bytes; the platform accepts at most {limit} per file",
            limit=limit,
        )
    expected = int(declared) if declared and declared.isdigit() else 0
    # Before reading the body.
    await run_in_threadpool(_check_budget, caller.platform, caller.user, expected)
    digest = hashlib.sha256()
    chunks: list[bytes] = []
    size = 0
    async for chunk in caller.request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(
                413,
                f"this file is larger than the platform's limit of {limit} bytes per file",
                limit=limit,
            )
        digest.update(chunk)
        chunks.append(chunk)
    actual = digest.hexdigest()
    if actual != sha256:
        raise Problem(
            422,
            (
                f"the uploaded bytes hash to {actual}, not {sha256}; "
                "the file changed or was cut off in transit — read it again and re-upload"
            ),
            slug="hash-mismatch",
            actual_sha256=actual,
        )
    data = b"".join(chunks)
    created = await run_in_threadpool(_store, caller.platform, caller.user, sha256, data)
    return Response(
        content=f'{{"sha256":"{sha256}","size":{size}}}',
        media_type="application/json",
        status_code=201 if created else 200,
    )


def _check_budget(platform: Platform, user: User, size: int) -> None:
    with platform.read() as session:
        quotas.check_upload_bytes(session, platform.settings, user, size)


def _store(platform: Platform, user: User, sha256: str, data: bytes) -> bool:
    """Keep the bytes once; record that this user proved they hold them. True when the blob is
    new to this user (201), whether or not someone else had uploaded the same bytes."""
    with platform.write() as session:
        quotas.check_upload_bytes(session, platform.settings, user, len(data))
        now = utcnow()
        if session.get(Blob, sha256) is None:
            session.add(Blob(sha256=sha256, size=len(data), data=data, created_at=now))
            session.flush()
        upload = session.get(BlobUpload, (sha256, user.id))
        if upload is not None:
            upload.uploaded_at = now  # held again now: a fresh grace before collection
            return False
        session.add(BlobUpload(sha256=sha256, user_id=user.id, uploaded_at=now))
    return True


@router.get(
    "/{sha256}",
    summary="Download a blob you uploaded or that belongs to a revision you can see",
    response_class=Response,
    responses={
        200: {
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            }
        }
    },
)
def get_blob(sha256: str, caller: CurrentCaller):
    _check_sha(sha256)
    with caller.platform.read() as session:
        allowed = session.scalar(
            select(
                exists().where(BlobUpload.sha256 == sha256, BlobUpload.user_id == caller.user.id)
                | exists().where(
                    RevisionBlob.sha256 == sha256,
                    RevisionBlob.submission_id.in_(visible_submission_ids(caller.user)),
                )
            )
        )
        blob = session.get(Blob, sha256) if allowed or caller.user.role == "admin" else None
        if blob is None:
            raise not_found(f"blob {sha256}")
        data = blob.data
    etag = f'"{sha256}"'
    if caller.request.headers.get("if-none-match", "").strip() in (etag, "*"):
        return Response(status_code=304, headers={"ETag": etag})
    return Response(
        content=data,
        media_type="application/octet-stream",
        headers={"ETag": etag, "Cache-Control": "private, max-age=31536000, immutable"},
    )
