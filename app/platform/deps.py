"""FastAPI dependencies shared by the routes: the platform and the signed-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from app.platform.auth import authenticate
from app.platform.models import User
from app.platform.platform import Platform


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
