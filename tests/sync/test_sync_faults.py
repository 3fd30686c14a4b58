"""Faults between the client and the real platform, injected by a proxy on 127.0.0.1: a server
stopped mid-upload, 500s, timeouts, garbled replies, lost replies, refused tokens, and the
client killed with SIGKILL mid-sync."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from support.fault_proxy import Fault, FaultProxy
from support.sync_packages import make_package

from app.sync.platform import store_key_for
from app.sync.state import SyncPhase
from app.sync.store import BountyFilter


def run(coro):
    return asyncio.run(coro)


def revisions_on_server(platform, submission_id: str) -> list[dict]:
    reply = httpx.get(
        f"{platform.url}/v1/submissions/{submission_id}/revisions",
        timeout=30,
        headers={"Authorization": f"Bearer {platform.tokens['author']}"},
    )
    reply.raise_for_status()
    return reply.json()["items"]


def submissions_on_server(platform) -> list[dict]:
    reply = httpx.get(
        f"{platform.url}/v1/submissions",
        timeout=30,
        headers={"Authorization": f"Bearer {platform.tokens['author']}"},
    )
    reply.raise_for_status()
    return reply.json()["items"]


def synced_session(open_session, url, platform, **kw):
    session = open_session(url, platform.tokens["author"], **kw)
    result = run(session.engine.sync())
    assert result.state.phase == SyncPhase.ONLINE, result.state.message
    return session, session.store.bounties.list(BountyFilter(statuses=["open"]))[0].id


@pytest.mark.slow
def test_server_stopped_mid_upload_resumes_with_only_the_missing_blobs(
    platform, open_session, tmp_path
):
    with FaultProxy(platform.url) as proxy:
        session, bounty_id = synced_session(open_session, proxy.url, platform, timeout=3.0)
        package = tmp_path / "pkg"
        make_package(package, 40)
        # After 15 uploads the real server is shut down, in the middle of the upload.
        stop = proxy.add(
            Fault("none", method="PUT", path_contains="/v1/blobs/", skip=15, on_hit=platform.stop)
        )
        session.engine.queue_submit(package, bounty_id)
        result = run(session.engine.sync())
        assert result.state.phase == SyncPhase.OFFLINE, result.state.message
        assert result.pending == 1 and result.sent == 0
        assert proxy.count("PUT", "/v1/blobs/", "201") >= 15
        # The client gave up on requests that the proxy still holds: let them finish against
        # the stopped server, so none of them lands on the restarted one behind the test's back.
        assert stop.handled.wait(60)
        proxy.wait_idle()

        platform.start()  # the server comes back (new port, same database)
        proxy.upstream = platform.url
        (entry,) = session.store.outbox.pending()
        hashes = sorted(set(entry.payload["files"].values()))
        missing = httpx.post(
            f"{platform.url}/v1/blobs/batch",
            json={"sha256": hashes},
            timeout=30,
            headers={"Authorization": f"Bearer {platform.tokens['author']}"},
        ).json()["missing"]
        assert 0 < len(missing) <= 25
        puts_before = proxy.count("PUT", "/v1/blobs/")
        result = run(session.engine.sync())
        assert result.sent == 1 and result.pending == 0, result.state.message
        assert proxy.count("PUT", "/v1/blobs/") - puts_before == len(missing)  # only those
        (submission,) = session.store.submissions.list()
        (revision,) = revisions_on_server(platform, submission.id)
        assert len(revision["files"]) == 40


def test_500s_are_retried_with_the_same_key_then_succeed(platform, open_session, tmp_path):
    with FaultProxy(platform.url) as proxy:
        session, bounty_id = synced_session(open_session, proxy.url, platform)
        make_package(tmp_path / "pkg", 3)
        proxy.add(Fault("status", method="POST", path_contains="/revisions", times=2, status=500))
        session.engine.queue_submit(tmp_path / "pkg", bounty_id)
        result = run(session.engine.sync())
        assert result.sent == 1, result.state.message
        assert proxy.count("POST", "/revisions", "500") == 2
        assert proxy.count("POST", "/revisions", "201") == 1


def test_persistent_500s_leave_the_change_queued_and_a_later_sync_sends_it(
    platform, open_session, tmp_path
):
    with FaultProxy(platform.url) as proxy:
        session, bounty_id = synced_session(open_session, proxy.url, platform)
        make_package(tmp_path / "pkg", 3)
        fault = proxy.add(
            Fault("status", method="POST", path_contains="/revisions", times=-1, status=503)
        )
        session.engine.queue_submit(tmp_path / "pkg", bounty_id)
        result = run(session.engine.sync())
        assert result.pending == 1 and result.sent == 0
        assert result.state.phase == SyncPhase.ERROR  # reachable but failing: said plainly
        assert "having trouble" in result.state.message
        (entry,) = session.store.outbox.pending()
        assert entry.attempts == 1 and entry.next_attempt_at > time.time()
        assert proxy.count("POST", "/revisions", "503") == 3  # immediate retries, then queued

        # A background sync respects the backoff: nothing is sent while it waits.
        waiting = run(session.engine.sync(force=False))
        assert proxy.count("POST", "/revisions", "503") == 3 and waiting.pending == 1

        fault.times = 0
        result = run(session.engine.sync())
        assert result.sent == 1 and result.pending == 0
        (submission,) = session.store.submissions.list()
        assert len(revisions_on_server(platform, submission.id)) == 1


def test_a_timeout_is_retried_and_the_server_applies_the_change_once(
    platform, open_session, tmp_path
):
    with FaultProxy(platform.url) as proxy:
        session, bounty_id = synced_session(open_session, proxy.url, platform, timeout=1.0)
        make_package(tmp_path / "pkg", 3)
        # The server receives and applies the request, but only after the client gave up.
        proxy.add(Fault("hang", method="POST", path_contains="/revisions", seconds=2.0))
        session.engine.queue_submit(tmp_path / "pkg", bounty_id)
        result = run(session.engine.sync())
        if result.pending:  # the hung request may still be running: the next sync finishes it
            time.sleep(2.5)
            result = run(session.engine.sync())
        assert result.pending == 0, result.state.message
        (submission,) = session.store.submissions.list()
        assert len(revisions_on_server(platform, submission.id)) == 1
        assert len(submissions_on_server(platform)) == 1


def test_a_reply_lost_after_the_server_applied_it_is_not_duplicated(
    platform, open_session, tmp_path
):
    with FaultProxy(platform.url) as proxy:
        session, bounty_id = synced_session(open_session, proxy.url, platform)
        make_package(tmp_path / "pkg", 3)
        proxy.add(Fault("drop_after", method="POST", path_contains="/revisions"))
        proxy.add(Fault("drop_after", method="POST", path_contains="/v1/submissions", times=1))
        session.engine.queue_submit(tmp_path / "pkg", bounty_id)
        result = run(session.engine.sync())
        assert result.pending == 0, result.state.message
        assert len(submissions_on_server(platform)) == 1
        (submission,) = session.store.submissions.list()
        assert len(revisions_on_server(platform, submission.id)) == 1
        assert session.store.submissions.get(submission.id).latest_revision == 1


@pytest.mark.parametrize("action", ["garble", "html"])
def test_garbled_replies_give_a_clear_error_and_change_nothing(platform, open_session, action):
    with FaultProxy(platform.url) as proxy:
        session = open_session(proxy.url, platform.tokens["author"])
        proxy.add(Fault(action, method="GET", path_contains="/v1/changes", times=-1))
        result = run(session.engine.sync())
        assert result.state.phase == SyncPhase.ERROR
        assert "not valid data" in result.state.message
        assert "proxy" in result.state.hint or "captive" in result.state.hint
        assert session.store.cursor is None and session.store.bounties.count() == 0
        proxy.clear()
        assert run(session.engine.sync()).state.phase == SyncPhase.ONLINE
        assert session.store.bounties.count() >= 12


def test_a_refused_token_stops_the_queue_and_asks_to_log_in(platform, open_session, tmp_path):
    session = open_session(platform.url, "gnt_forged-token")
    make_package(tmp_path / "pkg", 2)
    session.engine.queue_submit(tmp_path / "pkg", "b_0001")
    result = run(session.engine.sync())
    assert result.state.phase == SyncPhase.ERROR
    assert "token" in result.state.message and "login" in result.state.hint
    (entry,) = session.store.outbox.pending()
    assert entry.state == "pending"  # kept for after the user logs in again


def test_the_cli_reports_garbled_replies_without_a_traceback(
    platform, gauntlet_home, capsys, monkeypatch
):
    from app.cli import main

    with FaultProxy(platform.url) as proxy:
        proxy.add(Fault("garble", method="GET", path_contains="/v1/changes", times=-1))
        monkeypatch.setenv("GAUNTLET_SERVER", proxy.url)
        monkeypatch.setenv("GAUNTLET_TOKEN", platform.tokens["author"])
        code = main(["sync"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "not valid data" in out and "Traceback" not in out + err


@pytest.mark.slow
def test_client_killed_with_sigkill_mid_sync_loses_and_duplicates_nothing(
    platform, open_session, tmp_path
):
    with FaultProxy(platform.url) as proxy:
        key = store_key_for(proxy.url)
        session, bounty_id = synced_session(open_session, proxy.url, platform, key=key)
        package = tmp_path / "pkg"
        make_package(package, 20)
        session.engine.queue_submit(package, bounty_id, message="before the crash")
        session.store.close()

        # The server applies the revision, but its reply is held until the client is dead.
        held = proxy.add(Fault("hold_after", method="POST", path_contains="/revisions"))
        env = dict(
            os.environ,
            GAUNTLET_SERVER=proxy.url,
            GAUNTLET_TOKEN=platform.tokens["author"],
            GAUNTLET_HOME=os.environ["GAUNTLET_HOME"],
        )
        client = subprocess.Popen(
            [sys.executable, "-m", "app", "sync"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert held.reached.wait(60), "the client never got to the revision upload"
            deadline = time.monotonic() + 30
            while (
                proxy.count("POST", "/revisions", "hold_after") == 0 and time.monotonic() < deadline
            ):
                time.sleep(0.05)
            os.kill(client.pid, signal.SIGKILL)
        finally:
            client.wait(30)
            held.released.set()
        assert client.returncode == -signal.SIGKILL

        restarted = subprocess.run(
            [sys.executable, "-m", "app", "sync", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        assert '"pending": 0' in restarted.stdout

        after = open_session(proxy.url, platform.tokens["author"], key=key)
        (submission,) = after.store.submissions.list()
        assert after.store.outbox.pending() == []
        assert len(submissions_on_server(platform)) == 1
        (revision,) = revisions_on_server(platform, submission.id)  # exactly one, not two
        assert revision["message"] == "before the crash" and len(revision["files"]) == 20
        assert [r.number for r in after.store.submissions.revisions(submission.id)] == [1]
