"""JSON responses with ETags: `If-None-Match` → 304 on reads, `If-Match` → 412 on changes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from app.platform.problems import Problem


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
        "utf-8"
    )


def version_etag(version: int) -> str:
    return f'"{version}"'


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == wanted for candidate in header.split(","))


def json_read(request: Request, payload: Any, *, etag: str | None = None) -> Response:
    """A GET answer: its ETag (a version one when given, else a hash of the body) and a 304
    when the client already has this exact representation."""
    return raw_json_read(request, dumps(payload), etag=etag)


def raw_json_read(request: Request, body: bytes, *, etag: str | None = None) -> Response:
    """`json_read` for a body that is already serialised JSON."""
    tag = etag or f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    if _etag_matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)


def check_if_match(request: Request, current_version: int, what: str) -> None:
    header = request.headers.get("if-match")
    current = version_etag(current_version)
    if not header:
        raise Problem(
            428,
            f"changing {what} needs an If-Match header with the ETag you last read ({current} now)",
            current_etag=current,
        )
    if not _etag_matches(header, current):
        raise Problem(
            412,
            f"{what} changed since you read it (now {current}); read it again and retry",
            current_etag=current,
        )


@dataclass
class Reply:
    """What a change returns: recorded as-is for idempotent replays."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def response(self, *, replayed: bool = False) -> Response:
        headers = dict(self.headers)
        if replayed:
            headers["Idempotency-Replayed"] = "true"
        if self.body is None:
            return Response(status_code=self.status, headers=headers)
        return JSONResponse(self.body, status_code=self.status, headers=headers)
