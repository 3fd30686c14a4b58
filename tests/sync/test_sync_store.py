"""The local store: schema, filtering for the bounty browser, threads, atomic outbox writes."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from app.errors import UserError
from app.sync.store import BountyFilter, LocalStore


def bounty(i: int, **extra) -> dict:
    domains = ["biology", "law", "mathematics", "chemistry"]
    data = {
        "id": f"b_{i:05d}",
        "title": f"Bounty {i}",
        "summary": f"summary {i}",
        "domain": domains[i % 4],
        "tags": ["proteins"] if i % 2 else ["contracts", "ip"],
        "status": "open" if i % 5 else "closed",
        "reward": 100 * (i % 50),
        "currency": "USD",
        "deadline": f"2027-{1 + i % 12:02d}-15T23:59:59Z",
        "env_kind": "qa",
        "brief": f"# Brief {i}",
        "rubric": [{"id": "correctness", "weight": 1, "max_score": 5}],
        "constraints": {"min_tasks": 10},
        "version": 1,
    }
    data.update(extra)
    return data


def test_schema_is_versioned_and_reopening_keeps_data(tmp_path):
    path = tmp_path / "s.sqlite"
    with LocalStore(path) as first:
        assert first.schema_version >= 1
        first.bounties.upsert([bounty(1)])
    with LocalStore(path) as again:
        assert again.bounties.get("b_00001").title == "Bounty 1"
        assert again._db.connection().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_store_from_a_newer_app_is_refused_clearly(tmp_path):
    path = tmp_path / "s.sqlite"
    LocalStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=999")
    conn.close()
    with pytest.raises(UserError, match="newer version"):
        LocalStore(path)


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path):
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(UserError, match="cannot be read") as info:
        LocalStore(path)
    assert "move the file away" in info.value.hint


def test_filters_combine_like_the_bounty_browser_needs(store):
    store.bounties.upsert(bounty(i) for i in range(1, 401))
    assert store.bounties.count() == 400
    law = store.bounties.list(BountyFilter(domains=["law"]))
    assert law and all(b.domain == "law" for b in law)
    rich = store.bounties.list(BountyFilter(min_reward=4000, sort="-reward"))
    assert rich[0].reward >= rich[-1].reward >= 4000
    tagged = store.bounties.list(BountyFilter(tag="ip", statuses=["open"]))
    assert tagged and all("ip" in b.tags and b.status == "open" for b in tagged)
    text = store.bounties.list(BountyFilter(text="BOUNTY 12"))  # case-insensitive, all words
    assert {b.id for b in text} >= {"b_00012", "b_00120"}
    due = store.bounties.list(BountyFilter(deadline_before="2027-01-15"))
    assert due and all(b.deadline.startswith("2027-01") for b in due)
    page = store.bounties.list(BountyFilter(sort="title", limit=10, offset=5))
    assert len(page) == 10
    assert dict(store.bounties.domains())["law"] == 100
    assert store.bounties.list(BountyFilter(text="100%_")) == []  # LIKE wildcards are escaped


def test_detail_carries_brief_rubric_and_constraints(store):
    store.bounties.upsert([bounty(7)])
    full = store.bounties.get("b_00007")
    assert full.brief == "# Brief 7"
    assert full.rubric[0]["id"] == "correctness"
    assert full.constraints == {"min_tasks": 10}
    assert full.reward == 700 and full.tags == ("proteins",)
    assert store.bounties.get("nope") is None


def test_upsert_replaces_tags(store):
    store.bounties.upsert([bounty(2)])
    store.bounties.upsert([bounty(2, tags=["new"])])
    assert store.bounties.list(BountyFilter(tag="contracts")) == []
    assert [b.id for b in store.bounties.list(BountyFilter(tag="new"))] == ["b_00002"]


def test_change_feed_page_applies_in_one_transaction(store):
    sub = {
        "id": "s_1",
        "bounty_id": "b_00001",
        "author": {"id": "u_1", "name": "ada"},
        "state": "in_review",
        "current_revision": 1,
        "version": 4,
    }
    rev = {
        "submission_id": "s_1",
        "number": 1,
        "files": {"env.toml": "ab"},
        "check": {"status": "passed", "report": {"schema": "gauntlet-report/1", "verdict": "pass"}},
    }
    thread = {
        "id": "t_1",
        "submission_id": "s_1",
        "author": {"name": "rev"},
        "resolved": False,
        "anchor": {"revision": 1, "path": "tasks.jsonl", "start_line": 3, "end_line": 4},
        "position": {
            "revision": 1,
            "status": "moved",
            "path": "tasks.jsonl",
            "start_line": 5,
            "end_line": 6,
        },
    }
    comment = {"id": "c_1", "thread_id": "t_1", "author": {"name": "rev"}, "body": "why?"}
    review = {
        "id": "r_1",
        "submission_id": "s_1",
        "revision": 1,
        "reviewer": {"name": "rev"},
        "verdict": "request_changes",
        "scores": {"correctness": 2},
    }
    changes = [{"entity": "bounty", "op": "upsert", "id": "b_00001", "data": bounty(1)}] + [
        {"entity": e, "op": "upsert", "id": "x", "data": d}
        for e, d in [
            ("submission", sub),
            ("revision", rev),
            ("thread", thread),
            ("comment", comment),
            ("review", review),
        ]
    ]
    store.apply_changes(changes, "42")
    assert store.cursor == "42"
    (s,) = store.submissions.list()
    assert (s.state, s.etag, s.latest_revision, s.author) == ("in_review", '"4"', 1, "ada")
    assert store.submissions.report_for("s_1/1")["verdict"] == "pass"
    (t,) = store.reviews.threads_for("s_1", "tasks.jsonl")
    assert (t.start_line, t.anchor_state, t.revision_id) == (5, "moved", "s_1/1")
    assert [c.body for c in t.comments] == ["why?"]
    assert store.reviews.list("s_1")[0].verdict == "request_changes"

    store.apply_changes([{"entity": "submission", "op": "delete", "id": "s_1"}], "43")
    assert store.submissions.list() == [] and store.reviews.threads_for("s_1") == []
    assert store.submissions.report_for("s_1/1") is None and store.reviews.comments_for("t_1") == []


def test_local_change_and_outbox_row_are_one_transaction(store):
    store.submissions.upsert({"id": "s_1", "bounty_id": "b", "state": "in_review", "version": 2})
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.submissions.set_local_state("s_1", "withdrawn", conn)
        store.outbox.queue("withdraw", {"submission_id": "s_1"}, conn=conn)
        raise RuntimeError("crash between the two writes")
    assert store.outbox.pending() == []
    assert store.submissions.get("s_1").state == "in_review"


def test_reads_and_writes_from_many_threads(store):
    errors: list[BaseException] = []

    def writer(start: int) -> None:
        try:
            for i in range(start, start + 200, 20):
                store.bounties.upsert(bounty(j) for j in range(i, i + 20))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(50):
                store.bounties.list(BountyFilter(domains=["law"]))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k * 200,)) for k in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.bounties.count() == 800


def test_drafts_are_remembered_by_folder(store, tmp_path):
    folder = tmp_path / "my-env"
    folder.mkdir()
    draft = store.drafts.add(folder, "b_1", "Enzymes")
    again = store.drafts.add(folder / ".." / "my-env", None)
    assert again.id == draft.id and again.bounty_id == "b_1" and again.title == "Enzymes"
    assert [d.path for d in store.drafts.list()] == [str(folder.resolve())]
    store.drafts.remove(draft.id)
    assert store.drafts.list() == []


def test_a_second_upsert_overwrites_but_keeps_what_the_server_left_out(store):
    store.submissions.upsert({"id": "s_1", "bounty_id": "b", "state": "draft", "version": 1})
    store.submissions.upsert({"id": "s_1", "bounty_id": "b", "state": "in_review"})
    s = store.submissions.get("s_1")
    assert (s.state, s.etag) == ("in_review", '"1"')  # no new version: the known ETag stays
    store.reviews.upsert_comment({"id": "c_1", "thread_id": "t", "body": "first"})
    store.reviews.upsert_comment({"id": "c_1", "thread_id": "t", "body": "edited"})
    assert [c.body for c in store.reviews.comments_for("t")] == ["edited"]
