"""Abuse by an author: a burst of pushes, too many submissions or bytes, and blobs uploaded
but never used. The real server over HTTP, the real queue and database."""

from __future__ import annotations

import pytest
from support.platform_testkit import BACKENDS, package_files

from app.platform import jobs
from app.platform.models import Job
from app.platform.recheck import CHECK_REVISION

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def _check_jobs(live) -> list[tuple[int, str]]:
    with live.platform.read() as session:
        rows = session.query(Job).filter(Job.kind == CHECK_REVISION).order_by(Job.id).all()
        return [(int(job.payload["revision"]), job.state) for job in rows]


def test_a_newer_revision_cancels_the_superseded_queued_check(live):
    bounty = live.bounty()
    files = package_files("qa-python")
    first = live.author.submit(bounty["id"], files)
    sid = first["submission_id"]
    live.author.push(sid, {**files, "README.md": b"# changed\n"})
    third = live.author.push(sid, {**files, "README.md": b"# changed again\n"})
    assert _check_jobs(live) == [(1, "cancelled"), (2, "cancelled"), (3, "queued")]
    revisions = live.author.get(f"/v1/submissions/{sid}/revisions").json()["items"]
    status = {r["number"]: r["check"]["status"] for r in revisions}
    assert status == {1: "superseded", 2: "superseded", 3: "queued"}
    errors = {r["number"]: r["check"]["error"] for r in revisions}
    assert "revision 2 was pushed" in errors[1] and "revision 3 was pushed" in errors[2]
    assert third["check"]["status"] == "queued"


def test_a_newer_revision_stops_the_running_check_of_the_old_one(live):
    bounty = live.bounty()
    files = package_files("qa-python")
    sid = live.author.submit(bounty["id"], files)["submission_id"]
    with live.platform.write() as session:
        claimed = jobs.claim(session, "worker-a", 60)
    assert claimed is not None and claimed.payload["revision"] == 1
    live.author.push(sid, {**files, "README.md": b"# changed\n"})
    with live.platform.write() as session:
        # The old check's worker loses its job: the heartbeat says so, finishing is refused.
        assert not jobs.heartbeat(session, claimed.id, "worker-a", 60)
        assert not jobs.finish(session, claimed.id, "worker-a")
    assert _check_jobs(live) == [(1, "cancelled"), (2, "queued")]


def _assert_rate_limited(response, unit: str) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "urn:gauntlet:problem:rate-limited"
    assert unit in problem["detail"] and "Try again in" in problem["detail"]
    retry = int(response.headers["Retry-After"])
    assert 1 <= retry <= 3600 and problem["retry_after_s"] == retry
    return retry


def test_too_many_submissions_in_the_window_is_429_with_retry_after(make_live):
    live = make_live(max_submissions_per_window=2)
    bounties = [live.bounty(title=f"Bounty {i}") for i in range(3)]
    for bounty in bounties[:2]:
        assert live.author.post("/v1/submissions", {"bounty_id": bounty["id"]}).status_code == 201
    refused = live.author.post("/v1/submissions", {"bounty_id": bounties[2]["id"]})
    _assert_rate_limited(refused, "submissions")
    # per author: another author is not affected
    assert live.author2.post("/v1/submissions", {"bounty_id": bounties[2]["id"]}).status_code == 201


def test_too_many_revisions_in_the_window_is_429_with_retry_after(make_live):
    live = make_live(max_revisions_per_window=2)
    files = package_files("qa-python")
    sid = live.author.submit(live.bounty()["id"], files)["submission_id"]
    live.author.push(sid, {**files, "README.md": b"# two\n"})
    manifest = live.author.upload({**files, "README.md": b"# three\n"})
    etag = live.author.get(f"/v1/submissions/{sid}").headers["etag"]
    refused = live.author.post(
        f"/v1/submissions/{sid}/revisions", {"files": manifest}, if_match=etag
    )
    _assert_rate_limited(refused, "revisions")


