"""The store's core: one SQLite file shared by every repository, and its transactions.

WAL mode so the UI can read while a sync writes. Thread-safe: each thread gets its own
connection; writes are serialized by a lock and run in one transaction each (`BEGIN IMMEDIATE`).
A repository method that takes `conn` joins the caller's transaction, which is how a local
change and its outbox row are written together.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.errors import UserError
from app.sync.migrations import MIGRATIONS

_BUSY_TIMEOUT_MS = 10_000


class StoreCorrupt(UserError):
    pass


class Database:
    """The SQLite file: per-thread connections, serialized write transactions, migrations."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._closed = False
        self._migrate()

    def connection(self) -> sqlite3.Connection:
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
        conn = self.connection()
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

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        conn = self.connection()
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

    def _migrate(self) -> None:
        conn = self.connection()
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
        return self.connection().execute("PRAGMA user_version").fetchone()[0]

    @contextlib.contextmanager
    def write(self, conn: sqlite3.Connection | None) -> Iterator[sqlite3.Connection]:
        """Join the caller's transaction `conn`, or run in a new one of our own."""
        if conn is not None:
            yield conn
            return
        with self.transaction() as own:
            yield own


class Repository:
    """One kind of record over the shared database; subclasses add the queries."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self._db.read(sql, params)

    def _connection(self) -> sqlite3.Connection:
        return self._db.connection()

    def _write(
        self, conn: sqlite3.Connection | None
    ) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return self._db.write(conn)

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return self._db.transaction()

    @staticmethod
    def _upsert(
        conn: sqlite3.Connection,
        table: str,
        row: Mapping[str, Any],
        *,
        key: str = "id",
        merge: Mapping[str, str] | None = None,
    ) -> None:
        """Insert `row` (column -> value), or on a clash of `key` overwrite every other column
        with the new value, or with the SQL that `merge` gives for it (e.g. a COALESCE that keeps
        what the store knew when the server sends nothing)."""
        merge = merge or {}
        columns = list(row)
        sets = ", ".join(f"{c} = {merge.get(c, f'excluded.{c}')}" for c in columns if c != key)
        conn.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT ({key}) DO UPDATE SET {sets}",
            list(row.values()),
        )


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


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
