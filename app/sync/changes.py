"""The local changes a user can make offline, and how each one is sent to the platform.

For every kind of change there is a `queue_*` function (writes the local effect and the outbox
row in one transaction: the UI shows the change at once, marked pending) and a handler the
outbox calls to send it (`send`), to decide after a 412 (`on_stale`) and to undo the local
effect when the user discards it (`revert`).

Kinds: `submit` (push a package as a new revision, creating the submission if needed),
`withdraw`, `reply` (a comment on a review thread), `resolve` (a thread), `thread` (a new
thread), `review` (a reviewer's verdict).

A handler that makes several requests derives one idempotency key per request from the
entry's key (`<key>:create`, `<key>:revision`), so a replay after a crash re-sends the same
intents and the server answers with what it did the first time.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.errors import UserError
from app.sync.blobcache import BlobCache
from app.sync.client import PlatformClient, expect_field
from app.sync.errors import NotFound, PlatformError, PlatformRejected, StaleVersion
from app.sync.outbox import ConflictDetected, StaleOutcome, SyncConflict
from app.sync.store import LocalStore, OutboxEntry

log = logging.getLogger(__name__)

FINAL_STATES = ("accepted", "rejected", "withdrawn")
BATCH_LIMIT = 1000  # hashes per POST /v1/blobs/batch
UPLOAD_CONCURRENCY = 4  # parallel blob uploads: enough to hide latency, gentle on the server
CARD_FILE = ".gauntlet/card.json"  # the pack card of `gauntlet calibrate`, sent with a submit

UploadProgress = Callable[[int, int], None]  # (blobs uploaded, blobs to upload)


@dataclass(slots=True)
class ChangeContext:
    store: LocalStore
    client: PlatformClient
    blobs: BlobCache
    me: str = "you"  # display name for pending local comments
    on_upload: UploadProgress | None = None
    uploaded_blobs: int = 0  # counter for tests and benchmarks


def _most_telling(errors: tuple[BaseException, ...]) -> BaseException:
    """Of several upload failures, the one that decides what to do: a permanent refusal beats
    a transient one (retrying cannot fix it)."""
    permanent = [e for e in errors if isinstance(e, PlatformError) and not e.transient]
    return (permanent or list(errors))[0]


def problem_type(exc: PlatformRejected) -> str:
    """`urn:gauntlet:problem:submission-exists` -> `submission-exists`."""
    return str(exc.problem.get("type") or "").rsplit(":", 1)[-1]


async def refetch_submission(ctx: ChangeContext, submission_id: str) -> dict[str, Any]:
    """GET the submission and store it (fresh state and ETag)."""
    response = await ctx.client.get(f"/v1/submissions/{submission_id}")
    data = response.data
    expect_field(data, "state", str, f"submission {submission_id}")
    ctx.store.submissions.upsert(data, etag=response.etag)
    return data


def _queue_only(store: LocalStore, kind: str, payload: dict[str, Any]) -> OutboxEntry:
    """Queue a change that has no local effect until the server answers."""
    with store.transaction() as conn:
        return store.outbox.queue(kind, payload, conn=conn)


class _Handler:
    """What the handlers share unless they say otherwise: after a 412 the change is still the
    same intent, so retry it; discarding it leaves nothing local to undo."""

    def __init__(self, ctx: ChangeContext) -> None:
        self.ctx = ctx

    async def on_stale(
        self, entry: OutboxEntry, error: StaleVersion
    ) -> StaleOutcome | SyncConflict:
        return StaleOutcome.RETRY

    def revert(self, entry: OutboxEntry, conn: sqlite3.Connection) -> None:
        pass


# -- submit ---------------------------------------------------------------------------------------


def queue_submit(
    store: LocalStore,
    blobs: BlobCache,
    *,
    bounty_id: str,
    path: str,
    files: dict[str, bytes],
    message: str = "",
    client_report: dict | None = None,
    card: bytes | None = None,
) -> OutboxEntry:
    """Snapshot the package's files (and its pack card, when it has one) and queue their
    upload as one change."""
    from app.envpack.bundle import digest_of

    manifest = {rel: blobs.put(data) for rel, data in files.items()}
    digest = digest_of(manifest)  # of exactly the snapshot that will be uploaded
    with store.transaction() as conn:
        existing = store.submissions.for_bounty(bounty_id)
        draft = store.drafts.add(path, bounty_id)
        conn.execute("UPDATE drafts SET last_digest = ? WHERE id = ?", (digest or None, draft.id))
        payload = {
            "bounty_id": bounty_id,
            "submission_id": existing.id if existing else None,
            "path": path,
            "files": manifest,
            "message": message,
            "client_report": client_report,
            "card": blobs.put(card) if card else None,
            "digest": digest,
        }
        return store.outbox.queue("submit", payload, conn=conn)


class SubmitHandler(_Handler):
    # Discarding leaves nothing local to undo: the draft folder is the user's, blobs go later.

    async def send(self, entry: OutboxEntry) -> None:
        ctx, payload = self.ctx, entry.payload
        files: dict[str, str] = payload["files"]
        if payload.get("card"):  # a blob like the files, named apart from them
            files = {**files, CARD_FILE: payload["card"]}
        await self._upload_missing(sorted(set(files.values())), files)
        submission_id = await self._submission_id(entry)
        submission = ctx.store.submissions.get(submission_id)
        etag = submission.etag if submission else None
        if not etag:
            etag = (await self._refetch(submission_id)).etag
        body = {"files": payload["files"], "message": payload.get("message") or ""}
        if payload.get("client_report"):
            body["client_report"] = payload["client_report"]
        if payload.get("card"):
            body["card"] = payload["card"]
        for attempt in (1, 2):
            try:
                response = await ctx.client.post(
                    f"/v1/submissions/{submission_id}/revisions",
                    body,
                    idempotency_key=f"{entry.idempotency_key}:revision",
                    if_match=etag,
                )
                break
            except PlatformRejected as exc:
                kind = problem_type(exc)
                if kind == "missing-blobs" and attempt == 1:
                    # The server no longer has some blobs (cleaned up meanwhile): send them again.
                    missing = [m for m in exc.problem.get("missing") or [] if isinstance(m, str)]
                    await self._upload(missing, files)
                    continue
                if kind == "invalid-transition":
                    current = await self._refetch(submission_id)
                    raise ConflictDetected(self._conflict(entry, current.data)) from exc
                raise
        revision = response.data
        expect_field(revision, "number", int, "the new revision")
        fresh = await ctx.client.get(f"/v1/submissions/{submission_id}")
        with ctx.store.transaction() as conn:
            ctx.store.submissions.upsert(fresh.data, conn=conn, etag=fresh.etag)
            ctx.store.submissions.upsert_revision(revision, conn=conn)
            ctx.store.outbox.complete(entry.seq, conn)
        self._release_blobs()

    async def on_stale(
        self, entry: OutboxEntry, error: StaleVersion
    ) -> StaleOutcome | SyncConflict:
        submission_id = entry.payload.get("submission_id") or self._known_submission(entry)
        if not submission_id:
            return StaleOutcome.RETRY
        current = await self._refetch(submission_id)
        if current.data.get("state") in FINAL_STATES:
            return self._conflict(entry, current.data)
        # Someone else moved the submission (a reviewer, the server's check): a new revision
        # is still what the author wants, so push it on top of the fresh version.
        return StaleOutcome.RETRY

    # -- steps ------------------------------------------------------------------------------------

    async def _upload_missing(self, shas: list[str], files: dict[str, str]) -> None:
        """Ask which blobs the server lacks and upload only those (resumable by design)."""
        missing: list[str] = []
        for start in range(0, len(shas), BATCH_LIMIT):
            chunk = shas[start : start + BATCH_LIMIT]
            reply = await self.ctx.client.post("/v1/blobs/batch", {"sha256": chunk})
            missing += [
                m
                for m in expect_field(reply.data, "missing", list, "blobs/batch")
                if isinstance(m, str)
            ]
        await self._upload(missing, files)

    async def _upload(self, missing: list[str], files: dict[str, str]) -> None:
        """PUT the blobs, a few at a time; the first failure cancels the rest (what was
        uploaded stays on the server, so the next attempt continues from there)."""
        names = {sha: rel for rel, sha in files.items()}
        slots = asyncio.Semaphore(UPLOAD_CONCURRENCY)
        done = 0

        async def put(sha: str) -> None:
            nonlocal done
            data = await asyncio.to_thread(self.ctx.blobs.read, sha)  # disk + hash off the loop
            if data is None:
                raise PlatformRejected(
                    f"The saved copy of {names.get(sha, sha)} is missing or damaged, so this "
                    "submission cannot be uploaded.",
                    "Discard this queued submission and submit the package again.",
                )
            async with slots:
                await self.ctx.client.request(
                    "PUT",
                    f"/v1/blobs/{sha}",
                    content=data,
                    headers={"Content-Type": "application/octet-stream"},
                )
            done += 1
            self.ctx.uploaded_blobs += 1
            if self.ctx.on_upload:
                self.ctx.on_upload(done, len(missing))

        try:
            async with asyncio.TaskGroup() as group:
                for sha in missing:
                    group.create_task(put(sha))
        except* PlatformError as errors:
            raise _most_telling(errors.exceptions) from None

    async def _submission_id(self, entry: OutboxEntry) -> str:
        known = entry.payload.get("submission_id") or self._known_submission(entry)
        if known:
            return str(known)
        bounty_id = entry.payload["bounty_id"]
        try:
            response = await self.ctx.client.post(
                "/v1/submissions",
                {"bounty_id": bounty_id},
                idempotency_key=f"{entry.idempotency_key}:create",
            )
            data = response.data
            expect_field(data, "id", str, "the new submission")
            self.ctx.store.submissions.upsert(data, etag=response.etag)
            return data["id"]
        except PlatformRejected as exc:
            if problem_type(exc) == "submission-exists" and exc.problem.get("submission_id"):
                submission_id = str(exc.problem["submission_id"])
                await self._refetch(submission_id)
                return submission_id
            raise

    def _known_submission(self, entry: OutboxEntry) -> str | None:
        existing = self.ctx.store.submissions.for_bounty(entry.payload["bounty_id"])
        return existing.id if existing else None

    async def _refetch(self, submission_id: str):
        response = await self.ctx.client.get(f"/v1/submissions/{submission_id}")
        expect_field(response.data, "state", str, f"submission {submission_id}")
        self.ctx.store.submissions.upsert(response.data, etag=response.etag)
        return response

    def _conflict(self, entry: OutboxEntry, server: dict[str, Any]) -> SyncConflict:
        state = server.get("state", "?")
        return SyncConflict(
            entry.seq,
            entry.kind,
            f"Your new version of {entry.payload.get('path') or 'the package'} was not sent: "
            f"the submission is now '{state}' on the platform.",
            "Discard the queued upload, or start a new submission if the bounty is still open.",
            local={"path": entry.payload.get("path"), "files": len(entry.payload["files"])},
            server={"id": server.get("id"), "state": state},
        )

    def _release_blobs(self) -> None:
        needed = {
            sha
            for e in self.ctx.store.outbox.pending()
            if e.kind == "submit"
            for sha in (e.payload.get("files") or {}).values()
        }
        self.ctx.blobs.keep_only(needed)


# -- withdraw -------------------------------------------------------------------------------------


def queue_withdraw(store: LocalStore, submission_id: str, reason: str = "") -> OutboxEntry:
    with store.transaction() as conn:
        if store.submissions.get(submission_id) is None:
            raise NotFound(
                f"There is no submission {submission_id} in your local copy.",
                "Run `gauntlet sync`, then `gauntlet status` to see your submissions.",
            )
        store.submissions.set_local_state(submission_id, "withdrawn", conn)
        return store.outbox.queue(
            "withdraw", {"submission_id": submission_id, "reason": reason}, conn=conn
        )


class WithdrawHandler(_Handler):
    async def send(self, entry: OutboxEntry) -> None:
        sub_id = entry.payload["submission_id"]
        submission = self.ctx.store.submissions.get(sub_id)
        etag = submission.etag if submission else None
        if not etag:
            etag = f'"{(await refetch_submission(self.ctx, sub_id)).get("version")}"'
        try:
            response = await self.ctx.client.post(
                f"/v1/submissions/{sub_id}/transition",
                {"to": "withdrawn", "reason": entry.payload.get("reason") or ""},
                idempotency_key=entry.idempotency_key,
                if_match=etag,
            )
        except PlatformRejected as exc:
            if problem_type(exc) != "invalid-transition":
                raise
            current = await refetch_submission(self.ctx, sub_id)
            if current.get("state") == "withdrawn":
                return self._done(entry)
            raise ConflictDetected(self._conflict(entry, current)) from exc
        with self.ctx.store.transaction() as conn:
            self.ctx.store.submissions.upsert(response.data, conn=conn, etag=response.etag)
            self.ctx.store.submissions.set_local_state(sub_id, None, conn)
            self.ctx.store.outbox.complete(entry.seq, conn)

    async def on_stale(
        self, entry: OutboxEntry, error: StaleVersion
    ) -> StaleOutcome | SyncConflict:
        current = await refetch_submission(self.ctx, entry.payload["submission_id"])
        state = current.get("state")
        if state == "withdrawn":
            self._done(entry)
            return StaleOutcome.DONE
        if state in ("accepted", "rejected"):
            return self._conflict(entry, current)
        return StaleOutcome.RETRY  # it moved (e.g. into review), withdrawing is still allowed

    def revert(self, entry: OutboxEntry, conn: sqlite3.Connection) -> None:
        self.ctx.store.submissions.set_local_state(entry.payload["submission_id"], None, conn)

    def _done(self, entry: OutboxEntry) -> None:
        with self.ctx.store.transaction() as conn:
            self.ctx.store.submissions.set_local_state(entry.payload["submission_id"], None, conn)
            self.ctx.store.outbox.complete(entry.seq, conn)

    def _conflict(self, entry: OutboxEntry, server: dict[str, Any]) -> SyncConflict:
        state = server.get("state", "?")
        return SyncConflict(
            entry.seq,
            entry.kind,
            f"You withdrew submission {server.get('id')}, but meanwhile it was {state}.",
            "Discard the withdrawal to keep the decision, or contact the bounty's lab.",
            local={"want": "withdrawn"},
            server={"id": server.get("id"), "state": state},
        )


# -- replies, resolving, threads, reviews -------------------------------------------------------


def queue_reply(
    store: LocalStore, thread_id: str, body: str, *, parent_id: str | None = None, me: str = "you"
) -> OutboxEntry:
    if not body.strip():
        raise UserError("The reply is empty.", "Write something before sending.")
    with store.transaction() as conn:
        entry = store.outbox.queue(
            "reply", {"thread_id": thread_id, "body": body, "parent_id": parent_id}, conn=conn
        )
        store.reviews.add_pending_comment(
            f"pending:{entry.idempotency_key}", thread_id, body, parent_id, me, conn
        )
        return entry


class ReplyHandler(_Handler):  # comments are append-only: a 412 just means retry
    async def send(self, entry: OutboxEntry) -> None:
        p = entry.payload
        body = {"body": p["body"]}
        if p.get("parent_id"):
            body["parent_id"] = p["parent_id"]
        response = await self.ctx.client.post(
            f"/v1/threads/{p['thread_id']}/comments", body, idempotency_key=entry.idempotency_key
        )
        expect_field(response.data, "id", str, "the new comment")
        with self.ctx.store.transaction() as conn:
            self.ctx.store.reviews.delete_comment(f"pending:{entry.idempotency_key}", conn)
            self.ctx.store.reviews.upsert_comment(
                {**response.data, "thread_id": p["thread_id"]}, conn=conn
            )
            self.ctx.store.outbox.complete(entry.seq, conn)

    def revert(self, entry: OutboxEntry, conn: sqlite3.Connection) -> None:
        self.ctx.store.reviews.delete_comment(f"pending:{entry.idempotency_key}", conn)


def queue_resolve(store: LocalStore, thread_id: str, resolved: bool = True) -> OutboxEntry:
    with store.transaction() as conn:
        store.reviews.set_thread_resolved(thread_id, resolved, conn)
        return store.outbox.queue(
            "resolve", {"thread_id": thread_id, "resolved": resolved}, conn=conn
        )


class ResolveHandler(_Handler):  # resolving is the same intent whatever changed
    async def send(self, entry: OutboxEntry) -> None:
        p = entry.payload
        response = await self.ctx.client.post(
            f"/v1/threads/{p['thread_id']}/resolve",
            {"resolved": bool(p["resolved"])},
            idempotency_key=entry.idempotency_key,
        )
        with self.ctx.store.transaction() as conn:
            if isinstance(response.data, dict) and response.data.get("id"):
                self.ctx.store.reviews.upsert_thread(response.data, conn=conn)
            self.ctx.store.outbox.complete(entry.seq, conn)

    def revert(self, entry: OutboxEntry, conn: sqlite3.Connection) -> None:
        self.ctx.store.reviews.set_thread_resolved(
            entry.payload["thread_id"], not entry.payload["resolved"], conn
        )


def queue_thread(
    store: LocalStore,
    submission_id: str,
    *,
    revision: int,
    body: str,
    path: str | None = None,
    start_line: int | None = None,
    end_line: int | None = None,
    severity: str | None = None,
    suggestion: str | None = None,
    task_id: str | None = None,
) -> OutboxEntry:
    payload = {
        "submission_id": submission_id,
        "revision": revision,
        "path": path,
        "start_line": start_line,
        "end_line": end_line,
        "body": body,
    }
    # Only what was given: a server that predates these fields still takes a plain thread.
    extras = {"severity": severity, "suggestion": suggestion, "task_id": task_id}
    payload.update({k: v for k, v in extras.items() if v is not None})
    return _queue_only(store, "thread", payload)


class ThreadHandler(_Handler):
    async def send(self, entry: OutboxEntry) -> None:
        p = dict(entry.payload)
        sub_id = p.pop("submission_id")
        response = await self.ctx.client.post(
            f"/v1/submissions/{sub_id}/threads", p, idempotency_key=entry.idempotency_key
        )
        expect_field(response.data, "id", str, "the new thread")
        with self.ctx.store.transaction() as conn:
            self.ctx.store.reviews.upsert_thread(response.data, conn=conn)
            self.ctx.store.outbox.complete(entry.seq, conn)


def queue_review(
    store: LocalStore,
    submission_id: str,
    *,
    revision: int,
    verdict: str,
    scores: dict[str, float] | None = None,
    summary: str = "",
) -> OutboxEntry:
    return _queue_only(
        store,
        "review",
        {
            "submission_id": submission_id,
            "revision": revision,
            "verdict": verdict,
            "scores": scores or {},
            "summary": summary,
        },
    )


class ReviewHandler(_Handler):
    async def send(self, entry: OutboxEntry) -> None:
        p = dict(entry.payload)
        sub_id = p.pop("submission_id")
        try:
            response = await self.ctx.client.post(
                f"/v1/submissions/{sub_id}/reviews", p, idempotency_key=entry.idempotency_key
            )
        except PlatformRejected as exc:
            if problem_type(exc) in ("revision-superseded", "invalid-transition"):
                current = await refetch_submission(self.ctx, sub_id)
                # A true conflict: the verdict was about a version the author has replaced.
                raise ConflictDetected(
                    SyncConflict(
                        entry.seq,
                        entry.kind,
                        f"Your verdict '{p['verdict']}' on revision {p['revision']} was not sent: "
                        f"the submission is now at revision {current.get('current_revision')} "
                        f"({current.get('state')}).",
                        "Look at the new revision, then review it again (or discard this verdict).",
                        local={"revision": p["revision"], "verdict": p["verdict"]},
                        server={
                            "revision": current.get("current_revision"),
                            "state": current.get("state"),
                        },
                    )
                ) from exc
            raise
        with self.ctx.store.transaction() as conn:
            self.ctx.store.reviews.upsert(response.data, conn=conn)
            self.ctx.store.outbox.complete(entry.seq, conn)


def handlers_for(ctx: ChangeContext) -> dict[str, Any]:
    return {
        "submit": SubmitHandler(ctx),
        "withdraw": WithdrawHandler(ctx),
        "reply": ReplyHandler(ctx),
        "resolve": ResolveHandler(ctx),
        "thread": ThreadHandler(ctx),
        "review": ReviewHandler(ctx),
    }
