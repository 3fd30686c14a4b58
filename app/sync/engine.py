"""Sync: send the outbox, then pull the change feed into the local store.

`SyncEngine.sync()` never raises for being offline: the state becomes *offline* with a quiet
message and everything stays queued. Errors the user must act on (a refused token, a garbled
reply, a conflict) set the state to *error* with a human message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.errors import UserError
from app.sync import changes
from app.sync.blobcache import BlobCache
from app.sync.changes import ChangeContext, UploadProgress
from app.sync.client import PlatformClient
from app.sync.errors import GarbledResponse, NotAuthorized, PlatformError, PlatformOffline
from app.sync.outbox import FlushOutcome, Outbox, RetryPolicy, SyncConflict
from app.sync.state import SyncPhase, SyncState, SyncStatus
from app.sync.store import LocalStore, OutboxEntry

log = logging.getLogger(__name__)

FEED_PAGE = 2000  # the server's maximum page of the change feed
# Feed pages one pull follows (2 million changes): a server that always says `has_more` must
# not keep a sync running forever.
MAX_FEED_PAGES = 1000
_INLINE_APPLY_LIMIT = 50  # smaller pages are written on the loop's thread (cheaper than a hop)
ENTITIES = {"bounty", "submission", "revision", "thread", "comment", "review"}


@dataclass(slots=True)
class SyncResult:
    sent: int = 0  # local changes the platform accepted
    pulled: int = 0  # changes applied from the feed
    pending: int = 0  # local changes still waiting
    conflicts: list[SyncConflict] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    state: SyncState = field(default_factory=SyncState)


class SyncEngine:
    def __init__(
        self,
        store: LocalStore,
        client: PlatformClient,
        *,
        blobs: BlobCache | None = None,
        status: SyncStatus | None = None,
        policy: RetryPolicy | None = None,
        me: str = "you",
        on_upload: UploadProgress | None = None,
        sleep: Callable[[float], Any] | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.max_feed_pages = MAX_FEED_PAGES
        self.blobs = blobs or BlobCache(store.path.parent / "blobs")
        self.status = status or SyncStatus()
        self.ctx = ChangeContext(store, client, self.blobs, me=me, on_upload=on_upload)
        kwargs = {"sleep": sleep} if sleep else {}
        self.outbox = Outbox(store, changes.handlers_for(self.ctx), policy=policy, **kwargs)
        self._refresh_counts()

    # -- the sync loop ----------------------------------------------------------------------------

    async def sync(self, *, force: bool = True, pull: bool = True) -> SyncResult:
        """Send queued changes, then pull what changed on the platform."""
        result = SyncResult()
        self.status.update(phase=SyncPhase.SYNCING, message="Syncing…", hint="")
        try:
            outcome = await self.outbox.flush(force=force)
            self._note_outcome(result, outcome)
            if outcome.stopped_by is not None and not outcome.waiting:
                raise outcome.stopped_by
            if pull:
                if self.store.get_meta("me_id") is None:  # once: who we are, for offline use
                    await self.who_am_i()
                result.pulled = await self.pull()
        except PlatformError as exc:
            result.state = self._after_error(exc)
            result.pending = result.state.pending
            return result
        now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        counts = self._counts()
        message = "Up to date." if not counts[1] else "Some changes need your attention."
        phase = SyncPhase.ONLINE if not counts[1] else SyncPhase.ERROR
        result.state = self.status.update(
            phase=phase,
            message=message,
            hint="",
            pending=counts[0],
            needs_attention=counts[1],
            last_synced_at=now,
        )
        result.pending = counts[0]
        return result

    async def run_periodically(self, stop: asyncio.Event, *, every_s: float = 60.0) -> None:
        """Background sync for the app: now, then every `every_s` seconds (sooner when a queued
        change's backoff ends), until `stop` is set. Never raises for network trouble."""
        while not stop.is_set():
            try:
                await self.sync(force=False)
            except Exception:  # a bug must not kill background sync silently
                log.exception("background sync failed")
                self.status.update(
                    phase=SyncPhase.ERROR,
                    message="Sync failed unexpectedly.",
                    hint="Details are in the log; use Sync to try again.",
                )
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._next_wait(every_s))

    def _next_wait(self, every_s: float) -> float:
        due = [e.next_attempt_at for e in self.store.outbox.pending(include_parked=False)]
        if not due:
            return every_s
        return max(1.0, min(every_s, min(due) - time.time()))

    async def pull(self) -> int:
        """Apply the change feed from the stored cursor until it has no more; returns the count.

        The next page is fetched while the current one is written (in a worker thread, so an
        event loop shared with a GUI never stalls on SQLite), and the cursor moves only with
        the page it belongs to.
        """
        applied = 0
        pages = 0
        cursor = self.store.cursor
        fetch = asyncio.ensure_future(self._fetch_feed(cursor))
        try:
            while True:
                feed = await fetch
                fetch = None
                pages += 1
                if feed["has_more"] and pages >= self.max_feed_pages:
                    raise GarbledResponse(
                        f"The platform's change feed did not end after {pages} pages.",
                        "What arrived so far is kept; the server is misbehaving, report this "
                        "to the platform's administrator.",
                    )
                if feed["has_more"]:
                    if feed["next_cursor"] == cursor and not feed["changes"]:
                        raise GarbledResponse(
                            "The platform's change feed did not move forward.",
                            "Report this to the platform's administrator.",
                        )
                    fetch = asyncio.ensure_future(self._fetch_feed(feed["next_cursor"]))
                if feed["changes"] or feed["next_cursor"] != cursor:
                    if len(feed["changes"]) < _INLINE_APPLY_LIMIT:
                        applied += self.store.apply_changes(feed["changes"], feed["next_cursor"])
                    else:
                        applied += await asyncio.to_thread(
                            self.store.apply_changes, feed["changes"], feed["next_cursor"]
                        )
                cursor = feed["next_cursor"]
                if fetch is None:
                    return applied
        finally:
            if fetch is not None and not fetch.done():
                fetch.cancel()
                with contextlib.suppress(BaseException):
                    await fetch

    async def _fetch_feed(self, cursor: str | None) -> dict[str, Any]:
        params = {"limit": FEED_PAGE, **({"cursor": cursor} if cursor else {})}
        response = await self.client.get("/v1/changes", params=params)
        return _validated_feed(response.data)

    # -- local changes (written at once, sent on the next sync) -----------------------------------

    def queue_submit(
        self,
        root: str | Path,
        bounty_id: str,
        *,
        message: str = "",
        client_report: dict | None = None,
    ) -> OutboxEntry:
        """Snapshot the package at `root` and queue it for upload as a new revision."""
        files = read_package_files(root)
        card = read_pack_card(root)
        entry = changes.queue_submit(
            self.store,
            self.blobs,
            bounty_id=bounty_id,
            path=str(Path(root).resolve()),
            files=files,
            message=message,
            client_report=client_report,
            card=card,
        )
        self._refresh_counts()
        return entry

    def queue_withdraw(self, submission_id: str, reason: str = "") -> OutboxEntry:
        entry = changes.queue_withdraw(self.store, submission_id, reason)
        self._refresh_counts()
        return entry

    def queue_reply(
        self, thread_id: str, body: str, *, parent_id: str | None = None
    ) -> OutboxEntry:
        entry = changes.queue_reply(
            self.store, thread_id, body, parent_id=parent_id, me=self.ctx.me
        )
        self._refresh_counts()
        return entry

    def queue_resolve(self, thread_id: str, resolved: bool = True) -> OutboxEntry:
        entry = changes.queue_resolve(self.store, thread_id, resolved)
        self._refresh_counts()
        return entry

    def queue_thread(self, submission_id: str, **fields: Any) -> OutboxEntry:
        entry = changes.queue_thread(self.store, submission_id, **fields)
        self._refresh_counts()
        return entry

    def queue_review(self, submission_id: str, **fields: Any) -> OutboxEntry:
        entry = changes.queue_review(self.store, submission_id, **fields)
        self._refresh_counts()
        return entry

    def discard(self, seq: int) -> None:
        """Drop a queued or set-aside change and undo its local effect."""
        self.outbox.discard(seq)
        self._refresh_counts()

    def retry(self, seq: int) -> None:
        self.outbox.retry(seq)
        self._refresh_counts()

    # -- reading single things fresh (ETag-aware) ---------------------------------------------

    async def refresh_bounty(self, bounty_id: str) -> bool:
        """Re-read one bounty with If-None-Match; True when it had changed."""
        path = f"/v1/bounties/{bounty_id}"
        cached = self.store.cached_response(path)
        response = await self.client.get(path, etag=cached[0] if cached else None)
        if response.not_modified:
            return False
        if not isinstance(response.data, dict) or not isinstance(response.data.get("id"), str):
            raise GarbledResponse(
                f"The platform's reply for bounty {bounty_id} has no id.",
                "The server may be a different version than this app.",
            )
        self.store.bounties.upsert([response.data])
        if response.etag:
            self.store.cache_response(path, response.etag, {"id": bounty_id})
        return True

    async def who_am_i(self) -> dict[str, Any]:
        data = (await self.client.get("/v1/me")).data
        if not isinstance(data, dict) or "role" not in data:
            raise GarbledResponse(
                "The platform's reply to /v1/me has no role.",
                "The server may be a different version than this app.",
            )
        self.store.set_meta("me", data.get("name") or data.get("id") or "you")
        self.store.set_meta("me_id", str(data.get("id") or ""))
        self.ctx.me = str(data.get("name") or "you")
        return data

    # -- status bookkeeping ---------------------------------------------------------------------

    def _counts(self) -> tuple[int, int]:
        entries = self.store.outbox.pending()
        waiting = sum(1 for e in entries if e.state == "pending")
        return waiting, len(entries) - waiting

    def _refresh_counts(self) -> None:
        waiting, attention = self._counts()
        self.status.update(pending=waiting, needs_attention=attention)

    def _note_outcome(self, result: SyncResult, outcome: FlushOutcome) -> None:
        result.sent = outcome.sent
        result.conflicts = outcome.conflicts
        result.failed = outcome.failed

    def _after_error(self, exc: PlatformError) -> SyncState:
        waiting, attention = self._counts()
        if isinstance(exc, NotAuthorized):
            phase = SyncPhase.ERROR
        elif isinstance(exc, PlatformOffline):
            phase = SyncPhase.OFFLINE  # quiet: nothing is wrong, we just cannot reach it
        else:
            phase = SyncPhase.ERROR
        return self.status.update(
            phase=phase,
            message=exc.message,
            hint=exc.hint,
            pending=waiting,
            needs_attention=attention,
        )


