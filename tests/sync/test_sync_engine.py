"""Sync against the real platform on 127.0.0.1: pull, submit, resubmit, offline queue, 412s,
conflicts, replies and reviews."""

from __future__ import annotations

import asyncio

import httpx
from support.fault_proxy import FaultProxy
from support.sync_packages import make_package

from app.sync.state import SyncPhase
from app.sync.store import BountyFilter


def run(coro):
    return asyncio.run(coro)


def api(platform, role: str, method: str, path: str, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {platform.tokens[role]}", **kwargs.pop("headers", {})}
    return httpx.request(method, platform.url + path, headers=headers, timeout=30, **kwargs)


def first_open_bounty(session) -> str:
    return session.store.bounties.list(BountyFilter(statuses=["open"]))[0].id


def test_first_sync_pulls_bounties_then_an_unchanged_resync_pulls_nothing(platform, open_session):
    session = open_session(platform.url, platform.tokens["author"])
    result = run(session.engine.sync())
    assert result.state.phase == SyncPhase.ONLINE, result.state.message
    assert session.store.bounties.count() >= 12
    assert len({d for d, _ in session.store.bounties.domains()}) >= 5
    bounty = session.store.bounties.get(first_open_bounty(session))
    assert bounty.brief and bounty.rubric and bounty.deadline
    again = run(session.engine.sync())
    assert again.pulled == 0 and again.state.phase == SyncPhase.ONLINE
    assert again.state.last_synced_at


def test_a_bounty_changed_on_the_server_arrives_with_the_next_sync(platform, open_session):
    session = open_session(platform.url, platform.tokens["author"])
    run(session.engine.sync())
    created = api(
        platform,
        "lab",
        "POST",
        "/v1/bounties",
        json={
            "title": "Radiology report triage",
            "summary": "Classify findings.",
            "domain": "medicine",
            "tags": ["radiology"],
            "reward": 1800,
            "currency": "EUR",
            "deadline": "2031-03-01T00:00:00Z",
            "env_kind": "qa",
            "constraints": {},
            "brief": "# Triage",
            "rubric": [],
        },
    )
    assert created.status_code == 201, created.text
    result = run(session.engine.sync())
    assert result.pulled >= 1
    (row,) = session.store.bounties.list(BountyFilter(text="radiology triage"))
    assert (row.reward, row.currency, row.domain) == (1800, "EUR", "medicine")
    # A single bounty re-read is conditional: unchanged means 304 and no write.
    assert run(session.engine.refresh_bounty(row.id)) is True
    assert run(session.engine.refresh_bounty(row.id)) is False


def test_submit_then_resubmit_uploads_only_changed_files(platform, open_session, tmp_path):
    with FaultProxy(platform.url) as proxy:
        session = open_session(proxy.url, platform.tokens["author"])
        run(session.engine.sync())
        bounty_id = first_open_bounty(session)
        package = tmp_path / "pkg"
        make_package(package, 12)
        session.engine.queue_submit(package, bounty_id, message="first")
        result = run(session.engine.sync())
        assert result.sent == 1 and result.pending == 0, result.state.message
        assert proxy.count("PUT", "/v1/blobs/") == 12
        (submission,) = session.store.submissions.list()
        assert submission.bounty_id == bounty_id and submission.latest_revision == 1
        assert not submission.pending
        (revision,) = session.store.submissions.revisions(submission.id)
        assert len(revision.data["files"]) == 12 and revision.data["message"] == "first"
        assert session.store.drafts.for_path(package).last_digest

        (package / "data" / "part-003.txt").write_text("changed\n")
        session.engine.queue_submit(package, bounty_id, message="second")
        result = run(session.engine.sync())
        assert result.sent == 1, result.state.message
        assert proxy.count("PUT", "/v1/blobs/") == 13  # one new blob, not twelve
        assert [r.number for r in session.store.submissions.revisions(submission.id)] == [1, 2]
        assert proxy.count("POST", "/v1/submissions") - proxy.count("POST", "/revisions") == 1
        # Snapshots of uploaded files are not kept once sent.
        assert not any(p.is_file() for p in session.engine.blobs.root.rglob("*"))


def test_offline_submission_is_queued_shown_and_sent_later(platform, open_session, tmp_path):
    online = open_session(platform.url, platform.tokens["author"], key="shared")
    run(online.engine.sync())
    bounty_id = first_open_bounty(online)
    online.store.close()

    offline = open_session(
        "http://127.0.0.1:9", platform.tokens["author"], key="shared", timeout=1.0
    )
    package = tmp_path / "pkg"
    make_package(package, 5)
    offline.engine.queue_submit(package, bounty_id)
    (package / "env.toml").write_text("edited after submitting\n")  # the snapshot is what goes
    result = run(offline.engine.sync())
    assert result.state.phase == SyncPhase.OFFLINE
    assert result.pending == 1 and "reach" in result.state.message
    (queued,) = offline.store.submissions.list()
    assert (
        queued.pending and queued.state == "waiting to upload" and queued.id.startswith("pending:")
    )
    offline.store.close()

    back = open_session(platform.url, platform.tokens["author"], key="shared")
    result = run(back.engine.sync())
    assert result.sent == 1 and result.state.phase == SyncPhase.ONLINE
    (submission,) = back.store.submissions.list()
    files = back.store.submissions.revisions(submission.id)[0].data["files"]
    blob = api(platform, "author", "GET", f"/v1/blobs/{files['env.toml']}")
    assert blob.content.startswith(b'format = "gauntlet/1"')


def _submitted(platform, open_session, tmp_path, files: int = 3):
    session = open_session(platform.url, platform.tokens["author"])
    run(session.engine.sync())
    package = tmp_path / "pkg"
    make_package(package, files)
    session.engine.queue_submit(package, first_open_bounty(session))
    result = run(session.engine.sync())
    assert result.sent == 1, result.state.message
    (submission,) = session.store.submissions.list()
    return session, submission, package


def test_withdraw_with_a_stale_version_refetches_and_applies_without_asking(
    platform, open_session, tmp_path
):
    session, submission, package = _submitted(platform, open_session, tmp_path)
    # Elsewhere (another computer of the same author), a new revision moves the version on.
    other = open_session(platform.url, platform.tokens["author"], key="laptop")
    run(other.engine.sync())
    (package / "env.toml").write_text("v2\n")
    other.engine.queue_submit(package, submission.bounty_id)
    assert run(other.engine.sync()).sent == 1

    session.engine.queue_withdraw(submission.id, "found a mistake")
    assert session.store.submissions.get(submission.id).state == "withdrawn"  # shown at once
    result = run(session.engine.sync())
    assert result.conflicts == [] and result.sent == 1, result.state.message
    assert session.store.submissions.get(submission.id).server_state == "withdrawn"
    server = api(platform, "author", "GET", f"/v1/submissions/{submission.id}").json()
    assert server["state"] == "withdrawn"


def test_a_new_revision_for_a_submission_withdrawn_elsewhere_is_a_true_conflict(
    platform, open_session, tmp_path
):
    session, submission, package = _submitted(platform, open_session, tmp_path)
    other = open_session(platform.url, platform.tokens["author"], key="laptop")
    run(other.engine.sync())
    other.engine.queue_withdraw(submission.id)
    assert run(other.engine.sync()).sent == 1

    (package / "env.toml").write_text("v2\n")
    session.engine.queue_submit(package, submission.bounty_id)
    result = run(session.engine.sync())
    (conflict,) = result.conflicts
    assert "withdrawn" in conflict.message and conflict.hint
    assert result.state.phase == SyncPhase.ERROR and result.state.needs_attention == 1
    (entry,) = session.store.outbox.pending()
    assert entry.state == "conflict"
    session.engine.discard(entry.seq)
    assert session.store.outbox.pending() == []


def test_reply_written_offline_shows_as_pending_then_is_sent_once(platform, open_session, tmp_path):
    session, submission, _ = _submitted(platform, open_session, tmp_path)
    session.engine.queue_thread(
        submission.id,
        revision=1,
        path="env.toml",
        start_line=1,
        end_line=1,
        body="Is the format line right?",
    )
    assert run(session.engine.sync()).sent == 1
    (thread,) = session.store.reviews.threads_for(submission.id, "env.toml")
    assert thread.start_line == 1 and thread.anchor_state == "current"

    offline = open_session("http://127.0.0.1:9", platform.tokens["author"], timeout=1.0)
    offline.engine.queue_reply(thread.id, "Yes, gauntlet/1 is current.")
    (shown,) = [c for c in offline.store.reviews.comments_for(thread.id) if c.pending]
    assert shown.body == "Yes, gauntlet/1 is current."
    assert run(offline.engine.sync()).state.phase == SyncPhase.OFFLINE
    offline.store.close()

    result = run(session.engine.sync())
    assert result.sent == 1
    comments = session.store.reviews.comments_for(thread.id)
    assert [c.body for c in comments if "gauntlet/1 is current" in c.body] == [
        "Yes, gauntlet/1 is current."
    ]
    assert not any(c.pending for c in comments)
    server = api(platform, "author", "GET", f"/v1/submissions/{submission.id}/threads").json()
    bodies = [c["body"] for t in server["items"] for c in t["comments"]]
    assert bodies.count("Yes, gauntlet/1 is current.") == 1


def test_a_verdict_on_a_superseded_revision_is_surfaced_as_a_conflict(
    platform, open_session, tmp_path
):
    author, submission, package = _submitted(platform, open_session, tmp_path)
    me = api(platform, "reviewer", "GET", "/v1/me").json()
    assigned = api(
        platform,
        "admin",
        "POST",
        f"/v1/submissions/{submission.id}/reviewers",
        json={"reviewer_id": me["id"]},
    )
    assert assigned.status_code == 200, assigned.text
    reviewer = open_session(platform.url, platform.tokens["reviewer"], key="reviewer")
    run(reviewer.engine.sync())
    assert reviewer.store.submissions.get(submission.id) is not None
    reviewer_offline = open_session(
        "http://127.0.0.1:9", platform.tokens["reviewer"], key="reviewer", timeout=1.0
    )
    reviewer_offline.engine.queue_review(
        submission.id, revision=1, verdict="comment", summary="Looks reasonable so far."
    )
    run(reviewer_offline.engine.sync())
    reviewer_offline.store.close()

    (package / "env.toml").write_text("revision two\n")
    author.engine.queue_submit(package, submission.bounty_id)
    assert run(author.engine.sync()).sent == 1

    result = run(reviewer.engine.sync())
    (conflict,) = result.conflicts
    assert "revision 1" in conflict.message and "revision 2" in conflict.message


def test_background_sync_pulls_and_stops_when_asked(platform, open_session):
    session = open_session(platform.url, platform.tokens["author"])
    states = []
    session.status.subscribe(lambda state: states.append(state.phase))

    async def scenario():
        stop = asyncio.Event()
        task = asyncio.create_task(session.engine.run_periodically(stop, every_s=0.2))
        for _ in range(200):
            if session.store.bounties.count():
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 10)

    run(scenario())
    assert session.store.bounties.count() >= 12
    assert SyncPhase.SYNCING in states and states[-1] == SyncPhase.ONLINE


def test_cursor_pagination_follows_next_cursor_to_the_end(platform, open_session):
    session = open_session(platform.url, platform.tokens["author"])

    async def all_pages():
        pages = []
        async for items in session.client.paginate("/v1/bounties", params={"limit": 5}):
            pages.append([b["id"] for b in items])
        return pages

    pages = run(all_pages())
    ids = [i for page in pages for i in page]
    assert len(pages) >= 3 and all(len(p) <= 5 for p in pages)
    assert len(ids) == len(set(ids)) >= 12
