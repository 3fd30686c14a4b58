"""The platform API against a real server on 127.0.0.1, on SQLite and on PostgreSQL:
bounties, blobs, submissions, ETags and preconditions, idempotency, the state machine and the
change feed."""

from __future__ import annotations

import hashlib

import pytest
from support.platform_testkit import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

PROBLEM = "application/problem+json"


def problem_type(response) -> str:
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == response.status_code
    return body["type"].removeprefix("urn:gauntlet:problem:")


# -- bounties --------------------------------------------------------------------------------


def test_bounty_filters_search_and_cursor_pagination(live):
    made = [
        live.bounty(
            title=f"Task set {i}",
            domain="law" if i % 2 else "biology",
            reward=100 * (i + 1),
            tags=["contracts"] if i % 3 == 0 else ["misc"],
            deadline=f"2099-01-{i + 1:02d}T00:00:00Z",
            brief="Clauses about *warranty* disclaimers" if i == 4 else "other",
        )
        for i in range(7)
    ]
    author = live.author
    law = author.get("/v1/bounties", params={"domain": "law"}).json()["items"]
    assert {b["id"] for b in law} == {made[i]["id"] for i in (1, 3, 5)}
    tagged = author.get("/v1/bounties", params={"tag": "contracts"}).json()["items"]
    assert {b["id"] for b in tagged} == {made[i]["id"] for i in (0, 3, 6)}
    rich = author.get("/v1/bounties", params={"min_reward": 300, "max_reward": 500}).json()["items"]
    assert sorted(b["reward"] for b in rich) == [300, 400, 500]
    soon = author.get("/v1/bounties", params={"deadline_before": "2099-01-03T00:00:00Z"}).json()[
        "items"
    ]
    assert [b["id"] for b in soon] == [made[0]["id"], made[1]["id"]]
    found = author.get("/v1/bounties", params={"q": "WARRANTY disclaimers"}).json()["items"]
    assert [b["id"] for b in found] == [made[4]["id"]]

    # Walk every sort order page by page: each bounty exactly once, in order.
    for sort, key, reverse in [("deadline", "deadline", False), ("-reward", "reward", True)]:
        seen, cursor = [], None
        while True:
            params = {"limit": 3, "sort": sort} | ({"cursor": cursor} if cursor else {})
            page = author.get("/v1/bounties", params=params).json()
            seen.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert [b["id"] for b in seen] == [
            b["id"] for b in sorted(made, key=lambda b: b[key], reverse=reverse)
        ]

    bad = author.get("/v1/bounties", params={"cursor": "garbage", "sort": "deadline"})
    assert bad.status_code == 422 and problem_type(bad) == "validation-error"


