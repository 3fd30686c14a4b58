"""The platform's HTTP client (httpx, async): auth, problem+json errors, ETags, pagination.

Every failure becomes a `PlatformError` subclass with a message for a person and a
`transient` flag the outbox uses to decide between "retry later" and "ask the user".
A garbled reply (cut off, not JSON, a proxy's HTML page) is a clear `GarbledResponse`, never a
traceback.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

import app
from app.sync.errors import (
    Conflict,
    GarbledResponse,
    NotAuthorized,
    NotFound,
    PlatformBusy,
    PlatformError,
    PlatformOffline,
    PlatformRejected,
    StaleVersion,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=60.0, pool=5.0)
_PARSE_IN_THREAD_BYTES = 256 * 1024
# The largest reply read into memory. A full feed page (2000 changes) is a few MiB; a hostile or
# broken server streaming without end must not exhaust the app's memory.
MAX_BODY_BYTES = 64 * 1024 * 1024
# Pages followed by one `paginate` call before giving up: a server that always has a next
# cursor must not keep a sync running forever.
MAX_PAGES = 1000


@dataclass(slots=True)
class _Reply:
    """A reply read within the size cap (what the interpreting code needs of it)."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    reason_phrase: str


@dataclass(slots=True)
class ApiResponse:
    status: int
    data: Any  # parsed JSON (None for 204/304 without cache)
    etag: str | None
    headers: httpx.Headers
    not_modified: bool = False