def test_uploaded_bytes_over_the_window_budget_is_429(make_live):
    live = make_live(max_upload_bytes_per_window=1000)
    assert live.author.put("/v1/blobs/" + _sha(b"a" * 600), content=b"a" * 600).status_code == 201
    refused = live.author.put("/v1/blobs/" + _sha(b"b" * 600), content=b"b" * 600)
    _assert_rate_limited(refused, "bytes")
    assert live.author2.put("/v1/blobs/" + _sha(b"b" * 600), content=b"b" * 600).status_code == 201


def test_the_sync_client_treats_429_as_retry_later(make_live):
    import asyncio

    from app.sync.client import PlatformClient
    from app.sync.errors import PlatformBusy

    live = make_live(max_submissions_per_window=1)
    first, second = live.bounty(title="One"), live.bounty(title="Two")
    live.author.post("/v1/submissions", {"bounty_id": first["id"]})
    token = live.author.token

    async def go():
        async with PlatformClient(live.url, token, timeout=10.0) as client:
            await client.post("/v1/submissions", {"bounty_id": second["id"]})

    with pytest.raises(PlatformBusy) as caught:
        asyncio.run(go())
    assert caught.value.transient and caught.value.retry_after >= 1


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_unreferenced_blobs_are_collected_after_the_grace_period_only(live):
    from datetime import timedelta

    from sqlalchemy import update

    from app.platform.blob_collection import collect_unreferenced_blobs
    from app.platform.clock import utcnow
    from app.platform.models import Blob, BlobUpload

    files = package_files("qa-python")
    used = live.author.submit(live.bounty()["id"], files)["files"]
    old, fresh, reuploaded = b"old unused bytes", b"fresh upload, revision on its way", b"again"
    for data in (old, fresh, reuploaded):
        assert live.author.put(f"/v1/blobs/{_sha(data)}", content=data).status_code == 201
    long_ago = utcnow() - timedelta(days=3)
    with live.platform.write() as session:
        for table, column in ((Blob, Blob.created_at), (BlobUpload, BlobUpload.uploaded_at)):
            session.execute(update(table).values({column: long_ago}))
        # someone uploads `fresh` and `reuploaded` again now: in flight, so kept
        session.execute(
            update(BlobUpload)
            .where(BlobUpload.sha256.in_([_sha(fresh), _sha(reuploaded)]))
            .values(uploaded_at=utcnow())
        )
    with live.platform.write() as session:
        collected = collect_unreferenced_blobs(session, grace_s=24 * 3600)
    assert (collected.blobs, collected.bytes) == (1, len(old))
    with live.platform.read() as session:
        left = set(session.scalars(select_all_shas()))
    assert _sha(old) not in left
    assert {_sha(fresh), _sha(reuploaded), *used.values()} <= left
    assert live.author.get(f"/v1/blobs/{_sha(old)}").status_code == 404
    # a push naming the collected blob is told to upload it again
    sid = live.author.get("/v1/submissions").json()["items"][0]["id"]
    etag = live.author.get(f"/v1/submissions/{sid}").headers["etag"]
    pushed = live.author.post(
        f"/v1/submissions/{sid}/revisions",
        {"files": {**used, "old.txt": _sha(old)}},
        if_match=etag,
    )
    assert pushed.status_code == 422 and pushed.json()["missing"] == [_sha(old)]


def test_admin_collect_blobs_command_reports_what_it_removed(live, database_url):
    import os
    import subprocess
    import sys
    from pathlib import Path

    data = b"never used"
    assert live.author.put(f"/v1/blobs/{_sha(data)}", content=data).status_code == 201
    repo = Path(__file__).resolve().parents[2]
    run = [sys.executable, "-m", "app", "admin", "collect-blobs", "--db", database_url]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    kept = subprocess.run(run, capture_output=True, text=True, timeout=120, cwd=repo, env=env)
    assert kept.returncode == 0 and "collected 0 unused blob(s)" in kept.stderr, kept.stderr
    gone = subprocess.run(
        [*run, "--grace-hours", "0"], capture_output=True, text=True, timeout=120, env=env
    )
    assert gone.returncode == 0 and f"collected 1 unused blob(s), {len(data)} bytes" in gone.stderr


def select_all_shas():
    from sqlalchemy import select

    from app.platform.models import Blob

    return select(Blob.sha256)
