"""Database engine and sessions for SQLite (one file, single writer) and PostgreSQL.

SQLite allows one writer at a time. Every transaction starts with BEGIN IMMEDIATE so a
transaction that reads and then writes never fails half-way with "database is locked";
writers queue on the busy timeout instead. PostgreSQL runs at READ COMMITTED with row locks.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from app.errors import UserError

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_migrate_lock = threading.Lock()


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise UserError(
            f"not a database URL: {url!r}",
            "use sqlite:////absolute/path/platform.sqlite3 or postgresql+psycopg://user@host:5432/dbname",
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            _private_file(Path(database))
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)
    raise UserError(
        f"unsupported database {parsed.get_backend_name()!r}",
        "the platform runs on SQLite (a file) or PostgreSQL",
    )


def _private_file(path: Path) -> None:
    """The SQLite file holds every blob and token hash: readable by its owner only (SQLite gives
    its -wal and -shm files the same mode)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get("gauntlet_read_only"):
            connection.exec_driver_sql("BEGIN")  # WAL readers never wait for the writer
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    bind = engine.execution_options(gauntlet_read_only=True) if read_only else engine
    return sessionmaker(bind, expire_on_commit=False)


def alembic_config(engine: Engine):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration. Safe when several processes start at once:
    PostgreSQL serialises them with an advisory lock, SQLite with its write lock."""
    from alembic import command

    with _migrate_lock:
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(7262001)"))
                try:
                    config = alembic_config(engine)
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
                    conn.commit()
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(7262001)"))
                    conn.commit()
        else:
            command.upgrade(alembic_config(engine), "head")
