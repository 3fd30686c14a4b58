"""Bounties: list with filters and keyset pagination, detail, create and change (labs)."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.calibrate.targets import TargetError, parse_targets
from app.platform import changefeed
from app.platform.access import get_bounty
from app.platform.auth import require_role
from app.platform.clock import new_id, utcnow
from app.platform.deps import CurrentCaller
from app.platform.models import Bounty
from app.platform.problems import Problem, invalid
from app.platform.responses import Reply, check_if_match, json_read, version_etag
from app.platform.schemas import BountyCreate, BountyPatch, as_json
from app.platform.views import bounty_view

router = APIRouter(prefix="/v1/bounties", tags=["bounties"])
MAX_REWARD = 1_000_000_000  # the same bound as a bounty's reward (schemas.BountyCreate)

_SORTS = {
    # sort name: (column, descending)
    "deadline": (Bounty.deadline, False),
    "-reward": (Bounty.reward, True),
    "-created": (Bounty.created_at, True),
}


def _encode_cursor(sort: str, value, bounty_id: str) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([sort, value, bounty_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, bounty_id = json.loads(raw)
        if cursor_sort != sort or not isinstance(bounty_id, str):
            raise ValueError
        if sort in ("deadline", "-created"):
            value = datetime.fromisoformat(value)
        elif not isinstance(value, int):
            raise ValueError
        return value, bounty_id
    except Exception as exc:
        raise Problem(
            422,
            "cursor is not one this server gave out for this sort; start again without a cursor",
        ) from exc


def search_text(title: str, summary: str, brief: str, tags: list[str]) -> str:
    return "\n".join([title, summary, brief, " ".join(tags)]).lower()


def tags_text(tags: list[str]) -> str:
    return "|" + "|".join(t.lower() for t in tags) + "|"


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@router.get("", summary="List bounties (filters, cursor pagination)")
def list_bounties(
    caller: CurrentCaller,
    domain: str | None = Query(None, max_length=60),
    tag: str | None = Query(None, max_length=40),
    status: Literal["draft", "open", "closed"] | None = None,
    min_reward: int | None = Query(None, ge=0, le=MAX_REWARD),
    max_reward: int | None = Query(None, ge=0, le=MAX_REWARD),
    deadline_before: datetime | None = None,
    deadline_after: datetime | None = None,
    q: str | None = Query(None, max_length=200),
    sort: Literal["deadline", "-reward", "-created"] = "deadline",
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(50, ge=1, le=200),
):
    query = select(Bounty)
    if caller.user.role != "admin":
        query = query.where(or_(Bounty.status != "draft", Bounty.lab_id == caller.user.id))
    if domain:
        query = query.where(Bounty.domain == domain.lower())
    if tag:
        query = query.where(Bounty.tags_text.like(f"%|{_like_escape(tag.lower())}|%", escape="\\"))
    if status:
        query = query.where(Bounty.status == status)
    if min_reward is not None:
        query = query.where(Bounty.reward >= min_reward)
    if max_reward is not None:
        query = query.where(Bounty.reward <= max_reward)
    if deadline_before is not None:
        query = query.where(Bounty.deadline < deadline_before)
    if deadline_after is not None:
        query = query.where(Bounty.deadline > deadline_after)
    for word in (q or "").lower().split():
        query = query.where(Bounty.search_text.like(f"%{_like_escape(word)}%", escape="\\"))
    column, descending = _SORTS[sort]
    if cursor:
        value, last_id = _decode_cursor(cursor, sort)
        beyond = column < value if descending else column > value
        query = query.where(or_(beyond, and_(column == value, Bounty.id > last_id)))
    query = query.order_by(column.desc() if descending else column.asc(), Bounty.id.asc()).limit(
        limit + 1
    )
    with caller.platform.read() as session:
        rows = session.scalars(query).all()
        items = [bounty_view(session, b) for b in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _encode_cursor(sort, getattr(last, column.key), last.id)
    return json_read(caller.request, {"items": items, "next_cursor": next_cursor})


@router.get("/{bounty_id}", summary="One bounty with its brief and rubric")
def read_bounty(bounty_id: str, caller: CurrentCaller):
    return caller.read_one(get_bounty, bounty_view, bounty_id)


def bounty_columns(
    lab_id: str, body: BountyCreate, now, *, bounty_id: str | None = None
) -> dict[str, Any]:
    """A new bounty's columns, validated: the one way every path (API, demo data) makes one."""
    tags = list(dict.fromkeys(body.tags))
    rubric = [item.model_dump() for item in body.rubric]
    _check_rubric(rubric)
    targets = checked_targets(body.calibration_targets)
    return dict(
        id=bounty_id or new_id("b"),
        lab_id=lab_id,
        title=body.title,
        summary=body.summary,
        domain=body.domain,
        tags=tags,
        tags_text=tags_text(tags),
        status=body.status,
        reward=body.reward,
        currency=body.currency,
        deadline=body.deadline,
        env_kind=body.env_kind,
        constraints=body.constraints,
        brief=body.brief,
        rubric=rubric,
        calibration_targets=targets,
        search_text=search_text(body.title, body.summary, body.brief, tags),
        created_at=now,
        updated_at=now,
        version=1,
    )


