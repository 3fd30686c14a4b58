"""The job queue: leases, a worker killed mid-job (its job is re-taken after the lease runs
out), several workers never running the same job, retries and the error state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support.platform_testkit import BACKENDS

from app.platform import jobs
from app.platform.platform import Platform
from app.platform.settings import Settings
from app.platform.worker import JobKind, Worker

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

# A worker process with test job kinds: the real queue and worker code, a job body we control.
WORKER_SCRIPT = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from app.platform.platform import Platform
    from app.platform.settings import Settings
    from app.platform.worker import JobKind, Worker

    url, marker_dir, worker_id, mode = sys.argv[1:5]
    markers = Path(marker_dir)

    def hang(ctx):
        (markers / f"started-{ctx.job.id}").write_text(worker_id)
        time.sleep(600)

    def record(ctx):
        try:
            fd = os.open(markers / f"job-{ctx.job.id}", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        except FileExistsError:
            (markers / f"DOUBLE-{ctx.job.id}-{worker_id}").write_text("")
            raise
        os.write(fd, worker_id.encode()); os.close(fd)
        time.sleep(0.02)  # hold the job a moment so workers overlap
        with ctx.platform.write() as session:
            ctx.complete(session)

    platform = Platform.open(Settings(database_url=url), run_migrations=False)
    kind = {"hang": hang, "record": record}[mode]
    kinds = {"test_" + mode: JobKind(run=kind)}
    worker = Worker(platform, kinds=kinds, worker_id=worker_id, lease_s=2, poll_s=0.05)
    while worker.run_once():
        pass
""")


def _platform(database_url: str, tmp_path: Path) -> Platform:
    return Platform.open(Settings(database_url=database_url, data_dir=tmp_path / "data"))


def _spawn(database_url: str, markers: Path, worker_id: str, mode: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER_SCRIPT, database_url, str(markers), worker_id, mode],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_lease_expiry_hands_the_job_to_another_worker_and_the_old_owner_cannot_finish(
    database_url, tmp_path
):
    platform = _platform(database_url, tmp_path)
    with platform.write() as session:
        job_id = jobs.enqueue(session, "test", {"n": 1}).id
    with platform.write() as session:
        first = jobs.claim(session, "A", lease_s=0.3)
    assert first.id == job_id and first.attempts == 1
    with platform.write() as session:
        assert jobs.claim(session, "B", lease_s=30) is None  # leased: nobody else may take it
        assert jobs.heartbeat(session, job_id, "A", 0.3)
    time.sleep(0.5)
    with platform.write() as session:
        second = jobs.claim(session, "B", lease_s=30)
    assert second.id == job_id and second.attempts == 2
    with platform.write() as session:
        assert not jobs.heartbeat(session, job_id, "A", 30)
        assert not jobs.finish(session, job_id, "A")  # the old owner's result is refused
        assert jobs.finish(session, job_id, "B")
    platform.close()


def test_worker_killed_mid_job_does_not_lose_it(database_url, tmp_path):
    platform = _platform(database_url, tmp_path)
    markers = tmp_path / "markers"
    markers.mkdir()
    with platform.write() as session:
        job_id = jobs.enqueue(session, "test_hang", {"work": "slow"}).id
    doomed = _spawn(database_url, markers, "doomed", "hang")
    try:
        deadline = time.monotonic() + 60
        while not (markers / f"started-{job_id}").exists():
            assert doomed.poll() is None, doomed.stderr.read().decode()
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.05)
        os.kill(doomed.pid, signal.SIGKILL)  # dies mid-job: no clean-up, no goodbye
        doomed.wait(10)
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait(10)

    finished: list[int] = []

    def complete(ctx):
        finished.append(ctx.job.id)
        with ctx.platform.write() as session:
            ctx.complete(session)

    rescuer = Worker(
        platform, kinds={"test_hang": JobKind(run=complete)}, worker_id="rescuer", lease_s=30
    )
    assert not rescuer.run_once()  # the dead worker's lease is still running
    deadline = time.monotonic() + 30
    while not rescuer.run_once():
        assert time.monotonic() < deadline, "the job was never re-taken after the lease expired"
        time.sleep(0.2)
    assert finished == [job_id]
    with platform.read() as session:
        from app.platform.models import Job

        job = session.get(Job, job_id)
        assert (job.state, job.attempts, job.lease_owner) == ("done", 2, None)
    platform.close()


def test_concurrent_worker_processes_never_run_a_job_twice(database_url, tmp_path):
    platform = _platform(database_url, tmp_path)
    markers = tmp_path / "markers"
    markers.mkdir()
    count = 40
    with platform.write() as session:
        for n in range(count):
            jobs.enqueue(session, "test_record", {"n": n})
    workers = [_spawn(database_url, markers, f"w{i}", "record") for i in range(3)]
    for proc in workers:
        try:
            proc.wait(120)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, proc.stderr.read().decode()
    done = sorted(markers.glob("job-*"))
    assert not list(markers.glob("DOUBLE-*"))
    assert len(done) == count
    by_worker = {p.read_text() for p in done}
    assert len(by_worker) >= 2, "the jobs were not shared between workers"
    with platform.read() as session:
        assert jobs.counts(session) == {"done": count}
    platform.close()


def test_failed_job_is_retried_with_backoff_then_given_up(database_url, tmp_path):
    platform = _platform(database_url, tmp_path)
    seen: list[str] = []

    def broken(ctx):
        raise RuntimeError("the sandbox exploded")

    kind = JobKind(
        run=broken,
        on_retry=lambda s, c, e: seen.append(f"retry: {e}"),
        on_give_up=lambda s, c, e: seen.append(f"gave up: {e}"),
    )
    with platform.write() as session:
        job_id = jobs.enqueue(session, "test_broken", {}, max_attempts=2).id
    worker = Worker(platform, kinds={"test_broken": kind}, lease_s=30)
    assert worker.run_once()
    assert seen == ["retry: the sandbox exploded"]
    assert not worker.run_once()  # backing off: not ready yet
    from app.platform.models import Job

    with platform.write() as session:
        session.get(Job, job_id).run_after = jobs.utcnow()
    assert worker.run_once()
    assert seen[-1] == "gave up: the sandbox exploded"
    with platform.read() as session:
        job = session.get(Job, job_id)
        assert (job.state, job.attempts, job.last_error) == ("failed", 2, "the sandbox exploded")
    platform.close()
