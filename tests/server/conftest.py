"""Fixtures for the platform tests: a real server (uvicorn on 127.0.0.1) over a fresh database
per test — a SQLite file, and again a fresh PostgreSQL database for the database tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.platform_testkit import PlatformUnderTest, make_postgres_database, start_platform
from support.services import need, postgres_url


@pytest.fixture
def database_url(request, tmp_path: Path) -> Iterator[str]:
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'platform.sqlite3'}"
        return
    need(
        "postgres",
        postgres_url() is not None,
        "set GAUNTLET_TEST_POSTGRES_URL (./run-tests starts a cluster)",
    )
    url, drop = make_postgres_database()
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[PlatformUnderTest]:
    put = start_platform(database_url, tmp_path / "data")
    try:
        yield put
    finally:
        for api in put.users.values():
            api.close()
        put.running.stop()
        put.platform.close()


@pytest.fixture
def make_live(database_url: str, tmp_path: Path):
    """Start a platform with particular settings: `make_live(sandbox_backend="process")`."""
    started: list[PlatformUnderTest] = []

    def start(**settings) -> PlatformUnderTest:
        put = start_platform(database_url, tmp_path / f"data{len(started)}", **settings)
        started.append(put)
        return put

    yield start
    for put in started:
        for api in put.users.values():
            api.close()
        put.running.stop()
        put.platform.close()
