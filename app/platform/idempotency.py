"""`Idempotency-Key` on POST: the first successful result is recorded in the same transaction
as the change it made, so a replay returns it again and changes nothing.

Failures are not recorded (the change rolled back with them), so a client can fix the request
and retry with the same key. The key check runs before any precondition, so a replay still
gets its first answer after the resource moved on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.platform.clock import utcnow
from app.platform.models import IdempotencyRecord, User
from app.platform.platform import Platform
from app.platform.problems import Problem
from app.platform.responses import Reply

_REPLAYED_HEADERS = ("ETag", "Location")


def _key_from(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    key = key.strip()
    if not (1 <= len(key) <= 200) or not all(33 <= ord(ch) <= 126 for ch in key):
        raise Problem(
            400,
            (
                "Idempotency-Key must be 1 to 200 printable "
                "ASCII characters without spaces (a UUID is ideal)"
            ),
        )
    return key


def _fingerprint(request: Request, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    text = f"{request.method} {request.url.path}\n{canonical}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.request_sha256 != fingerprint:
        raise Problem(
            422,
            (
                "this Idempotency-Key was already used for a different request; "
                "use a new key for a new intent"
            ),
            slug="idempotency-key-reused",
        )
    return Reply(record.status_code, record.response_body, dict(record.response_headers)).response(
        replayed=True
    )


def run_idempotent(
    platform: Platform, request: Request, user: User, body: Any, action: Callable[[Session], Reply]
) -> Response:
    """Run `action` in one write transaction, honouring the request's Idempotency-Key."""
    key = _key_from(request)
    fingerprint = _fingerprint(request, body) if key else ""
    try:
        with platform.write() as session:
            if key:
                record = session.get(IdempotencyRecord, (user.id, key))
                if record is not None:
                    return _replay(record, fingerprint)
            reply = action(session)
            if key and 200 <= reply.status < 300:
                session.add(
                    IdempotencyRecord(
                        user_id=user.id,
                        key=key,
                        request_sha256=fingerprint,
                        status_code=reply.status,
                        response_body=reply.body,
                        response_headers={
                            h: reply.headers[h] for h in _REPLAYED_HEADERS if h in reply.headers
                        },
                        created_at=utcnow(),
                    )
                )
            session.flush()
    except IntegrityError as exc:
        # A concurrent request with the same key won (PostgreSQL), or a uniqueness rule of the
        # action itself was hit by a concurrent request: answer like the winner did.
        if key:
            with platform.read() as session:
                record = session.get(IdempotencyRecord, (user.id, key))
                if record is not None:
                    return _replay(record, fingerprint)
        raise Problem(
            409, "a concurrent request changed the same thing; read it again and retry"
        ) from exc
    return reply.response()
