"""Timestamps and ids as the API writes them."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """`2026-12-31T23:59:59Z` (seconds precision, always UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id(prefix: str) -> str:
    """Opaque, unguessable ids (`s_3f9a…`): knowing one id tells nothing about another."""
    return f"{prefix}_{secrets.token_hex(8)}"
