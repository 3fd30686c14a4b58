"""The outbox: order across restarts, backoff with jitter, and what the user can do with
changes set aside."""

from __future__ import annotations

import asyncio

from support.fault_proxy import FaultProxy
from support.sync_packages import make_package

from app.sync.outbox import RetryPolicy
from app.sync.state import SyncPhase
from app.sync.store import BountyFilter


def run(coro):
    return asyncio.run(coro)


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling():
    policy = RetryPolicy(base_delay_s=1.0, factor=2.0, max_delay_s=60.0)
    for attempt in range(12):
        ceiling = min(60.0, 2.0**attempt)
        delays = {round(policy.delay(attempt), 6) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered: clients that failed together do not retry together
    assert policy.delay(0, retry_after=30.0) >= 30.0  # the server's Retry-After wins
    assert policy.delay(0, retry_after=10_000) <= 60.0


def test_changes_made_offline_replay_in_order_after_a_restart(platform, open_session, tmp_path):
    online = open_session(platform.url, platform.tokens["author"], key="me")
    run(online.engine.sync())
    bounty_id = online.store.bounties.list(BountyFilter(statuses=["open"]))[0].id
    make_package(tmp_path / "pkg", 3)
    online.engine.queue_submit(tmp_path / "pkg", bounty_id)
    assert run(online.engine.sync()).sent == 1
    (submission,) = online.store.submissions.list()
    online.engine.queue_thread(
        submission.id, revision=1, path="env.toml", start_line=1, end_line=1, body="First question"
    )
    assert run(online.engine.sync()).sent == 1
    (thread,) = online.store.reviews.threads_for(submission.id)
    online.store.close()

    offline = open_session("http://127.0.0.1:9", platform.tokens["author"], key="me", timeout=1.0)
    offline.engine.queue_reply(thread.id, "an answer")
    offline.engine.queue_resolve(thread.id)
    offline.engine.queue_thread(submission.id, revision=1, body="A general remark")
    offline.engine.queue_withdraw(submission.id, "changed my mind")
    assert run(offline.engine.sync()).state.phase == SyncPhase.OFFLINE
    assert [e.kind for e in offline.store.outbox.pending()] == [
        "reply",
        "resolve",
        "thread",
        "withdraw",
    ]
    assert offline.store.reviews.threads_for(submission.id)[0].resolved  # shown at once
    offline.store.close()  # the app quits

    with FaultProxy(platform.url) as proxy:
        restarted = open_session(proxy.url, platform.tokens["author"], key="me")
        result = run(restarted.engine.sync())
        assert result.sent == 4 and result.pending == 0, result.state.message
        # (a withdrawal may first meet a 412 when the server's check moved the submission
        # meanwhile: it is refetched and sent again, so count the accepted requests)
        posts = [
            s.path.split("?")[0]
            for s in proxy.seen
            if s.method == "POST" and s.outcome.startswith("2")
        ]
        order = [
            next(k for k in ("/comments", "/resolve", "/threads", "/transition") if p.endswith(k))
            for p in posts
        ]
        assert order == ["/comments", "/resolve", "/threads", "/transition"]
    assert restarted.store.submissions.get(submission.id).state == "withdrawn"
    assert len(restarted.store.reviews.threads_for(submission.id)) == 2


def test_a_refused_change_is_set_aside_and_later_changes_still_go_out(
    platform, open_session, tmp_path
):
    session = open_session(platform.url, platform.tokens["author"])
    run(session.engine.sync())
    session.engine.queue_reply("t_does_not_exist", "hello?")
    bounty_id = session.store.bounties.list(BountyFilter(statuses=["open"]))[0].id
    make_package(tmp_path / "pkg", 2)
    session.engine.queue_submit(tmp_path / "pkg", bounty_id)
    result = run(session.engine.sync())
    assert result.sent == 1 and len(result.failed) == 1
    assert "Not found" in result.failed[0][1]
    (parked,) = session.store.outbox.pending()
    assert parked.state == "failed" and parked.kind == "reply"
    assert result.state.needs_attention == 1
    # Discarding it also removes the reply that was shown as pending.
    assert any(c.pending for c in session.store.reviews.comments_for("t_does_not_exist"))
    session.engine.discard(parked.seq)
    assert session.store.reviews.comments_for("t_does_not_exist") == []
    assert session.status.state.needs_attention == 0
