"""Review threads anchored to text: current / moved / outdated across revisions, comments,
replies and resolving."""

from __future__ import annotations

import pytest
from support.platform_testkit import BACKENDS

from app.platform.anchoring import locate, make_anchor

TASKS_V1 = (
    "\n".join(
        [
            '{"id": "t1", "prompt": "What is 2+2?", "answer": 4}',
            '{"id": "t2", "prompt": "Capital of France?", "answer": "Paris"}',
            '{"id": "t3", "prompt": "Boiling point of water at 1 atm in C?", "answer": 100}',
            '{"id": "t4", "prompt": "Speed of light in m/s?", "answer": 299792458}',
        ]
    )
    + "\n"
)


def test_anchor_current_moved_outdated_and_ambiguity():
    anchor = make_anchor(TASKS_V1, 2, 3)
    assert anchor.quote.count("\n") == 1 and "Capital of France" in anchor.quote
    assert locate(anchor, TASKS_V1).status == "current"
    assert (
        locate(anchor, TASKS_V1.replace("\n", "\r\n")).status == "current"
    )  # line endings do not matter
    moved_text = '{"id": "t0", "prompt": "new first task", "answer": 1}\n' * 3 + TASKS_V1
    moved = locate(anchor, moved_text)
    assert (moved.status, moved.start_line, moved.end_line) == ("moved", 5, 6)
    edited = TASKS_V1.replace("Capital of France?", "Capital of Italy?")
    gone = locate(anchor, edited)
    assert (gone.status, gone.start_line, gone.end_line) == ("outdated", 2, 3)
    assert locate(anchor, None).status == "outdated"
    # The same quote twice: the occurrence with the matching context wins, not the first one.
    lines = TASKS_V1.splitlines()
    duplicated = (
        "\n".join(["x", "y", lines[1], lines[2], "z", lines[0], lines[1], lines[2], lines[3]])
        + "\n"
    )
    best = locate(anchor, duplicated)
    assert (best.status, best.start_line) == ("moved", 7)
    with pytest.raises(ValueError):
        make_anchor(TASKS_V1, 3, 9)
    assert anchor.quote_sha256 != anchor.context_sha256


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_threads_reanchor_on_new_revisions_and_outdated_stay_visible(live):
    bounty = live.bounty()
    files = {"env.toml": b'schema = "gauntlet/1"\n', "tasks.jsonl": TASKS_V1.encode()}
    revision = live.author.submit(bounty["id"], files)
    sid = revision["submission_id"]
    live.pass_check(sid, 1)
    live.lab.post(f"/v1/submissions/{sid}/reviewers", {"reviewer_id": live.reviewer.id})
    reviewer = live.reviewer

    def open_thread(start, end, body):
        response = reviewer.post(
            f"/v1/submissions/{sid}/threads",
            {
                "revision": 1,
                "path": "tasks.jsonl",
                "start_line": start,
                "end_line": end,
                "body": body,
            },
        )
        assert response.status_code == 201, response.text
        return response.json()

    on_t2 = open_thread(2, 2, "Ambiguous: the country's capital or largest city?")
    on_t3 = open_thread(3, 3, "Say which scale.")
    on_t4 = open_thread(4, 4, "Give the unit in the answer too.")
    assert on_t2["anchor"]["quote"] == TASKS_V1.splitlines()[1]
    assert on_t2["position"] == {
        "revision": 1,
        "status": "current",
        "path": "tasks.jsonl",
        "start_line": 2,
        "end_line": 2,
    }
    assert on_t2["comments"][0]["body"].startswith("Ambiguous")
    general = reviewer.post(
        f"/v1/submissions/{sid}/threads", {"revision": 1, "body": "Nice set overall."}
    )
    assert general.status_code == 201 and general.json()["anchor"] is None

    bad = reviewer.post(
        f"/v1/submissions/{sid}/threads",
        {"revision": 1, "path": "tasks.jsonl", "start_line": 3, "end_line": 99, "body": "x"},
    )
    assert bad.status_code == 422
    assert (
        reviewer.post(
            f"/v1/submissions/{sid}/threads",
            {"revision": 1, "path": "nope.txt", "start_line": 1, "body": "x"},
        ).status_code
        == 422
    )

    # The author replies (a reply to the first comment) and pushes revision 2: a new task on
    # top moves t2 down, t3 is rewritten (outdated), t4 moves too.
    reply = live.author.post(
        f"/v1/threads/{on_t2['id']}/comments",
        {"body": "Capital — fixed in the next push.", "parent_id": on_t2["comments"][0]["id"]},
    )
    assert reply.status_code == 201 and reply.json()["parent_id"] == on_t2["comments"][0]["id"]
    lines = TASKS_V1.splitlines()
    v2 = (
        "\n".join(
            [
                '{"id": "t0", "prompt": "Warm-up: 1+1?", "answer": 2}',
                lines[0],
                lines[1],
                lines[2].replace("in C?", "in degrees Celsius?"),
                lines[3],
            ]
        )
        + "\n"
    )
    live.author.push(sid, {**files, "tasks.jsonl": v2.encode()})
    threads = {
        t["id"]: t for t in live.author.get(f"/v1/submissions/{sid}/threads").json()["items"]
    }
    assert threads[on_t2["id"]]["position"] == {
        "revision": 2,
        "status": "moved",
        "path": "tasks.jsonl",
        "start_line": 3,
        "end_line": 3,
    }
    assert threads[on_t3["id"]]["position"]["status"] == "outdated"
    assert threads[on_t3["id"]]["position"]["start_line"] == 3  # where it was written
    assert threads[on_t4["id"]]["position"]["status"] == "moved"
    assert threads[general.json()["id"]]["position"]["status"] == "current"
    assert [c["body"] for c in threads[on_t2["id"]]["comments"]] == [
        "Ambiguous: the country's capital or largest city?",
        "Capital — fixed in the next push.",
    ]

    # Revision 3 removes the file: every line thread is outdated, and still listed until resolved.
    live.author.push(sid, {"env.toml": files["env.toml"], "tasks_v3.jsonl": v2.encode()})
    threads = {t["id"]: t for t in reviewer.get(f"/v1/submissions/{sid}/threads").json()["items"]}
    assert {threads[t["id"]]["position"]["status"] for t in (on_t2, on_t3, on_t4)} == {"outdated"}
    resolved = reviewer.post(f"/v1/threads/{on_t3['id']}/resolve", {"resolved": True})
    assert resolved.status_code == 200 and resolved.json()["resolved"] is True
    assert resolved.json()["resolved_by"]["id"] == reviewer.id
    listed = reviewer.get(f"/v1/submissions/{sid}/threads").json()["items"]
    assert len(listed) == 4  # resolved threads are kept, flagged
    reopened = live.author.post(f"/v1/threads/{on_t3['id']}/resolve", {"resolved": False})
    assert reopened.json()["resolved"] is False

    # Threads of others are private; a comment's parent must be in the same thread.
    assert (
        live.author2.post(f"/v1/threads/{on_t2['id']}/comments", {"body": "hi"}).status_code == 404
    )
    wrong_parent = reviewer.post(
        f"/v1/threads/{on_t4['id']}/comments",
        {"body": "x", "parent_id": on_t2["comments"][0]["id"]},
    )
    assert wrong_parent.status_code == 422

    # A thread on an old revision is placed on the latest one straight away.
    late = reviewer.post(
        f"/v1/submissions/{sid}/threads",
        {"revision": 2, "path": "env.toml", "start_line": 1, "body": "Pin the schema."},
    )
    assert (
        late.json()["position"]["status"] == "current" and late.json()["position"]["revision"] == 3
    )

    feed = live.author.get("/v1/changes").json()["changes"]
    assert {c["id"] for c in feed if c["entity"] == "thread"} == set(threads) | {late.json()["id"]}
    assert sum(1 for c in feed if c["entity"] == "comment") == 6  # 5 first comments + 1 reply