def _validated_feed(page: Any) -> dict[str, Any]:
    """The feed page, or a GarbledResponse saying what is wrong with it."""

    def garbled(what: str) -> GarbledResponse:
        return GarbledResponse(
            f"The platform's change feed is malformed: {what}.",
            "Nothing was changed locally; sync will try again later. If it "
            "persists, the server may be a different version than this app.",
        )

    if not isinstance(page, dict):
        raise garbled("the reply is not an object")
    items, cursor = page.get("changes"), page.get("next_cursor")
    if not isinstance(items, list):
        raise garbled("'changes' is missing")
    if not isinstance(cursor, str | int) or isinstance(cursor, bool):
        raise garbled("'next_cursor' is missing")
    for index, change in enumerate(items):
        if not isinstance(change, dict) or change.get("op") not in ("upsert", "delete"):
            raise garbled(f"change #{index + 1} has no valid 'op'")
        if change.get("entity") not in ENTITIES:
            continue  # a newer server's entity: ignored by apply_changes
        if change["op"] == "upsert":
            data = change.get("data")
            if not isinstance(data, dict):
                raise garbled(f"change #{index + 1} has no data")
            required = ("submission_id", "number") if change["entity"] == "revision" else ("id",)
            for key in required:
                if data.get(key) is None:
                    raise garbled(f"change #{index + 1} ({change['entity']}) has no '{key}'")
        elif change.get("id") is None:
            raise garbled(f"change #{index + 1} deletes nothing")
    return {"changes": items, "next_cursor": str(cursor), "has_more": bool(page.get("has_more"))}


