"""Users, roles and bearer tokens. Only the SHA-256 of a token is stored: a copy of the
database does not let anyone sign in."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.platform.clock import new_id, utcnow
from app.platform.models import Token, User
from app.platform.problems import Problem

ROLES = ("author", "reviewer", "lab", "admin")
TOKEN_PREFIX = "gst_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    session: Session, user: User, *, expires_in_days: float | None = None, label: str = ""
) -> str:
    """Create a new token for `user`; the plain token is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        Token(
            user_id=user.id,
            token_sha256=hash_token(token),
            label=label,
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
    )
    return token


def normal_domains(domains: list[str] | tuple[str, ...]) -> list[str]:
    """Domains as bounties store them: stripped, lower-case, each once, in the given order."""
    return list(dict.fromkeys(d.strip().lower() for d in domains if d.strip()))


def create_user(
    session: Session,
    name: str,
    role: str,
    *,
    expires_in_days: float | None = None,
    domains: list[str] | tuple[str, ...] = (),
) -> tuple[User, str]:
    name = name.strip()
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if not name:
        raise ValueError("a user needs a name")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise ValueError(f"a user named {name!r} already exists")
    user = User(
        id=new_id("u"), name=name, role=role, created_at=utcnow(), domains=normal_domains(domains)
    )
    session.add(user)
    session.flush()
    return user, issue_token(
        session, user, expires_in_days=expires_in_days, label="created with the user"
    )


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def authenticate(session: Session, request: Request) -> User:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Problem(
            401,
            "sign in: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("the Authorization header must be 'Bearer <token>'")
    row = session.execute(
        select(Token, User)
        .join(User, User.id == Token.user_id)
        .where(Token.token_sha256 == hash_token(token.strip()))
    ).first()
    if row is None:
        raise _unauthorized("this token is not valid on this platform")
    stored, user = row
    if stored.revoked_at is not None:
        raise _unauthorized("this token was revoked; ask the platform operator for a new one")
    if stored.expires_at is not None and stored.expires_at <= utcnow():
        raise _unauthorized("this token has expired; ask the platform operator for a new one")
    session.expunge(user)
    return user


def require_role(user: User, *roles: str) -> None:
    if user.role not in roles and user.role != "admin":
        raise Problem(
            403, f"this needs the {' or '.join(roles)} role; you are signed in as {user.role}"
        )