def insert_bounty(
    session: Session, lab_id: str, body: BountyCreate, *, bounty_id: str | None = None
) -> Bounty:
    bounty = Bounty(**bounty_columns(lab_id, body, utcnow(), bounty_id=bounty_id))
    session.add(bounty)
    session.flush()
    changefeed.publish_bounty(session, bounty)
    return bounty


def checked_targets(targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bounty's calibration targets in their plain form, or a 422 naming the bad one."""
    try:
        return [target.to_dict() for target in parse_targets(targets)]
    except TargetError as exc:
        raise invalid(str(exc), ["body", "calibration_targets"], str(exc)) from None


def _check_rubric(rubric: list[dict]) -> None:
    ids = [item["id"] for item in rubric]
    if len(ids) != len(set(ids)):
        raise invalid("rubric criteria need distinct ids", ["body", "rubric"], "duplicate id")


@router.post("", status_code=201, summary="Post a bounty (lab)")
def create_bounty(body: BountyCreate, caller: CurrentCaller):
    require_role(caller.user, "lab")

    def action(session: Session) -> Reply:
        bounty = insert_bounty(session, caller.user.id, body)
        return Reply(
            201,
            bounty_view(session, bounty),
            {"ETag": version_etag(bounty.version), "Location": f"/v1/bounties/{bounty.id}"},
        )

    return caller.run_idempotent(as_json(body), action)


@router.patch("/{bounty_id}", summary="Change a bounty (its lab; needs If-Match)")
def patch_bounty(bounty_id: str, body: BountyPatch, caller: CurrentCaller):
    with caller.platform.write() as session:
        bounty = get_bounty(session, caller.user, bounty_id)
        if bounty.lab_id != caller.user.id and caller.user.role != "admin":
            raise Problem(403, "only the lab that posted this bounty may change it")
        check_if_match(caller.request, bounty.version, f"bounty {bounty_id}")
        changes = body.model_dump(exclude_unset=True)
        if changes.get("status") == "draft" and bounty.status != "draft":
            raise Problem(
                409,
                "a published bounty cannot go back to draft; close it instead",
                slug="invalid-transition",
                state=bounty.status,
                allowed=["open", "closed"],
            )
        for name, value in changes.items():
            if value is None:
                continue
            if name == "rubric":
                value = [
                    item.model_dump() if hasattr(item, "model_dump") else item
                    for item in body.rubric
                ]
                _check_rubric(value)
            if name == "calibration_targets":
                value = checked_targets(value)
            if name == "tags":
                value = list(dict.fromkeys(value))
                bounty.tags_text = tags_text(value)
            setattr(bounty, name, value)
        bounty.search_text = search_text(bounty.title, bounty.summary, bounty.brief, bounty.tags)
        bounty.version += 1
        bounty.updated_at = utcnow()
        changefeed.publish_bounty(session, bounty)
        view = bounty_view(session, bounty)
    return Reply(200, view, {"ETag": version_etag(bounty.version)}).response()
