"""The local SQLite store: what the app knows about the platform, readable offline.

One file per platform (`data_dir()/sync/<platform key>.sqlite`), WAL mode so the UI can read
while a sync writes. Thread-safe: each thread gets its own connection; writes are serialized
by a lock and run in one transaction each (`BEGIN IMMEDIATE`).

Every local change that must reach the server (a withdrawal, a reply, a submission) is written
together with its outbox row in the same transaction (`queue_change`), so a crash can never
leave one without the other.

Read API for the UI: `list_bounties(BountyFilter)`, `count_bounties`, `bounty_domains`,
`bounty_tags`, `get_bounty`, `drafts`, `submissions`, `get_submission`, `revisions`,
`report_for`, `reviews_for`, `threads_for`, `comments_for`, `pending_changes`.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from app.errors import UserError
from app.sync.migrations import MIGRATIONS

_BUSY_TIMEOUT_MS = 10_000

BOUNTY_SORTS = {
    "deadline": "deadline IS NULL, deadline, id",
    "-deadline": "deadline IS NULL, deadline DESC, id",
    "reward": "reward, id",
    "-reward": "reward DESC, id",
    "title": "title COLLATE NOCASE, id",
    "updated": "updated_at DESC, id",
}


# -- what the read API returns ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BountyFilter:
    """What the bounty browser asks for. Empty fields do not filter."""

    text: str = ""  # every word must appear in title, summary, domain or tags
    domains: Sequence[str] = ()
    tag: str = ""
    statuses: Sequence[str] = ()
    min_reward: float | None = None
    max_reward: float | None = None
    deadline_after: str | None = None  # ISO date or datetime, inclusive
    deadline_before: str | None = None
    env_kind: str = ""
    sort: str = "deadline"  # one of BOUNTY_SORTS
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class BountyRow:
    """One line of the bounty table (no brief: that comes with `get_bounty`)."""

    id: str
    title: str
    domain: str
    status: str
    reward: float
    currency: str
    deadline: str | None
    env_kind: str
    summary: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Bounty:
    """A bounty in full: the row plus the brief (markdown), rubric and constraints."""

    row: BountyRow
    brief: str
    rubric: Any
    constraints: Any
    detail: dict[str, Any]

    def __getattr__(self, name: str) -> Any:  # bounty.title etc. read through to the row
        return getattr(self.row, name)


@dataclass(frozen=True, slots=True)
class Draft:
    id: int
    path: str
    bounty_id: str | None
    title: str
    created_at: str
    updated_at: str
    last_digest: str | None


@dataclass(frozen=True, slots=True)
class Submission:
    id: str  # the server's id, or "pending:<key>" for a submission not yet sent
    bounty_id: str
    author: str
    state: str  # what the user should see (a queued change shows its intended state)
    server_state: str  # what the server last said ("" when not sent yet)
    pending: bool  # a local change to it is waiting in the outbox
    etag: str | None
    latest_revision: int | None
    created_at: str | None
    updated_at: str | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Revision:
    id: str
    submission_id: str
    number: int
    check_state: str
    created_at: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Review:
    id: str
    submission_id: str
    revision_id: str | None
    reviewer: str
    verdict: str | None
    created_at: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Comment:
    id: str
    thread_id: str
    parent_id: str | None
    author: str
    body: str
    created_at: str | None
    pending: bool  # written offline, not yet on the server


@dataclass(frozen=True, slots=True)
class Thread:
    id: str
    submission_id: str
    revision_id: str | None
    file: str
    start_line: int | None
    end_line: int | None
    anchor_state: str  # current | moved | outdated
    resolved: bool
    author: str
    created_at: str | None
    data: dict[str, Any]
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    seq: int
    kind: str
    payload: dict[str, Any]
    idempotency_key: str
    state: str  # pending | conflict | failed
    attempts: int
    next_attempt_at: float
    last_error: str | None
    created_at: str


# -- the store -------------------------------------------------------------------------------


class StoreCorrupt(UserError):
    pass


class LocalStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._closed = False
        self._migrate()

    # -- connections and transactions --------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("the local store is closed")
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(
                    self.path,
                    timeout=_BUSY_TIMEOUT_MS / 1000,
                    isolation_level=None,
                    check_same_thread=False,
                )
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA cache_size=-16000")  # 16 MB: the bounty table stays hot
            except sqlite3.DatabaseError as exc:
                raise self._corrupt(exc) from exc
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    def _corrupt(self, exc: Exception) -> StoreCorrupt:
        return StoreCorrupt(
            f"The local sync store cannot be read ({exc}).",
            "Quit the app, move the file away and sync again: everything on the platform "
            "will be downloaded again (queued changes in that file would be lost).",
            where=str(self.path),
        )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; serialized across threads, `BEGIN IMMEDIATE` across processes."""
        conn = self._connection()
        with self._write_lock:
            if conn.in_transaction:  # nested: join the outer transaction
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        conn = self._connection()
        cursor = conn.execute(sql, params)
        cursor.row_factory = sqlite3.Row
        return cursor.fetchall()

    def close(self) -> None:
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._closed = True

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        conn = self._connection()
        try:
            with self.transaction():
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > len(MIGRATIONS):
                    raise UserError(
                        "The local sync store was written by a newer version of Gauntlet Studio.",
                        "Update the app, or move the file away to start a fresh store.",
                        where=str(self.path),
                    )
                for number in range(version, len(MIGRATIONS)):
                    for statement in _split_sql(MIGRATIONS[number]):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version={number + 1}")
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from exc

    @property
    def schema_version(self) -> int:
        return self._connection().execute("PRAGMA user_version").fetchone()[0]

    # -- meta: sync cursor and small settings --------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else default

    def set_meta(self, key: str, value: str | None, conn: sqlite3.Connection | None = None) -> None:
        with self.transaction() if conn is None else contextlib.nullcontext(conn) as c:
            if value is None:
                c.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                c.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    @property
    def cursor(self) -> str | None:
        """Where the change feed left off (None before the first sync)."""
        return self.get_meta("sync.cursor")

    # -- ETags ---------------------------------------------------------------------------------

    def cached_response(self, url: str) -> tuple[str, Any] | None:
        rows = self._read("SELECT etag, body FROM etags WHERE url = ?", (url,))
        return (rows[0]["etag"], json.loads(rows[0]["body"])) if rows else None

    def cache_response(self, url: str, etag: str, body: Any) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO etags (url, etag, body) VALUES (?, ?, ?) ON CONFLICT (url) "
                "DO UPDATE SET etag = excluded.etag, body = excluded.body",
                (url, etag, json.dumps(body)),
            )

    # -- bounties ------------------------------------------------------------------------------

    def upsert_bounties(
        self, bounties: Iterable[dict[str, Any]], conn: sqlite3.Connection | None = None
    ) -> int:
        """Insert or replace bounties given as server objects; returns how many."""
        rows = [
            _bounty_columns(b) for b in bounties if isinstance(b, dict) and b.get("id") is not None
        ]
        if not rows:
            return 0
        with self.transaction() if conn is None else contextlib.nullcontext(conn) as c:
            c.executemany(
                "INSERT INTO bounties (id, title, domain, status, reward, currency, deadline, "
                "env_kind, summary, tags, search_text, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "title = excluded.title, domain = excluded.domain, status = excluded.status, "
                "reward = excluded.reward, currency = excluded.currency, "
                "deadline = excluded.deadline, env_kind = excluded.env_kind, "
                "summary = excluded.summary, tags = excluded.tags, "
                "search_text = excluded.search_text, updated_at = excluded.updated_at",
                [r[:11] + r[13:] for r in rows],
            )
            c.executemany(
                "INSERT INTO bounty_details (id, brief, detail) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET brief = excluded.brief, detail = excluded.detail",
                [(r[0], r[11], r[12]) for r in rows],
            )
        return len(rows)

    def delete_bounties(self, ids: Iterable[str], conn: sqlite3.Connection | None = None) -> None:
        with self.transaction() if conn is None else contextlib.nullcontext(conn) as c:
            c.executemany("DELETE FROM bounties WHERE id = ?", [(i,) for i in ids])

    def list_bounties(self, filters: BountyFilter | None = None) -> list[BountyRow]:
        """Bounties matching `filters`, sorted; fast enough to call on every keystroke."""
        filters = filters or BountyFilter()
        where, params = _bounty_where(filters)
        order = BOUNTY_SORTS.get(filters.sort)
        if order is None:
            raise ValueError(f"unknown sort {filters.sort!r}; choose one of {sorted(BOUNTY_SORTS)}")
        sql = (
            "SELECT id, title, domain, status, reward, currency, deadline, env_kind, summary, tags "
            f"FROM bounties {where} ORDER BY {order}"
        )
        if filters.limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [filters.limit, filters.offset]
        cursor = self._connection().execute(sql, params)
        return [
            BountyRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], _split_tags(r[9]))
            for r in cursor
        ]

    def count_bounties(self, filters: BountyFilter | None = None) -> int:
        where, params = _bounty_where(filters or BountyFilter())
        return (
            self._connection()
            .execute(f"SELECT count(*) FROM bounties {where}", params)
            .fetchone()[0]
        )

    def bounty_domains(self) -> list[tuple[str, int]]:
        """Every domain with its number of bounties (for the domain filter)."""
        rows = self._read(
            "SELECT domain, count(*) AS n FROM bounties GROUP BY domain ORDER BY domain"
        )
        return [(r["domain"], r["n"]) for r in rows]

    def bounty_tags(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for (joined,) in self._connection().execute("SELECT tags FROM bounties WHERE tags != ''"):
            for tag in joined.split("\n"):
                counts[tag] = counts.get(tag, 0) + 1
        return sorted(counts.items())

    def get_bounty(self, bounty_id: str) -> Bounty | None:
        rows = self._read(
            "SELECT b.id, title, domain, status, reward, currency, deadline, env_kind, summary, "
            "tags, COALESCE(d.brief, '') AS brief, COALESCE(d.detail, '{}') AS detail "
            "FROM bounties AS b LEFT JOIN bounty_details AS d ON d.id = b.id WHERE b.id = ?",
            (bounty_id,),
        )
        if not rows:
            return None
        r = rows[0]
        row = BountyRow(
            r["id"],
            r["title"],
            r["domain"],
            r["status"],
            r["reward"],
            r["currency"],
            r["deadline"],
            r["env_kind"],
            r["summary"],
            _split_tags(r["tags"]),
        )
        detail = json.loads(r["detail"])
        detail["brief"] = r["brief"]
        return Bounty(
            row=row,
            brief=r["brief"],
            rubric=detail.get("rubric"),
            constraints=detail.get("constraints"),
            detail=detail,
        )

    # -- drafts (local only: env packs the user works on) --------------------------------------

    def add_draft(self, path: str | Path, bounty_id: str | None, title: str = "") -> Draft:
        now = _now()
        resolved = str(Path(path).resolve())
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO drafts (path, bounty_id, title, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
                "bounty_id = COALESCE(excluded.bounty_id, drafts.bounty_id), "
                "title = CASE WHEN excluded.title = '' THEN drafts.title ELSE excluded.title END, "
                "updated_at = excluded.updated_at",
                (resolved, bounty_id, title, now, now),
            )
        draft = self.draft_for_path(resolved)
        assert draft is not None
        return draft

    def drafts(self) -> list[Draft]:
        return [
            Draft(**dict(r)) for r in self._read("SELECT * FROM drafts ORDER BY updated_at DESC")
        ]

    def draft_for_path(self, path: str | Path) -> Draft | None:
        rows = self._read("SELECT * FROM drafts WHERE path = ?", (str(Path(path).resolve()),))
        return Draft(**dict(rows[0])) if rows else None

    def remove_draft(self, draft_id: int) -> None:
        """Forget a draft (the folder on disk is left alone)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM drafts WHERE id = ?", (draft_id,))

    # -- submissions, revisions, reports ---------------------------------------------------------

    def upsert_submission(
        self,
        sub: dict[str, Any],
        conn: sqlite3.Connection | None = None,
        *,
        etag: str | None = None,
    ) -> None:
        """Store a submission as the API returns it (`version` gives its ETag)."""
        version = sub.get("version")
        etag = etag or (f'"{version}"' if version is not None else None)
        with self.transaction() if conn is None else contextlib.nullcontext(conn) as c:
            c.execute(
                "INSERT INTO submissions (id, bounty_id, author, state, etag, latest_revision, "
                "created_at, updated_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET bounty_id = excluded.bounty_id, "
                "author = excluded.author, state = excluded.state, "
                "etag = COALESCE(excluded.etag, submissions.etag), "
                "latest_revision = COALESCE(excluded.latest_revision, "
                "submissions.latest_revision), "
                "created_at = excluded.created_at, updated_at = excluded.updated_at, "
                "data = excluded.data",
                (
                    str(sub["id"]),
                    str(sub.get("bounty_id", "")),
                    _person(sub.get("author")),
                    str(sub.get("state", "")),
                    etag,
                    sub.get("current_revision"),
                    sub.get("created_at"),
                    sub.get("updated_at"),
                    json.dumps(sub),
                ),
            )

    def set_local_state(
        self, submission_id: str, state: str | None, conn: sqlite3.Connection
    ) -> None:
        """The state a queued change will bring (None once the server confirmed or refused it)."""
        conn.execute("UPDATE submissions SET local_state = ? WHERE id = ?", (state, submission_id))

    def delete_submission(self, submission_id: str, conn: sqlite3.Connection | None = None) -> None:
        """Drop a submission and everything under it (it is no longer visible to us)."""
        with self.transaction() if conn is None else contextlib.nullcontext(conn) as c:
            c.execute(
                "DELETE FROM comments WHERE thread_id IN "
                "(SELECT id FROM threads WHERE submission_id = ?) AND pending = 0",
                (submission_id,),
            )
            c.execute("DELETE FROM threads WHERE submission_id = ?", (submission_id,))
            c.execute("DELETE FROM reviews WHERE submission_id = ?", (submission_id,))
            c.execute(
                "DELETE FROM reports WHERE revision_id IN "
                "(SELECT id FROM revisions WHERE submission_id = ?)",
                (submission_id,),
            )
            c.execute("DELETE FROM revisions WHERE submission_id = ?", (submission_id,))
            c.execute("DELETE FROM submissions WHERE id = ?", (submission_id,))

    def submissions(self, *, bounty_id: str | None = None) -> list[Submission]:
        """Every submission the user can see, newest first, plus ones still waiting to be sent."""
        sql = "SELECT * FROM submissions"
        params: list[Any] = []
        if bounty_id is not None:
            sql += " WHERE bounty_id = ?"
            params.append(bounty_id)
        rows = self._read(sql + " ORDER BY COALESCE(updated_at, created_at) DESC, id", params)
        pending_ids = self._pending_submission_ids()
        result = [_submission(r, r["id"] in pending_ids) for r in rows]
        result[:0] = self._queued_submissions(bounty_id)
        return result

    def get_submission(self, submission_id: str) -> Submission | None:
        rows = self._read("SELECT * FROM submissions WHERE id = ?", (submission_id,))
        if not rows:
            return None
        return _submission(rows[0], submission_id in self._pending_submission_ids())

    def submission_for_bounty(self, bounty_id: str) -> Submission | None:
        """The user's own submission to a bounty (one per author per bounty), if any."""
        rows = self._read(
            "SELECT * FROM submissions WHERE bounty_id = ? AND state != 'withdrawn' "
            "ORDER BY updated_at DESC LIMIT 1",
            (bounty_id,),
        )
        return (
            _submission(rows[0], rows[0]["id"] in self._pending_submission_ids()) if rows else None
        )

    def upsert_revision(self, rev: dict[str, Any], conn: sqlite3.Connection | None = None) -> None:
        """Store a revision as the API returns it; its `check.report` becomes the report."""
        check = rev.get("check") if isinstance(rev.get("check"), dict) else {}
        rev_id = revision_id(rev["submission_id"], rev["number"])
        with self.transaction() if conn is None else contextlib.nullcontext(conn) as c:
            c.execute(
                "INSERT INTO revisions (id, submission_id, number, check_state, created_at, data) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "check_state = excluded.check_state, created_at = excluded.created_at, "
                "data = excluded.data",
                (
                    rev_id,
                    str(rev["submission_id"]),
                    int(rev["number"]),
                    str(check.get("status") or ""),
                    rev.get("created_at"),
                    json.dumps(rev),
                ),
            )
            report = check.get("report")
            if isinstance(report, dict):
                self.put_report(rev_id, report, conn=c)

    def revisions(self, submission_id: str) -> list[Revision]:
        rows = self._read(
            "SELECT * FROM revisions WHERE submission_id = ? ORDER BY number", (submission_id,)
        )
        return [
            Revision(
                r["id"],
                r["submission_id"],
                r["number"],
                r["check_state"],
                r["created_at"],
                json.loads(r["data"]),
            )
            for r in rows
        ]

    def put_report(
        self, revision_id: str, report: dict[str, Any], conn: sqlite3.Connection | None = None
    ) -> None:
        with self.transaction() if conn is None else contextlib.nullcontext(conn) as c:
            c.execute(
                "INSERT INTO reports (revision_id, report) VALUES (?, ?) "
                "ON CONFLICT (revision_id) DO UPDATE SET report = excluded.report",
                (revision_id, json.dumps(report)),
            )

    def report_for(self, revision_id: str) -> dict[str, Any] | None:
        """The server's own funnel report (gauntlet-report/1) for a revision, once pulled."""
        rows = self._read("SELECT report FROM reports WHERE revision_id = ?", (revision_id,))
        return json.loads(rows[0]["report"]) if rows else None

    # -- reviews, threads, comments -----------------------------------------------------------

    def upsert_review(self, review: dict[str, Any], conn: sqlite3.Connection | None = None) -> None:
        sub = str(review.get("submission_id", ""))
        revision = review.get("revision")
        with self.transaction() if conn is None else contextlib.nullcontext(conn) as c:
            c.execute(
                "INSERT INTO reviews (id, submission_id, revision_id, reviewer, verdict, "
                "created_at, data) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "submission_id = excluded.submission_id, revision_id = excluded.revision_id, "
                "reviewer = excluded.reviewer, verdict = excluded.verdict, "
                "created_at = excluded.created_at, data = excluded.data",
                (
                    str(review["id"]),
                    sub,
                    revision_id(sub, revision) if revision is not None else None,
                    _person(review.get("reviewer")),
                    review.get("verdict"),
                    review.get("created_at"),
                    json.dumps(review),
                ),
            )

    def reviews_for(self, submission_id: str | None = None) -> list[Review]:
        sql, params = "SELECT * FROM reviews", []
        if submission_id is not None:
            sql, params = sql + " WHERE submission_id = ?", [submission_id]
        rows = self._read(sql + " ORDER BY created_at, id", params)
        return [
            Review(
                r["id"],
                r["submission_id"],
                r["revision_id"],
                r["reviewer"],
                r["verdict"],
                r["created_at"],
                json.loads(r["data"]),
            )
            for r in rows
        ]

    def upsert_thread(self, thread: dict[str, Any], conn: sqlite3.Connection | None = None) -> None:
        """Store a thread; its file and lines are where it sits on the latest revision."""
        sub = str(thread.get("submission_id", ""))
        anchor = thread.get("anchor") if isinstance(thread.get("anchor"), dict) else {}
        position = thread.get("position") if isinstance(thread.get("position"), dict) else {}
        where = position or anchor
        revision = anchor.get("revision")
        with self.transaction() if conn is None else contextlib.nullcontext(conn) as c:
            c.execute(
                "INSERT INTO threads (id, submission_id, revision_id, file, start_line, end_line, "
                "anchor_state, resolved, author, created_at, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "submission_id = excluded.submission_id, revision_id = excluded.revision_id, "
                "file = excluded.file, start_line = excluded.start_line, "
                "end_line = excluded.end_line, anchor_state = excluded.anchor_state, "
                "resolved = excluded.resolved, author = excluded.author, "
                "created_at = excluded.created_at, data = excluded.data",
                (
                    str(thread["id"]),
                    sub,
                    revision_id(sub, revision) if revision is not None else None,
                    str(where.get("path") or ""),
                    where.get("start_line"),
                    where.get("end_line"),
                    str(position.get("status") or "current"),
                    int(bool(thread.get("resolved"))),
                    _person(thread.get("author")),
                    thread.get("created_at"),
                    json.dumps(thread),
                ),
            )
            for comment in thread.get("comments") or ():
                self.upsert_comment({**comment, "thread_id": thread["id"]}, conn=c)

    def upsert_comment(
        self, comment: dict[str, Any], conn: sqlite3.Connection | None = None
    ) -> None:
        with self.transaction() if conn is None else contextlib.nullcontext(conn) as c:
            c.execute(
                "INSERT INTO comments (id, thread_id, "
                "parent_id, author, body, created_at, pending, "
                "data) VALUES (?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT (id) DO UPDATE SET "
                "thread_id = excluded.thread_id, parent_id = excluded.parent_id, "
                "author = excluded.author, body = excluded.body, "
                "created_at = excluded.created_at, pending = 0, data = excluded.data",
                (
                    str(comment["id"]),
                    str(comment.get("thread_id", "")),
                    _str_or_none(comment.get("parent_id")),
                    _person(comment.get("author")),
                    str(comment.get("body") or ""),
                    comment.get("created_at"),
                    json.dumps(comment),
                ),
            )

    def add_pending_comment(
        self,
        comment_id: str,
        thread_id: str,
        body: str,
        parent_id: str | None,
        author: str,
        conn: sqlite3.Connection,
    ) -> None:
        """A reply written locally, shown at once (marked pending) until the server has it."""
        conn.execute(
            "INSERT INTO comments (id, thread_id, parent_id, author, body, created_at, pending) "
            "VALUES (?, ?, ?, ?, ?, ?, 1)",
            (comment_id, thread_id, parent_id, author, body, _now()),
        )

    def delete_comment(self, comment_id: str, conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM comments WHERE id = ?", (comment_id,))

    def set_thread_resolved(self, thread_id: str, resolved: bool, conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE threads SET resolved = ? WHERE id = ?", (int(resolved), thread_id))

    def threads_for(
        self, submission_id: str, file: str | None = None, *, include_resolved: bool = True
    ) -> list[Thread]:
        """Review threads on a submission (optionally one file), with their comments.

        Outdated threads are included: they stay visible until someone resolves them.
        """
        sql = "SELECT * FROM threads WHERE submission_id = ?"
        params: list[Any] = [submission_id]
        if file is not None:
            sql += " AND file = ?"
            params.append(file)
        if not include_resolved:
            sql += " AND resolved = 0"
        rows = self._read(sql + " ORDER BY file, start_line, created_at, id", params)
        comments = self._comments_by_thread([r["id"] for r in rows])
        return [
            Thread(
                r["id"],
                r["submission_id"],
                r["revision_id"],
                r["file"],
                r["start_line"],
                r["end_line"],
                r["anchor_state"],
                bool(r["resolved"]),
                r["author"],
                r["created_at"],
                json.loads(r["data"]),
                tuple(comments.get(r["id"], ())),
            )
            for r in rows
        ]

    def comments_for(self, thread_id: str) -> list[Comment]:
        return self._comments_by_thread([thread_id]).get(thread_id, [])

    def _comments_by_thread(self, thread_ids: list[str]) -> dict[str, list[Comment]]:
        result: dict[str, list[Comment]] = {}
        for chunk_start in range(0, len(thread_ids), 500):
            chunk = thread_ids[chunk_start : chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._read(
                f"SELECT * FROM comments WHERE thread_id IN ({marks}) "
                "ORDER BY pending, created_at, id",
                chunk,
            )
            for r in rows:
                result.setdefault(r["thread_id"], []).append(
                    Comment(
                        r["id"],
                        r["thread_id"],
                        r["parent_id"],
                        r["author"],
                        r["body"],
                        r["created_at"],
                        bool(r["pending"]),
                    )
                )
        return result

    # -- the outbox: local changes waiting for the server ----------------------------------------

    def queue_change(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        conn: sqlite3.Connection,
        idempotency_key: str | None = None,
    ) -> OutboxEntry:
        """Append an outbox row inside the caller's transaction (with its local effect)."""
        key = idempotency_key or str(uuid.uuid4())
        created = _now()
        cursor = conn.execute(
            "INSERT INTO outbox (kind, payload, idempotency_key, created_at) VALUES (?, ?, ?, ?)",
            (kind, json.dumps(payload), key, created),
        )
        return OutboxEntry(cursor.lastrowid, kind, payload, key, "pending", 0, 0.0, None, created)

    def pending_changes(self, *, include_parked: bool = True) -> list[OutboxEntry]:
        """Queued local changes in the order they will be sent (parked ones last)."""
        sql = "SELECT * FROM outbox"
        if not include_parked:
            sql += " WHERE state = 'pending'"
        return [_outbox_entry(r) for r in self._read(sql + " ORDER BY seq")]

    def outbox_entry(self, seq: int) -> OutboxEntry | None:
        rows = self._read("SELECT * FROM outbox WHERE seq = ?", (seq,))
        return _outbox_entry(rows[0]) if rows else None

    def note_outbox_attempt(self, seq: int, error: str, next_attempt_at: float) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
                "WHERE seq = ?",
                (error, next_attempt_at, seq),
            )

    def park_outbox_entry(
        self, seq: int, state: str, error: str, conn: sqlite3.Connection | None = None
    ) -> None:
        """Set a change aside (conflict / failed) until the user decides what to do with it."""
        with self.transaction() if conn is None else contextlib.nullcontext(conn) as c:
            c.execute(
                (
                    "UPDATE outbox SET state = ?, last_error = ?, "
                    "attempts = attempts + 1 WHERE seq = ?"
                ),
                (state, error, seq),
            )

    def retry_outbox_entry(self, seq: int) -> None:
        """Put a parked change back in line (the user fixed the cause)."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'pending', next_attempt_at = 0 WHERE seq = ?", (seq,)
            )

    def complete_outbox_entry(self, seq: int, conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def _pending_submission_ids(self) -> set[str]:
        rows = self._read(
            "SELECT json_extract(payload, '$.submission_id') AS sid FROM outbox "
            "WHERE json_extract(payload, '$.submission_id') IS NOT NULL"
        )
        return {str(r["sid"]) for r in rows}

    def _queued_submissions(self, bounty_id: str | None) -> list[Submission]:
        """Submissions that exist only as a queued `submit` change (made offline)."""
        result = []
        for entry in self.pending_changes():
            if entry.kind != "submit" or entry.payload.get("submission_id"):
                continue
            if bounty_id is not None and entry.payload.get("bounty_id") != bounty_id:
                continue
            state = "waiting to upload" if entry.state == "pending" else entry.state
            result.append(
                Submission(
                    id=f"pending:{entry.idempotency_key}",
                    bounty_id=str(entry.payload.get("bounty_id")),
                    author="",
                    state=state,
                    server_state="",
                    pending=True,
                    etag=None,
                    latest_revision=None,
                    created_at=entry.created_at,
                    updated_at=entry.created_at,
                    data={"outbox_seq": entry.seq, "path": entry.payload.get("path")},
                )
            )
        return result

    # -- the change feed ----------------------------------------------------------------------

    def apply_changes(self, changes: Sequence[dict[str, Any]], next_cursor: str) -> int:
        """Apply one page of `GET /v1/changes` and move the cursor, in one transaction.

        A crash mid-page leaves the old cursor and the old rows, so the page is simply fetched
        and applied again (every change is an idempotent upsert).
        """
        upserts = {
            "submission": self.upsert_submission,
            "revision": self.upsert_revision,
            "thread": self.upsert_thread,
            "comment": self.upsert_comment,
            "review": self.upsert_review,
        }
        with self.transaction() as conn:
            self.upsert_bounties(
                (
                    c.get("data")
                    for c in changes
                    if c.get("entity") == "bounty" and c.get("op") == "upsert"
                ),
                conn=conn,
            )
            for change in changes:
                entity, op, data = change.get("entity"), change.get("op"), change.get("data")
                if op == "delete":
                    if entity == "submission":
                        self.delete_submission(str(change.get("id")), conn=conn)
                    elif entity == "bounty":
                        self.delete_bounties([str(change.get("id"))], conn=conn)
                    continue
                handler = upserts.get(str(entity))
                if handler is not None and isinstance(data, dict):
                    handler(data, conn=conn)
                # Bounties were stored above; unknown entities (a newer server) are skipped.
            self.set_meta("sync.cursor", next_cursor, conn=conn)
        return len(changes)

    # -- wiping ----------------------------------------------------------------------------------


# -- helpers -----


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def revision_id(submission_id: str, number: Any) -> str:
    """Revisions are numbered inside their submission; the store keys them "<sub>/<n>"."""
    return f"{submission_id}/{number}"


def _person(value: Any) -> str:
    """Authors/reviewers come as {"id", "name"}; the store keeps the name for display."""
    if isinstance(value, dict):
        return str(value.get("name") or value.get("id") or "")
    return str(value or "")


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (sqlite3.executescript would commit mid-migration)."""
    statements, buffer = [], []
    for line in script.splitlines():
        stripped = line.split("--", 1)[0] if "--" in line else line
        buffer.append(stripped)
        if stripped.rstrip().endswith(";"):
            statement = "\n".join(buffer).strip()
            if statement.strip(";").strip():
                statements.append(statement)
            buffer = []
    rest = "\n".join(buffer).strip()
    if rest:
        statements.append(rest)
    return statements


_DETAIL_JSON = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":"))


def _bounty_columns(b: dict[str, Any]) -> tuple[Any, ...]:
    """The row for one bounty object (`reward` may be a number or {"amount", "currency"})."""
    tags = [str(t).replace("\n", " ") for t in (b.get("tags") or [])]
    reward = b.get("reward")
    currency = b.get("currency") or "USD"
    if isinstance(reward, dict):
        currency = reward.get("currency") or currency
        reward = reward.get("amount")
    title, summary, domain = (
        str(b.get("title") or ""),
        str(b.get("summary") or ""),
        str(b.get("domain") or ""),
    )
    try:
        amount = float(reward or 0)
    except (TypeError, ValueError):
        amount = 0.0
    return (
        str(b["id"]),
        title,
        domain,
        str(b.get("status") or "open"),
        amount,
        str(currency),
        b.get("deadline"),
        str(b.get("env_kind") or ""),
        summary,
        "\n".join(tags),
        " ".join([title, summary, domain, *tags]).lower(),
        str(b.get("brief") or ""),
        _DETAIL_JSON.encode({k: v for k, v in b.items() if k != "brief"}),
        b.get("updated_at"),
    )


def _checked_time(value: str) -> str:
    """An ISO date or date-time as given, or a UserError saying how to write one."""
    try:
        if len(value) == 10:
            date.fromisoformat(value)
        else:
            datetime.fromisoformat(value)
    except ValueError as exc:
        raise UserError(
            f"'{value}' is not a date.",
            "Write dates as YYYY-MM-DD (e.g. 2027-01-31) or a full ISO time.",
        ) from exc
    return value


def _split_tags(joined: str) -> tuple[str, ...]:
    return tuple(joined.split("\n")) if joined else ()


def _bounty_where(f: BountyFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for word in f.text.lower().split():
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append("search_text LIKE ? ESCAPE '\\'")
        params.append(f"%{escaped}%")
    if f.domains:
        clauses.append(f"domain IN ({','.join('?' * len(f.domains))})")
        params += list(f.domains)
    if f.statuses:
        clauses.append(f"status IN ({','.join('?' * len(f.statuses))})")
        params += list(f.statuses)
    if f.tag:
        clauses.append("instr(char(10) || tags || char(10), ?) > 0")
        params.append("\n" + f.tag + "\n")
    if f.env_kind:
        clauses.append("env_kind = ?")
        params.append(f.env_kind)
    if f.min_reward is not None:
        clauses.append("reward >= ?")
        params.append(f.min_reward)
    if f.max_reward is not None:
        clauses.append("reward <= ?")
        params.append(f.max_reward)
    if f.deadline_after:
        clauses.append("deadline >= ?")
        params.append(_checked_time(f.deadline_after))
    if f.deadline_before:
        bound = _checked_time(f.deadline_before)
        if len(bound) == 10:  # a bare date means "up to the end of that day"
            clauses.append("deadline < ?")
            params.append((date.fromisoformat(bound) + timedelta(days=1)).isoformat())
        else:
            clauses.append("deadline <= ?")
            params.append(bound)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _submission(r: sqlite3.Row, pending: bool) -> Submission:
    return Submission(
        id=r["id"],
        bounty_id=r["bounty_id"],
        author=r["author"],
        state=r["local_state"] or r["state"],
        server_state=r["state"],
        pending=pending or r["local_state"] is not None,
        etag=r["etag"],
        latest_revision=r["latest_revision"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        data=json.loads(r["data"]),
    )


def _outbox_entry(r: sqlite3.Row) -> OutboxEntry:
    return OutboxEntry(
        r["seq"],
        r["kind"],
        json.loads(r["payload"]),
        r["idempotency_key"],
        r["state"],
        r["attempts"],
        r["next_attempt_at"],
        r["last_error"],
        r["created_at"],
    )
