"""The change feed (incremental sync), who am I, users, health."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlalchemy import select

import app
from app.platform.auth import create_user, require_role
from app.platform.changefeed import read_feed
from app.platform.deps import CurrentCaller, CurrentPlatform, CurrentUser
from app.platform.models import User
from app.platform.problems import Problem, invalid
from app.platform.responses import Reply, json_read, raw_json_read
from app.platform.schemas import Role, UserCreate

router = APIRouter(tags=["sync"])


@router.get("/v1/changes", summary="What changed since your cursor (only what you may see)")
def changes(
    caller: CurrentCaller,
    cursor: str | None = Query(None, max_length=40),
    limit: int = Query(500, ge=1, le=2000),
):
    after = 0
    if cursor:
        if not cursor.isdigit() or len(cursor) > 18:
            raise invalid(
                "cursor must be a next_cursor this server returned; start again without one",
                ["query", "cursor"],
                "not a feed cursor",
            )
        after = int(cursor)
    with caller.platform.read() as session:
        changes, last_seq, has_more = read_feed(session, caller.user, after, limit)
    next_cursor = str(last_seq if last_seq is not None else after)
    body = (
        b'{"changes":'
        + changes
        + b',"next_cursor":"'
        + next_cursor.encode()
        + b'","has_more":'
        + (b"true" if has_more else b"false")
        + b"}"
    )
    return raw_json_read(caller.request, body)


@router.get("/v1/me", summary="Who this token belongs to")
def me(user: CurrentUser):
    return {"id": user.id, "name": user.name, "role": user.role}


@router.get("/v1/users", summary="Users by role (lab, admin) — e.g. reviewers to assign")
def list_users(
    caller: CurrentCaller,
    role: Role | None = None,
):
    require_role(caller.user, "lab")
    query = select(User).order_by(User.name)
    if role:
        query = query.where(User.role == role)
    with caller.platform.read() as session:
        items = [
            {"id": u.id, "name": u.name, "role": u.role, "domains": list(u.domains or [])}
            for u in session.scalars(query)
        ]
    return json_read(caller.request, {"items": items})


@router.post("/v1/users", status_code=201, summary="Create a user and their first token (admin)")
def add_user(body: UserCreate, caller: CurrentCaller):
    require_role(caller.user, "admin")
    # Idempotency-Key is deliberately not recorded here: the answer holds the new token, which
    # must never be stored. A retry gets 409 for the existing name instead.
    with caller.platform.write() as session:
        try:
            created, token = create_user(
                session,
                body.name,
                body.role,
                expires_in_days=body.expires_in_days,
                domains=body.domains,
            )
        except ValueError as exc:
            raise Problem(409, str(exc)) from exc
        reply = Reply(
            201,
            {
                "user": {
                    "id": created.id,
                    "name": created.name,
                    "role": created.role,
                    "domains": list(created.domains),
                },
                "token": token,
            },
            {"Cache-Control": "no-store"},
        )
    return reply.response()


@router.get("/v1/health", summary="Liveness (no sign-in needed)")
def health(platform: CurrentPlatform):
    with platform.read() as session:
        session.execute(select(1))
    return {"status": "ok", "version": app.__version__, "database": platform.engine.dialect.name}