def test_bounty_detail_etag_and_conditional_get(live):
    bounty = live.bounty()
    first = live.author.get(f"/v1/bounties/{bounty['id']}")
    assert first.status_code == 200 and first.json()["brief"].startswith("# Brief")
    assert first.headers["etag"] == '"1"'
    again = live.author.get(
        f"/v1/bounties/{bounty['id']}", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    listing = live.author.get("/v1/bounties")
    assert (
        live.author.get(
            "/v1/bounties", headers={"If-None-Match": listing.headers["etag"]}
        ).status_code
        == 304
    )

    # A change bumps the version: the old ETag no longer matches, a stale If-Match is refused.
    stale = first.headers["etag"]
    changed = live.lab.patch(f"/v1/bounties/{bounty['id']}", {"reward": 4321}, if_match=stale)
    assert changed.status_code == 200 and changed.json()["reward"] == 4321
    assert (
        live.author.get(
            f"/v1/bounties/{bounty['id']}", headers={"If-None-Match": stale}
        ).status_code
        == 200
    )
    refused = live.lab.patch(f"/v1/bounties/{bounty['id']}", {"reward": 1}, if_match=stale)
    assert refused.status_code == 412 and problem_type(refused) == "precondition-failed"
    assert refused.json()["current_etag"] == '"2"'
    missing = live.lab.patch(f"/v1/bounties/{bounty['id']}", {"reward": 1})
    assert missing.status_code == 428 and problem_type(missing) == "precondition-required"


def test_draft_bounties_are_visible_to_their_lab_only(live):
    draft = live.bounty(status="draft")
    assert live.lab.get(f"/v1/bounties/{draft['id']}").status_code == 200
    assert live.author.get(f"/v1/bounties/{draft['id']}").status_code == 404
    assert live.lab2.get(f"/v1/bounties/{draft['id']}").status_code == 404
    assert draft["id"] not in {b["id"] for b in live.author.get("/v1/bounties").json()["items"]}
    assert live.author.post("/v1/submissions", {"bounty_id": draft["id"]}).status_code == 404
    back = live.lab.patch(f"/v1/bounties/{draft['id']}", {"status": "open"}, if_match='"1"')
    assert back.status_code == 200
    again = live.lab.patch(f"/v1/bounties/{draft['id']}", {"status": "draft"}, if_match='"2"')
    assert again.status_code == 409 and problem_type(again) == "invalid-transition"


def test_bounty_validation_errors_say_where(live):
    response = live.lab.post(
        "/v1/bounties",
        {"title": "x", "domain": "law", "reward": -5, "deadline": "2099-01-01T00:00:00Z"},
    )
    assert response.status_code == 422 and problem_type(response) == "validation-error"
    assert any(err["loc"][-1] == "reward" for err in response.json()["errors"])
    naive = live.lab.post(
        "/v1/bounties",
        {"title": "x", "domain": "law", "reward": 5, "deadline": "2099-01-01T00:00:00"},
    )
    assert naive.status_code == 422
    not_json = live.lab.client.post(
        "/v1/bounties", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert not_json.status_code in (400, 422) and not_json.headers["content-type"].startswith(
        PROBLEM
    )


# -- blobs -----------------------------------------------------------------------------------


def test_blob_batch_upload_hash_check_and_size_limit(live):
    author = live.author
    data = b"hello world\n"
    sha = hashlib.sha256(data).hexdigest()
    other = hashlib.sha256(b"other").hexdigest()
    assert author.post("/v1/blobs/batch", {"sha256": [sha, other, sha]}).json() == {
        "missing": [sha, other]
    }

    wrong = author.put(f"/v1/blobs/{sha}", content=b"tampered in transit")
    assert wrong.status_code == 422 and problem_type(wrong) == "hash-mismatch"
    assert wrong.json()["actual_sha256"] == hashlib.sha256(b"tampered in transit").hexdigest()
    assert author.post("/v1/blobs/batch", {"sha256": [sha]}).json() == {"missing": [sha]}

    assert author.put(f"/v1/blobs/{sha}", content=data).status_code == 201
    assert author.put(f"/v1/blobs/{sha}", content=data).status_code == 200  # already there
    assert author.post("/v1/blobs/batch", {"sha256": [sha, other]}).json() == {"missing": [other]}
    assert author.get(f"/v1/blobs/{sha}").content == data
    # Another author neither uploaded it nor can see a revision naming it.
    assert live.author2.get(f"/v1/blobs/{sha}").status_code == 404

    big = b"x" * (live.platform.settings.max_blob_bytes + 1)
    too_big = author.put(f"/v1/blobs/{hashlib.sha256(big).hexdigest()}", content=big)
    assert too_big.status_code == 413 and problem_type(too_big) == "payload-too-large"
    assert author.put("/v1/blobs/NOT-A-HASH", content=b"x").status_code == 422
    assert author.post("/v1/blobs/batch", {"sha256": ["abc"]}).status_code == 422


def test_revision_needs_every_blob_and_safe_paths(live):
    bounty = live.bounty()
    author = live.author
    submission = author.post("/v1/submissions", {"bounty_id": bounty["id"]}).json()
    absent = hashlib.sha256(b"never uploaded").hexdigest()
    response = author.post(
        f"/v1/submissions/{submission['id']}/revisions",
        {"files": {"env.toml": absent}},
        if_match='"1"',
    )
    assert response.status_code == 422 and problem_type(response) == "missing-blobs"
    assert response.json()["missing"] == [absent]
    manifest = author.upload({"a.txt": b"a"})
    for bad in ["../escape.txt", "/etc/passwd", "a//b", "dir\\file", "./a"]:
        response = author.post(
            f"/v1/submissions/{submission['id']}/revisions",
            {"files": {bad: manifest["a.txt"]}},
            if_match='"1"',
        )
        assert response.status_code == 422, bad
    assert author.submission(submission["id"])["state"] == "submitted"


# -- submissions: one per bounty, If-Match, idempotency -----------------------------------------


def test_one_submission_per_author_per_bounty(live):
    bounty = live.bounty()
    first = live.author.post("/v1/submissions", {"bounty_id": bounty["id"]})
    assert first.status_code == 201 and first.headers["location"].endswith(first.json()["id"])
    second = live.author.post("/v1/submissions", {"bounty_id": bounty["id"]})
    assert second.status_code == 409 and problem_type(second) == "submission-exists"
    assert second.json()["submission_id"] == first.json()["id"]
    assert live.author2.post("/v1/submissions", {"bounty_id": bounty["id"]}).status_code == 201
    closed = live.bounty(status="open")
    live.lab.patch(f"/v1/bounties/{closed['id']}", {"status": "closed"}, if_match='"1"')
    refused = live.author.post("/v1/submissions", {"bounty_id": closed["id"]})
    assert refused.status_code == 409 and problem_type(refused) == "bounty-closed"


def test_idempotency_key_replays_first_result_and_rejects_other_body(live):
    bounty, other = live.bounty(), live.bounty(title="Other")
    first = live.author.post("/v1/submissions", {"bounty_id": bounty["id"]}, key="intent-1")
    replay = live.author.post("/v1/submissions", {"bounty_id": bounty["id"]}, key="intent-1")
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json() and replay.headers["idempotency-replayed"] == "true"
    assert (
        replay.headers["etag"] == first.headers["etag"]
        and replay.headers["location"] == first.headers["location"]
    )
    assert len(live.author.get("/v1/submissions").json()["items"]) == 1

    reused = live.author.post("/v1/submissions", {"bounty_id": other["id"]}, key="intent-1")
    assert reused.status_code == 422 and problem_type(reused) == "idempotency-key-reused"
    # Keys are per user: the same key from someone else is a different intent.
    assert (
        live.author2.post(
            "/v1/submissions", {"bounty_id": bounty["id"]}, key="intent-1"
        ).status_code
        == 201
    )

    # A replay still answers the first result after the resource moved on (stale If-Match).
    sid = first.json()["id"]
    manifest = live.author.upload({"env.toml": b"x = 1\n"})
    body = {"files": manifest, "message": "one"}
    pushed = live.author.post(
        f"/v1/submissions/{sid}/revisions", body, key="push-1", if_match=first.headers["etag"]
    )
    assert pushed.status_code == 201
    replayed = live.author.post(
        f"/v1/submissions/{sid}/revisions", body, key="push-1", if_match=first.headers["etag"]
    )
    assert replayed.status_code == 201 and replayed.json()["number"] == 1
    assert len(live.author.get(f"/v1/submissions/{sid}/revisions").json()["items"]) == 1

    # Failures are not recorded: fix the request, retry with the same key.
    failed = live.author.post(
        f"/v1/submissions/{sid}/revisions",
        {"files": manifest, "message": "two"},
        key="push-2",
        if_match='"1"',
    )
    assert failed.status_code == 412
    fixed = live.author.post(
        f"/v1/submissions/{sid}/revisions",
        {"files": manifest, "message": "two"},
        key="push-2",
        if_match=live.author.submission(sid)
        and live.author.get(f"/v1/submissions/{sid}").headers["etag"],
    )
    assert fixed.status_code == 201 and fixed.json()["number"] == 2
    assert (
        live.author.post(
            "/v1/submissions", {"bounty_id": bounty["id"]}, key="bad key with spaces"
        ).status_code
        == 400
    )


def test_revision_if_match_412_and_428(live):
    bounty = live.bounty()
    created = live.author.post("/v1/submissions", {"bounty_id": bounty["id"]})
    sid, etag = created.json()["id"], created.headers["etag"]
    manifest = live.author.upload({"env.toml": b"a"})
    no_header = live.author.post(f"/v1/submissions/{sid}/revisions", {"files": manifest})
    assert no_header.status_code == 428
    ok = live.author.post(f"/v1/submissions/{sid}/revisions", {"files": manifest}, if_match=etag)
    assert ok.status_code == 201 and ok.headers["etag"] != etag
    stale = live.author.post(f"/v1/submissions/{sid}/revisions", {"files": manifest}, if_match=etag)
    assert stale.status_code == 412 and stale.json()["current_etag"] == ok.headers["etag"]
    current = live.author.get(f"/v1/submissions/{sid}")
    assert current.headers["etag"] == ok.headers["etag"] and current.json()["state"] == "checking"
    assert (
        live.author.get(
            f"/v1/submissions/{sid}", headers={"If-None-Match": current.headers["etag"]}
        ).status_code
        == 304
    )


# -- the state machine ---------------------------------------------------------------------------


def _in_review(live, files=None) -> str:
    bounty = live.bounty()
    revision = live.author.submit(bounty["id"], files or {"env.toml": b"v1\n"})
    sid = revision["submission_id"]
    live.pass_check(sid, 1)
    assert live.author.submission(sid)["state"] == "in_review"
    live.lab.post(f"/v1/submissions/{sid}/reviewers", {"reviewer_id": live.reviewer.id})
    return sid


def _transition(api, sid, to):
    etag = api.get(f"/v1/submissions/{sid}").headers["etag"]
    return api.post(f"/v1/submissions/{sid}/transition", {"to": to}, if_match=etag)


def test_state_machine_review_outcomes_and_withdrawal(live):
    sid = _in_review(live)
    # The author cannot decide their own submission; a reviewer cannot withdraw it.
    assert _transition(live.author, sid, "accepted").status_code == 403
    assert _transition(live.reviewer, sid, "withdrawn").status_code == 403
    assert _transition(live.reviewer, sid, "checking").status_code == 409
    changes = _transition(live.reviewer, sid, "changes_requested")
    assert changes.status_code == 200 and changes.json()["state"] == "changes_requested"
    # A decision needs in_review: a second one now is an invalid transition.
    again = _transition(live.reviewer, sid, "accepted")
    assert (
        again.status_code == 409
        and problem_type(again) == "invalid-transition"
        and again.json()["allowed"] == []
    )
    # A new revision goes back through checking.
    live.author.push(sid, {"env.toml": b"v2\n"})
    assert live.author.submission(sid)["state"] == "checking"
    live.pass_check(sid, 2)
    assert _transition(live.reviewer, sid, "accepted").json()["state"] == "accepted"
    # Final: no withdrawal, no new revision.
    assert _transition(live.author, sid, "withdrawn").status_code == 409
    manifest = live.author.upload({"env.toml": b"v3\n"})
    etag = live.author.get(f"/v1/submissions/{sid}").headers["etag"]
    late = live.author.post(f"/v1/submissions/{sid}/revisions", {"files": manifest}, if_match=etag)
    assert late.status_code == 409 and problem_type(late) == "invalid-transition"


def test_withdrawn_by_author_and_check_result_of_withdrawn_is_history(live):
    bounty = live.bounty()
    revision = live.author.submit(bounty["id"], {"env.toml": b"v1\n"})
    sid = revision["submission_id"]
    withdrawn = _transition(live.author, sid, "withdrawn")
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    live.pass_check(sid, 1)  # a late check result does not resurrect it
    assert live.author.submission(sid)["state"] == "withdrawn"


def test_review_verdicts_bound_to_latest_revision_with_rubric_scores(live):
    sid = _in_review(live)
    reviews = f"/v1/submissions/{sid}/reviews"
    bad_score = live.reviewer.post(
        reviews, {"revision": 1, "verdict": "comment", "scores": {"correctness": 9}}
    )
    assert bad_score.status_code == 422
    unknown = live.reviewer.post(
        reviews, {"revision": 1, "verdict": "comment", "scores": {"style": 1}}
    )
    assert unknown.status_code == 422
    assert (
        live.reviewer2.post(reviews, {"revision": 1, "verdict": "approve"}).status_code == 404
    )  # not assigned
    assert live.author.post(reviews, {"revision": 1, "verdict": "approve"}).status_code == 403
    note = live.reviewer.post(
        reviews, {"revision": 1, "verdict": "comment", "scores": {"correctness": 3}}
    )
    assert note.status_code == 201 and live.author.submission(sid)["state"] == "in_review"
    asked = live.reviewer.post(
        reviews, {"revision": 1, "verdict": "request_changes", "summary": "Task 2 is ambiguous"}
    )
    assert asked.status_code == 201 and live.author.submission(sid)["state"] == "changes_requested"
    live.author.push(sid, {"env.toml": b"v2\n"})
    live.pass_check(sid, 2)
    old = live.reviewer.post(reviews, {"revision": 1, "verdict": "approve"})
    assert (
        old.status_code == 409
        and problem_type(old) == "revision-superseded"
        and old.json()["current_revision"] == 2
    )
    approved = live.reviewer.post(
        reviews, {"revision": 2, "verdict": "approve", "scores": {"correctness": 5}}
    )
    assert approved.status_code == 201 and live.author.submission(sid)["state"] == "accepted"
    listed = live.author.get(reviews).json()["items"]
    assert [(r["revision"], r["verdict"]) for r in listed] == [
        (1, "comment"),
        (1, "request_changes"),
        (2, "approve"),
    ]


# -- the change feed -----------------------------------------------------------------------------


def _feed(api, cursor=None, limit=500):
    everything, pages = [], 0
    while True:
        page = api.get(
            "/v1/changes", params={"limit": limit} | ({"cursor": cursor} if cursor else {})
        ).json()
        everything.extend(page["changes"])
        cursor, pages = page["next_cursor"], pages + 1
        if not page["has_more"]:
            return everything, cursor


def test_change_feed_is_incremental_compacted_and_private(live):
    bounty = live.bounty()
    changes, cursor = _feed(live.author, limit=1)
    assert [(c["entity"], c["id"]) for c in changes] == [("bounty", bounty["id"])]
    assert changes[0]["data"] == live.author.get(f"/v1/bounties/{bounty['id']}").json()
    unchanged = live.author.get("/v1/changes", params={"cursor": cursor}).json()
    assert unchanged == {"changes": [], "next_cursor": cursor, "has_more": False}

    revision = live.author.submit(bounty["id"], {"env.toml": b"v1\n"})
    sid = revision["submission_id"]
    changes, cursor2 = _feed(live.author, cursor)
    assert {(c["entity"], c["id"]) for c in changes} == {
        ("submission", sid),
        ("revision", f"{sid}/1"),
    }
    seqs = [c["seq"] for c in changes]
    assert seqs == sorted(seqs)
    # Compacted: the submission changed twice (created, then checking) but appears once, latest.
    assert [c["data"]["state"] for c in changes if c["entity"] == "submission"] == ["checking"]

    # Other authors and unassigned reviewers never see it; the bounty's lab does.
    assert all(c["entity"] == "bounty" for c in _feed(live.author2)[0])
    assert all(c["entity"] == "bounty" for c in _feed(live.reviewer)[0])
    assert ("submission", sid) in {(c["entity"], c["id"]) for c in _feed(live.lab)[0]}
    assert ("submission", sid) not in {(c["entity"], c["id"]) for c in _feed(live.lab2)[0]}

    # A reviewer assigned later gets the submission and its history re-announced.
    _, reviewer_cursor = _feed(live.reviewer)
    assert (
        live.lab.post(
            f"/v1/submissions/{sid}/reviewers", {"reviewer_id": live.reviewer.id}
        ).status_code
        == 200
    )
    announced, reviewer_cursor = _feed(live.reviewer, reviewer_cursor)
    assert {("submission", sid), ("revision", f"{sid}/1")} <= {
        (c["entity"], c["id"]) for c in announced
    }
    # Unassigned: told to drop it, and nothing about it afterwards.
    assert live.lab.delete(f"/v1/submissions/{sid}/reviewers/{live.reviewer.id}").status_code == 200
    dropped, reviewer_cursor = _feed(live.reviewer, reviewer_cursor)
    assert [(c["entity"], c["op"]) for c in dropped if c["id"] == sid] == [("submission", "delete")]
    live.author.push(sid, {"env.toml": b"v2\n"})
    assert _feed(live.reviewer, reviewer_cursor)[0] == []

    garbage = live.author.get("/v1/changes", params={"cursor": "abc"})
    assert garbage.status_code == 422


def test_health_and_openapi(live):
    anonymous = live.anonymous()
    assert anonymous.get("/v1/health").json()["status"] == "ok"
    schema = anonymous.get("/openapi.json").json()
    assert "/v1/changes" in schema["paths"] and "/v1/blobs/{sha256}" in schema["paths"]


def test_bulk_inserted_bounties_read_like_posted_ones(live):
    from app.platform.demo import bulk_insert_bounties

    items = [
        {
            "title": f"Bulk {i}",
            "domain": "finance",
            "tags": ["bulk", "bulk"],
            "reward": i,
            "deadline": "2099-06-01T12:00:00+02:00",
            "brief": f"# Brief {i}",
            "rubric": [{"id": "c", "title": "C"}],
        }
        for i in range(30)
    ]
    ids = bulk_insert_bounties(live.platform, items)
    assert len(set(ids)) == 30
    feed = {c["id"]: c["data"] for c in _feed(live.author)[0] if c["entity"] == "bounty"}
    for bounty_id in ids:
        detail = live.author.get(f"/v1/bounties/{bounty_id}").json()
        assert feed[bounty_id] == detail
        assert detail["tags"] == ["bulk"] and detail["deadline"] == "2099-06-01T10:00:00Z"
    found = live.author.get("/v1/bounties", params={"tag": "bulk", "limit": 200}).json()["items"]
    assert len(found) == 30
    with pytest.raises(ValueError):
        bulk_insert_bounties(live.platform, [{"title": "no deadline", "domain": "x", "reward": 1}])
