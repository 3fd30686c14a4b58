"""Helpers for the platform tests (tests/server): a signed-in API client, a platform under test
with its users, fresh PostgreSQL databases, real env packs. Fixtures are in conftest.py."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from app.findings import Stage
from app.funnel.report import PackageRef, Report, StageResult, StageStatus
from app.platform.app import create_app
from app.platform.auth import create_user
from app.platform.embedded import RunningServer, serve_in_thread
from app.platform.platform import Platform
from app.platform.settings import Settings
from support.services import postgres_url

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def make_postgres_database() -> tuple[str, callable]:
    """A fresh, empty database on the test cluster; returns its URL and a dropper."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = make_url(postgres_url()).set(drivername="postgresql+psycopg")
    name = f"gauntlet_test_{secrets.token_hex(6)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


class Api:
    """An httpx client signed in as one user."""

    def __init__(self, base_url: str, token: str | None, user: dict | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=base_url, headers=headers, timeout=30)
        self.user = user or {}
        self.token = token

    @property
    def id(self) -> str:
        return self.user["id"]

    def get(self, path: str, **kw) -> httpx.Response:
        return self.client.get(path, **kw)

    def post(
        self, path: str, json=None, *, key: str | None = None, if_match: str | None = None, **kw
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if key:
            headers["Idempotency-Key"] = key
        if if_match:
            headers["If-Match"] = if_match
        return self.client.post(path, json=json, headers=headers, **kw)

    def put(self, path: str, **kw) -> httpx.Response:
        return self.client.put(path, **kw)

    def patch(self, path: str, json=None, *, if_match: str | None = None) -> httpx.Response:
        return self.client.patch(
            path, json=json, headers={"If-Match": if_match} if if_match else {}
        )

    def delete(self, path: str) -> httpx.Response:
        return self.client.delete(path)

    # -- conveniences for the common flows -------------------------------------------------

    def upload(self, files: dict[str, bytes]) -> dict[str, str]:
        manifest = {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}
        missing = self.post("/v1/blobs/batch", {"sha256": sorted(set(manifest.values()))}).json()[
            "missing"
        ]
        by_sha = {manifest[p]: files[p] for p in files}
        for sha in missing:
            assert self.put(f"/v1/blobs/{sha}", content=by_sha[sha]).status_code == 201
        return manifest

    def submit(
        self, bounty_id: str, files: dict[str, bytes], *, message: str = "", client_report=None
    ) -> dict:
        created = self.post("/v1/submissions", {"bounty_id": bounty_id})
        assert created.status_code == 201, created.text
        return self.push(created.json()["id"], files, message=message, client_report=client_report)

    def push(
        self, submission_id: str, files: dict[str, bytes], *, message: str = "", client_report=None
    ) -> dict:
        manifest = self.upload(files)
        etag = self.get(f"/v1/submissions/{submission_id}").headers["etag"]
        body = {"files": manifest, "message": message}
        if client_report is not None:
            body["client_report"] = client_report
        pushed = self.post(f"/v1/submissions/{submission_id}/revisions", body, if_match=etag)
        assert pushed.status_code == 201, pushed.text
        return pushed.json()

    def submission(self, submission_id: str) -> dict:
        response = self.get(f"/v1/submissions/{submission_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def close(self) -> None:
        self.client.close()


@dataclass
class PlatformUnderTest:
    url: str
    platform: Platform
    running: RunningServer
    users: dict[str, Api] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Api:
        users = self.__dict__.get("users", {})
        if name in users:
            return users[name]
        raise AttributeError(name)

    def anonymous(self) -> Api:
        return Api(self.url, None)

    def as_token(self, token: str) -> Api:
        return Api(self.url, token)

    def add_user(self, name: str, role: str, **kw) -> Api:
        with self.platform.write() as session:
            user, token = create_user(session, name, role, **kw)
            info = {"id": user.id, "name": user.name, "role": user.role}
        api = Api(self.url, token, info)
        self.users[name] = api
        return api

    def bounty(self, **overrides) -> dict:
        body = {
            "title": "Protein folding stability",
            "summary": "ΔΔG predictions",
            "domain": "biology",
            "tags": ["proteins"],
            "reward": 1000,
            "currency": "USD",
            "deadline": "2099-01-01T00:00:00Z",
            "env_kind": "qa",
            "constraints": {"min_tasks": 3},
            "brief": "# Brief\nPredict stability changes.",
            "rubric": [{"id": "correctness", "title": "Correctness", "max_score": 5, "weight": 1}],
        }
        body.update(overrides)
        response = self.lab.post("/v1/bounties", body)
        assert response.status_code == 201, response.text
        return response.json()

    def run_jobs(self) -> int:
        """Drain the job queue with the real worker (in this thread)."""
        from app.platform.worker import Worker

        worker = Worker(self.platform, lease_s=30)
        count = 0
        while worker.run_once():
            count += 1
        return count

    def pass_check(self, submission_id: str, number: int) -> None:
        """Record a passing server check, as the worker does after stages 1–2 pass. Used by
        tests about what happens *after* the check; the check itself is tested with Docker."""
        from app.platform.recheck import store_report

        with self.platform.write() as session:
            store_report(session, self.platform.settings, submission_id, number, passing_report())


def passing_report() -> Report:
    report = Report(package=PackageRef(name="t/pkg", version="0.1.0", digest="sha256:" + "0" * 64))
    report.add_stage(StageResult(Stage.STRUCTURE, StageStatus.PASS), [])
    report.add_stage(StageResult(Stage.VERIFY, StageStatus.PASS), [])
    return report


def start_platform(database_url: str, data_dir: Path, **settings) -> PlatformUnderTest:
    config = Settings(database_url=database_url, data_dir=data_dir, **settings)
    platform = Platform.open(config)
    running = serve_in_thread(create_app(config, platform=platform))
    put = PlatformUnderTest(running.url, platform, running)
    for name, role in [
        ("admin", "admin"),
        ("lab", "lab"),
        ("lab2", "lab"),
        ("author", "author"),
        ("author2", "author"),
        ("reviewer", "reviewer"),
        ("reviewer2", "reviewer"),
    ]:
        put.add_user(name, role)
    return put


def package_files(template: str = "qa-python") -> dict[str, bytes]:
    """A real env pack (one of the bundled templates) as {path: bytes}."""
    from app.resources import resource_path

    root = resource_path("templates", template)
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
