"""FastAPI dependencies shared by the routes: the platform and the signed-in user."""

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
from app.platform.responses import Reply


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


def current_caller(request: Request, user: CurrentUser) -> Caller:
    return Caller(request, user, get_platform(request))


CurrentCaller = Annotated[Caller, Depends(current_caller)]
