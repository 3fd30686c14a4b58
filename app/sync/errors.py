"""What can go wrong talking to the platform, in words an author understands.

Every error says whether it is *transient* (worth retrying later: offline, timeouts, 5xx, a
garbled reply from a proxy) or *permanent* (the server refused this request: fix it first).
"""

from __future__ import annotations

from typing import Any

from app.errors import UserError


class PlatformError(UserError):
    transient = False

    def __init__(
        self,
        message: str,
        hint: str = "",
        *,
        where: str | None = None,
        status: int | None = None,
        problem: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, hint, where=where)
        self.status = status
        self.problem = problem or {}


class PlatformOffline(PlatformError):
    """The platform could not be reached (no network, server down, timed out)."""

    transient = True


class PlatformBusy(PlatformError):
    """The platform answered 5xx or 429: try again later."""

    transient = True

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class GarbledResponse(PlatformError):
    """The reply was not what the platform sends (cut off, not JSON, a proxy's error page)."""

    transient = True


class NotAuthorized(PlatformError):
    """401/403: the token is missing, wrong, expired, or lacks the right."""


class PlatformRejected(PlatformError):
    """4xx: the server refused the request itself; retrying the same thing will not help."""


class NotFound(PlatformRejected):
    pass


class StaleVersion(PlatformRejected):
    """412: someone changed the object since we read it (If-Match failed)."""


class Conflict(PlatformRejected):
    """409: the change contradicts the object's current state."""
