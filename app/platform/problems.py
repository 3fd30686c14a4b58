"""Errors as `application/problem+json` (RFC 9457). Every error the API returns goes through
here, so a client can branch on `type` and show `detail` to a person."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("gauntlet.server")

PROBLEM_MEDIA_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    428: "precondition-required",
    429: "rate-limited",
    500: "internal",
    503: "unavailable",
}


class Problem(Exception):
    """Raise from a route: becomes a problem+json response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug or _SLUGS.get(status, "error")
        self.title = title or _TITLES.get(status, "Error")
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {
            "type": f"urn:gauntlet:problem:{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.extra,
        }


def problem_response(problem: Problem) -> JSONResponse:
    return JSONResponse(
        problem.body(),
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def not_found(what: str) -> Problem:
    return Problem(404, f"{what} does not exist or is not visible to you")


def field_error(loc: list[str], msg: str) -> dict[str, str | list[str]]:
    """One entry of a 422's `errors`, shaped like FastAPI's own validation errors."""
    return {"loc": loc, "msg": msg, "type": "value_error"}


def invalid(detail: str, loc: list[str], msg: str) -> Problem:
    """A 422 about one field of the request."""
    return Problem(422, detail, errors=[field_error(loc, msg)])


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_request: Request, exc: Problem):
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError):
        errors = [
            {
                "loc": [str(p) for p in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
            for err in exc.errors()
        ]
        if any(e["type"] == "json_invalid" for e in errors):
            return problem_response(
                Problem(400, "the request body is not valid JSON", errors=errors)
            )
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"][1:] if first["loc"][:1] == ["body"] else first["loc"])
        detail = f"{where}: {first['msg']}" if where else first["msg"]
        return problem_response(Problem(422, detail, errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        detail = (
            exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "error")
        )
        return problem_response(Problem(exc.status_code, detail, headers=dict(exc.headers or {})))

    @app.exception_handler(OperationalError)
    async def _database(_request: Request, exc: OperationalError):
        log.warning("database unavailable: %s", exc)
        return problem_response(
            Problem(
                503,
                "the database is busy or unreachable; retry shortly",
                headers={"Retry-After": "2"},
            )
        )

    @app.exception_handler(Exception)
    async def _crash(_request: Request, exc: Exception):
        log.exception("internal error")
        return problem_response(Problem(500, "internal error; the operator's log has the details"))
