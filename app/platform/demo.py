"""Demo content: the bounties in resources/demo/bounties.json and the labs that post them.

Seeding is idempotent (existing bounties and users are left alone), so a platform started
with --demo every day keeps its data. Deadlines are relative to the first seeding, so a
fresh demo never shows expired bounties.
"""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.platform.auth import create_user
from app.platform.changefeed import encode, take_feed_lock
from app.platform.clock import utcnow
from app.platform.models import Bounty, Change, User
from app.platform.platform import Platform
from app.platform.routes.bounties import bounty_columns, insert_bounty
from app.platform.schemas import BountyCreate
from app.platform.views import bounty_view
from app.resources import resource_path


def load_demo() -> dict[str, Any]:
    return json.loads(resource_path("demo", "bounties.json").read_text(encoding="utf-8"))


def ensure_user(session: Session, name: str, role: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        user, _token = create_user(
            session, name, role
        )  # a lab's token is minted later by an operator
    return user


def seed_demo(platform: Platform) -> list[str]:
    """Add the demo labs and bounties that are missing; returns the ids added."""
    demo = load_demo()
    added: list[str] = []
    with platform.write() as session:
        labs = {name: ensure_user(session, name, "lab") for name in demo["labs"]}
        end_of_today = utcnow().replace(hour=23, minute=59, second=59, microsecond=0)
        for item in demo["bounties"]:
            if session.get(Bounty, item["id"]) is not None:
                continue
            fields = {k: v for k, v in item.items() if k not in ("id", "lab", "deadline_in_days")}
            fields["deadline"] = end_of_today + timedelta(days=item["deadline_in_days"])
            insert_bounty(
                session, labs[item["lab"]].id, BountyCreate(**fields), bounty_id=item["id"]
            )
            added.append(item["id"])
    return added


def bulk_insert_bounties(
    platform: Platform, items: list[dict[str, Any]], *, lab_name: str = "Bulk Lab"
) -> list[str]:
    """Insert many bounties in one transaction (benchmarks, imports). Each item is a
    `POST /v1/bounties` body and is validated the same way."""
    ids: list[str] = []
    with platform.write() as session:
        lab = ensure_user(session, lab_name, "lab")
        now = utcnow()
        bounty_rows, change_rows = [], []
        for item in items:
            body = BountyCreate(**item)
            # Plain rows, not ORM objects: ten thousand instrumented objects cost seconds.
            row = bounty_columns(lab.id, body, now)
            bounty = SimpleNamespace(**row)
            bounty_rows.append(row)
            change_rows.append(
                {
                    "entity": "bounty",
                    "entity_id": bounty.id,
                    "op": "upsert",
                    "data": encode(bounty_view(session, bounty)),
                    "bounty_id": bounty.id,
                    "submission_id": None,
                    "audience_user_id": "",
                }
            )
            ids.append(bounty.id)
        take_feed_lock(session)
        session.execute(insert(Bounty), bounty_rows)
        session.execute(insert(Change), change_rows)
    return ids