class PlatformClient:
    """One platform at `base_url`, authenticated with a bearer `token` (may be None)."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_body_bytes = max_body_bytes
        self.max_pages = max_pages
        headers = {"User-Agent": f"gauntlet-studio/{app.__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._options = {
            "base_url": self.base_url,
            "headers": headers,
            "timeout": timeout,
            "transport": transport,
            "follow_redirects": False,
            "verify": _tls_context(),
        }
        self._http: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client(self) -> httpx.AsyncClient:
        """The httpx client of the running event loop (its connections belong to one loop)."""
        loop = asyncio.get_running_loop()
        if self._http is None or self._loop is not loop or self._http.is_closed:
            self._http = httpx.AsyncClient(**self._options)
            self._loop = loop
        return self._http

    async def aclose(self) -> None:
        if self._http is not None and self._loop is asyncio.get_running_loop():
            await self._http.aclose()
        self._http = None

    async def __aenter__(self) -> PlatformClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the one request path -----------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        idempotency_key: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> ApiResponse:
        hdrs = dict(headers or {})
        if idempotency_key:
            hdrs["Idempotency-Key"] = idempotency_key
        if if_match:
            hdrs["If-Match"] = if_match
        if if_none_match:
            hdrs["If-None-Match"] = if_none_match
        what = f"{method} {path}"
        response = await self._send(
            method, path, params=_clean(params), json=json_body, content=content, headers=hdrs
        )
        if 200 <= response.status_code < 300 and len(response.content) > _PARSE_IN_THREAD_BYTES:
            # A big page (thousands of bounties) is parsed off the event loop: a GUI sharing
            # the loop keeps painting.
            data = await asyncio.to_thread(self._json, response, what)
            return ApiResponse(
                response.status_code, data, response.headers.get("ETag"), response.headers
            )
        return self._interpret(response, what)

    async def get_bytes(self, path: str) -> bytes:
        """The raw body of a GET (a blob), read within the same cap as every reply."""
        response = await self._send("GET", path)
        if not 200 <= response.status_code < 300:
            raise self._error(response, f"GET {path}")
        return response.content

    async def _send(self, method: str, path: str, **kwargs: Any) -> _Reply:
        """One request, its reply read within the cap; a network failure is PlatformOffline."""
        what = f"{method} {path}"
        try:
            return await self._read_capped(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise PlatformOffline(
                f"The platform at {self.base_url} did not answer in time ({what}).",
                "Check your connection; your work is kept and will be sent when it answers.",
            ) from exc
        except (httpx.ConnectError, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise PlatformOffline(
                f"Cannot reach the platform at {self.base_url}.",
                "You are offline or the server is down; your work is kept and will be sent "
                "when it is reachable.",
            ) from exc
        except httpx.HTTPError as exc:
            raise PlatformOffline(
                f"Talking to {self.base_url} failed: {exc}.", "Try again later."
            ) from exc

    async def _read_capped(self, method: str, path: str, **kwargs: Any) -> _Reply:
        """Send the request and read the reply, refusing one larger than `max_body_bytes`."""
        client = self._client()
        request = client.build_request(method, path, **kwargs)
        response = await client.send(request, stream=True)
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > self.max_body_bytes:
                raise self._too_big(f"{method} {path}", int(declared))
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self.max_body_bytes:
                    raise self._too_big(f"{method} {path}", len(body))
        finally:
            await response.aclose()
        return _Reply(response.status_code, response.headers, bytes(body), response.reason_phrase)

    def _too_big(self, what: str, size: int) -> GarbledResponse:
        return GarbledResponse(
            f"The platform's reply to {what} is too large (over {size:,} bytes; the limit is "
            f"{self.max_body_bytes:,}).",
            "The server is misbehaving or is not a Gauntlet platform; nothing was changed "
            "locally. Report this to the platform's administrator.",
        )

    def _interpret(self, response: _Reply, what: str) -> ApiResponse:
        status = response.status_code
        etag = response.headers.get("ETag")
        if status == 304:
            return ApiResponse(status, None, etag, response.headers, not_modified=True)
        if 200 <= status < 300:
            if status == 204 or not response.content:
                return ApiResponse(status, None, etag, response.headers)
            return ApiResponse(status, self._json(response, what), etag, response.headers)
        raise self._error(response, what)

    def _json(self, response: _Reply, what: str) -> Any:
        ctype = response.headers.get("Content-Type", "")
        try:
            if "json" not in ctype:
                raise ValueError(f"content type {ctype or 'missing'}")
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            snippet = response.content[:80].decode("utf-8", "replace").strip()
            raise GarbledResponse(
                f"The platform sent a reply that is not valid data ({what}: {exc}; it starts "
                f"with {snippet!r}).",
                "A proxy or captive portal may be in the way, or the server is misconfigured. "
                "Nothing was lost; sync will try again.",
                status=response.status_code,
            ) from exc

    def _error(self, response: _Reply, what: str) -> PlatformError:
        status = response.status_code
        problem = _problem(response)
        detail = problem.get("detail") or problem.get("title") or response.reason_phrase or ""
        detail = str(detail).rstrip(".")
        kwargs = {"status": status, "problem": problem}
        if status == 429 or status >= 500:
            retry_after = _retry_after(response)
            return PlatformBusy(
                f"The platform is having trouble ({status} {detail}).",
                "This is temporary; your change stays queued and will be retried.",
                retry_after=retry_after,
                **kwargs,
            )
        if 400 <= status < 500:
            return _refusal(status, problem, detail, what, kwargs)
        return GarbledResponse(
            f"The platform answered with an unexpected status {status} ({what}).",
            "Try again later.",
            **kwargs,
        )

    # -- conveniences ----------------------------------------------------------------------------

    async def get(
        self, path: str, *, params: dict[str, Any] | None = None, etag: str | None = None
    ) -> ApiResponse:
        return await self.request("GET", path, params=params, if_none_match=etag)

    async def post(
        self,
        path: str,
        body: Any = None,
        *,
        idempotency_key: str | None = None,
        if_match: str | None = None,
    ) -> ApiResponse:
        return await self.request(
            "POST", path, json_body=body, idempotency_key=idempotency_key, if_match=if_match
        )

    async def paginate(
        self,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        items_key: str = "items",
        cursor_param: str = "cursor",
        next_key: str = "next_cursor",
    ) -> AsyncIterator[list[Any]]:
        """Yield each page's items, following the server's cursor until it runs out."""
        query = dict(params or {})
        seen: set[str] = set()
        for _ in range(self.max_pages):
            page = (await self.get(path, params=query)).data
            items = _expect(page, items_key, list, path)
            yield items
            cursor = page.get(next_key)
            if not cursor:
                return
            if cursor in seen:  # a server bug must not make us loop forever
                raise GarbledResponse(
                    f"The platform repeated a page cursor on {path}.",
                    "Report this to the platform's administrator.",
                )
            seen.add(cursor)
            query[cursor_param] = cursor
        raise GarbledResponse(
            f"The platform's list at {path} did not end after {self.max_pages} pages.",
            "The server is misbehaving; report this to the platform's administrator.",
        )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every client: building one (loading CA certificates) costs more than
    a whole unchanged re-sync, and the client is re-created per event loop."""
    try:
        import certifi  # what httpx uses by default: the same CAs on every OS and in bundles
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _clean(params: dict[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None and v != "" and v != []}


def _problem(response: _Reply) -> dict[str, Any]:
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    if "detail" in data and isinstance(data["detail"], list):  # FastAPI validation shape
        return {
            "title": "invalid request",
            "errors": data["detail"],
            "detail": "the request was not valid",
        }
    return data


def _refusal(
    status: int, problem: dict[str, Any], detail: str, what: str, kwargs: dict[str, Any]
) -> PlatformError:
    """The error for a 4xx answer other than 429 (too many requests: the platform is busy)."""
    if status == 401:
        return NotAuthorized(
            f"The platform did not accept your token ({detail}).",
            "Log in again: `gauntlet login --server URL` or Settings → Platform.",
            **kwargs,
        )
    if status == 403:
        return NotAuthorized(
            f"You are not allowed to do this: {detail}.",
            "Ask the platform's administrator for access.",
            **kwargs,
        )
    if status == 404:
        return NotFound(
            f"Not found on the platform: {detail} ({what}).",
            "It may have been removed; sync to refresh your list.",
            **kwargs,
        )
    if status == 412:
        return StaleVersion(
            f"Someone changed this on the platform since you last synced ({detail}).",
            "Sync to get the latest version, then try again.",
            **kwargs,
        )
    if status == 409 and str(problem.get("type", "")).endswith("idempotency-key-in-use"):
        return PlatformBusy(
            "The platform is still working on this change from an earlier attempt.",
            "It will be checked again shortly; nothing to do.",
            retry_after=1.0,
            **kwargs,
        )
    if status == 409:
        return Conflict(
            f"The platform refused the change: {detail}.",
            "Sync to see the current state.",
            **kwargs,
        )
    errors = problem.get("errors")
    extra = ""
    if isinstance(errors, list) and errors:
        extra = "; " + "; ".join(_describe_error(e) for e in errors[:5])
    return PlatformRejected(
        f"The platform refused the request: {detail}{extra}.",
        "Fix the problem named above and try again.",
        **kwargs,
    )


def _describe_error(error: Any) -> str:
    if isinstance(error, dict):
        where = error.get("loc") or error.get("pointer") or error.get("field")
        if isinstance(where, list):
            where = ".".join(str(p) for p in where)
        message = error.get("msg") or error.get("message") or error.get("detail") or ""
        return f"{where}: {message}" if where else str(message)
    return str(error)


def _retry_after(response: _Reply) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _expect(data: Any, key: str, kind: type, what: str) -> Any:
    """`data[key]` of type `kind`, or a GarbledResponse naming what was missing."""
    if not isinstance(data, dict) or not isinstance(data.get(key), kind):
        raise GarbledResponse(
            f"The platform's reply to {what} is missing '{key}'.",
            "The server may be a different version than this app; update one of them.",
        )
    return data[key]


expect_field = _expect

__all__ = [
    "ApiResponse",
    "PlatformClient",
    "PlatformError",
    "PlatformOffline",
    "PlatformBusy",
    "GarbledResponse",
    "NotAuthorized",
    "PlatformRejected",
    "NotFound",
    "StaleVersion",
    "Conflict",
    "expect_field",
]
