"""Migrations, the embedded platform, demo data and the `gauntlet serve/worker/admin` commands."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from support.platform_testkit import BACKENDS

from app.platform.db import make_engine, migrate
from app.platform.embedded import start_embedded
from app.platform.models import Base

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_migrations_build_exactly_the_models_and_are_rerunnable(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)  # a second start changes nothing
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert differences == []


def test_embedded_platform_seeds_demo_data_and_keeps_tokens_in_memory(tmp_path):
    folder = tmp_path / "platform"
    first = start_embedded(folder, run_worker=False)
    try:
        assert first.url.startswith("http://127.0.0.1:")
        me = httpx.get(
            f"{first.url}/v1/me", headers={"Authorization": f"Bearer {first.author_token}"}
        ).json()
        assert me == {**first.users["author"]}
        assert me["name"] == "you" and first.users["reviewer"]["role"] == "reviewer"
        listing = httpx.get(
            f"{first.url}/v1/bounties",
            params={"limit": 200},
            headers={"Authorization": f"Bearer {first.author_token}"},
        ).json()["items"]
        assert len(listing) >= 12
        assert {
            "biology",
            "chemistry",
            "law",
            "mathematics",
            "medicine",
            "finance",
            "software",
        } <= {b["domain"] for b in listing}
        for bounty in listing:
            assert bounty["brief"].startswith("#") and bounty["rubric"] and bounty["reward"] > 0
            assert bounty["status"] == "open" and bounty["env_kind"] in ("qa", "code")
        tokens = dict(first.tokens)
    finally:
        first.stop()
    # Nothing secret is written to disk: the tokens live in memory, the database keeps hashes.
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(token.encode() in data for token in tokens.values()), path
    again = start_embedded(folder, run_worker=False)
    try:
        assert again.users == first.users  # a restart signs in the same local users...
        assert set(again.tokens.values()).isdisjoint(tokens.values())  # ...with fresh tokens
        for token in (
            again.author_token,
            tokens["author"],
        ):  # the first process's token still works
            me = httpx.get(f"{again.url}/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200 and me.json()["name"] == "you"
        count = len(
            httpx.get(
                f"{again.url}/v1/bounties",
                params={"limit": 200},
                headers={"Authorization": f"Bearer {again.author_token}"},
            ).json()["items"]
        )
        assert count == len(listing)  # seeding is idempotent
        forged = httpx.get(f"{again.url}/v1/me", headers={"Authorization": "Bearer gst_forged"})
        assert forged.status_code == 401
    finally:
        again.stop()


def test_embedded_platform_runs_the_check_and_assigns_the_local_reviewer(tmp_path):
    """Out of the box: submit, the in-process worker checks, the local reviewer gets it."""
    import hashlib

    with start_embedded(tmp_path / "platform") as embedded:
        author = httpx.Client(
            base_url=embedded.url, headers={"Authorization": f"Bearer {embedded.author_token}"}
        )
        files = {"env.toml": b"not = [valid toml\n"}
        manifest = {p: hashlib.sha256(d).hexdigest() for p, d in files.items()}
        for path, sha in manifest.items():
            author.put(f"/v1/blobs/{sha}", content=files[path])
        created = author.post("/v1/submissions", json={"bounty_id": "b_0001"})
        sid = created.json()["id"]
        author.post(
            f"/v1/submissions/{sid}/revisions",
            json={"files": manifest},
            headers={"If-Match": created.headers["etag"]},
        )
        deadline = time.monotonic() + 60
        while author.get(f"/v1/submissions/{sid}").json()["state"] == "checking":
            assert time.monotonic() < deadline, "the in-process worker never checked the revision"
            time.sleep(0.1)
        assert author.get(f"/v1/submissions/{sid}").json()["state"] == "check_failed"
        author.close()


def _gauntlet(
    *args: str, env: dict | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_cli_admin_serve_and_worker(database_url, tmp_path):
    created = _gauntlet("admin", "create-user", "Dr Lab", "--role", "lab", "--db", database_url)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert (
        token.startswith("gst_")
        and token not in created.stderr
        and "shown only now" in created.stderr
    )
    duplicate = _gauntlet("admin", "create-user", "Dr Lab", "--role", "lab", "--db", database_url)
    assert (
        duplicate.returncode == 2
        and "already exists" in duplicate.stderr
        and "Traceback" not in duplicate.stderr
    )
    bad_db = _gauntlet("worker", "--drain", "--db", "mysql://nope")
    assert bad_db.returncode == 2 and "hint:" in bad_db.stderr

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app",
            "serve",
            "--port",
            str(port),
            "--db",
            database_url,
            "--demo",
            "--no-worker",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert serve.poll() is None, serve.stderr.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.2)
        lab = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})
        assert lab.get("/v1/me").json()["role"] == "lab"
        assert len(lab.get("/v1/bounties", params={"limit": 200}).json()["items"]) >= 12
        author_token = _gauntlet(
            "admin", "create-user", "ada", "--role", "author", "--db", database_url
        ).stdout.strip()
        author = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {author_token}"})
        import hashlib

        data = b"broken = [\n"
        sha = hashlib.sha256(data).hexdigest()
        author.put(f"/v1/blobs/{sha}", content=data)
        created = author.post("/v1/submissions", json={"bounty_id": "b_0003"})
        sid = created.json()["id"]
        author.post(
            f"/v1/submissions/{sid}/revisions",
            json={"files": {"env.toml": sha}},
            headers={"If-Match": created.headers["etag"]},
        )
        # No worker in the server: a separate `gauntlet worker` process does the check.
        drained = _gauntlet("worker", "--drain", "--db", database_url)
        assert drained.returncode == 0 and "processed 1 job" in drained.stderr, drained.stderr
        assert author.get(f"/v1/submissions/{sid}").json()["state"] == "check_failed"

        revoked = _gauntlet("admin", "revoke-tokens", "ada", "--db", database_url)
        assert revoked.returncode == 0
        assert author.get("/v1/me").status_code == 401
        lab.close()
        author.close()
    finally:
        serve.terminate()
        try:
            serve.wait(20)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait(10)
