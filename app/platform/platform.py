"""One running platform instance: its settings, database engine and sessions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.platform.db import make_engine, migrate, session_factory
from app.platform.settings import Settings


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]

    @classmethod
    def open(cls, settings: Settings, *, run_migrations: bool = True) -> Platform:
        engine = make_engine(settings.resolved_database_url())
        if run_migrations:
            migrate(engine)
        return cls(
            settings, engine, session_factory(engine), session_factory(engine, read_only=True)
        )

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A read-write transaction, committed when the block ends without an exception."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work. Closing (not rolling back) ends the transaction and keeps
        loaded objects readable after the block."""
        session = self.read_sessions()
        try:
            yield session
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()
