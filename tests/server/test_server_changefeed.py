"""The change feed's order: a republished entity always lands after every cursor already
handed out, so a client that synced up to the newest change still sees it change again."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from support.platform_testkit import BACKENDS

from app.platform import changefeed
from app.platform.models import Change

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def _seq(session, entity_id: str) -> int:
    return session.scalar(select(Change.seq).where(Change.entity_id == entity_id))


def test_republishing_the_newest_entity_moves_it_past_the_cursor(live):
    with live.platform.write() as session:
        changefeed.record(session, "thread", "t-old", {"resolved": False})
        changefeed.record(session, "thread", "t-new", {"resolved": True})
    with live.platform.read() as session:
        cursor = session.scalar(select(func.max(Change.seq)))
        assert _seq(session, "t-new") == cursor
    # The author reopens the newest thread: its row is replaced, and must not reuse `cursor`.
    with live.platform.write() as session:
        changefeed.record(session, "thread", "t-new", {"resolved": False})
    with live.platform.read() as session:
        assert _seq(session, "t-new") > cursor
        assert session.scalar(select(func.count()).select_from(Change)) >= 2
