"""FastAPI dependencies shared by the routes: the platform, the signed-in user, and the two with
the request as one `Caller`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import HTTPBearer
from sqlalchemy.orm import Session

from app.platform.auth import authenticate
from app.platform.idempotency import run_idempotent
from app.platform.models import User
from app.platform.platform import Platform
from app.platform.responses import Reply, json_read, version_etag


def get_platform(request: Request) -> Platform:
    return request.app.state.platform


# Declares the bearer scheme in /openapi.json; the check itself is app.platform.auth.authenticate,
# which answers problem+json (auto_error=False keeps FastAPI's own 403 out of the way).
bearer_scheme = HTTPBearer(
    auto_error=False, description="Authorization: Bearer <token> (see docs/api.md)"
)


def current_user(request: Request, _declared=Depends(bearer_scheme)) -> User:
    with request.app.state.platform.read() as session:
        return authenticate(session, request)


# What a route asks for, as one annotation each, so that route signatures stay one line.
CurrentUser = Annotated[User, Depends(current_user)]
CurrentPlatform = Annotated[Platform, Depends(get_platform)]


@dataclass(frozen=True, slots=True)
class Caller:
    """The request, the signed-in user who sent it and the platform it reaches: what most
    routes need together, as one parameter (it adds nothing to /openapi.json but the bearer
    scheme that CurrentUser declares)."""

    request: Request
    user: User
    platform: Platform

    def run_idempotent(self, body: Any, action: Callable[[Session], Reply]) -> Response:
        """`action` in one write transaction, honouring the request's Idempotency-Key."""
        return run_idempotent(self.platform, self.request, self.user, body, action)

    def read_one(
        self,
        find: Callable[[Session, User, str], Any],
        view: Callable[[Session, Any], dict[str, Any]],
        key: str,
    ) -> Response:
        """A GET of one versioned row: `find(session, user, key)` (it raises 404 for what the
        user may not see), answered as `view(session, row)` with the row's version as ETag."""
        with self.platform.read() as session:
            row = find(session, self.user, key)
            return json_read(self.request, view(session, row), etag=version_etag(row.version))


def current_caller(request: Request, user: CurrentUser) -> Caller:
    return Caller(request, user, get_platform(request))


CurrentCaller = Annotated[Caller, Depends(current_caller)]