def read_package_files(root: str | Path) -> dict[str, bytes]:
    """The package's files (as the bundle defines them: relpath -> bytes), read once."""
    from app.envpack.bundle import file_manifest

    root = Path(root)
    if not root.is_dir():
        raise UserError(
            f"{root} is not a folder.", "Give the path of an env pack folder.", where=str(root)
        )
    files: dict[str, bytes] = {}
    for rel in file_manifest(root):
        try:
            files[rel] = (root / rel).read_bytes()
        except OSError as exc:
            raise UserError(
                f"Cannot read {rel}: {exc.strerror}.",
                "Check the file's permissions and try again.",
                where=str(root / rel),
            ) from exc
    return files


def read_pack_card(root: str | Path) -> bytes | None:
    """The package's pack card (.gauntlet/card.json from `gauntlet calibrate`) to send with a
    submit, or None when it has none. A card that is no card (damaged, another schema) stays
    home with a warning in the log: the platform would refuse the whole submission for it."""
    from app.calibrate.card_data import CardFileError, load_card

    path = Path(root) / changes.CARD_FILE
    if not path.is_file():
        return None
    try:
        load_card(path)
        return path.read_bytes()
    except (CardFileError, OSError) as exc:
        log.warning("not sending the pack card %s: %s", path, exc)
        return None
