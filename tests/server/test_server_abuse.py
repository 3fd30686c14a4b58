"""Abuse by an author: a burst of pushes, too many submissions or bytes, and blobs uploaded
but never used. The real server over HTTP, the real queue and database."""

from __future__ import annotations

import pytest
from server_testkit import BACKENDS, package_files

from server import jobs
from server.models import Job
from server.recheck import CHECK_REVISION

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
