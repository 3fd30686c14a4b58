"""`gauntlet review list|show|comment|verdict` against the real local platform, with the
author's side (`gauntlet submit`, `gauntlet reviews`) on its own profile."""

from __future__ import annotations

import json

import pytest
from support.review_setup import Roles, on_platform, start_local
from support.review_setup import pass_check as check_passes


@pytest.fixture
def local(tmp_path, gauntlet_home):
    embedded = start_local(tmp_path / "platform")
    try:
        yield embedded
    finally:
        embedded.stop()


@pytest.fixture
def act(local, tmp_path, monkeypatch, capsys):
    """Run a `gauntlet` command as one role, each with its own profile and local store."""
    return Roles(local, tmp_path, monkeypatch, capsys)


def pass_check(tmp_path, submission_id: str, number: int) -> None:
    check_passes(tmp_path / "platform", submission_id, number)


def _on_platform(tmp_path, work):
    return on_platform(tmp_path / "platform", work)


def _submitted(act, tmp_path):
    from app.envpack.templates import create_from_template

    package = create_from_template("qa-python", tmp_path / "pkg")
    return act.submit(package, tmp_path / "platform"), package


def _first_task(package) -> str:
    return json.loads((package / "tasks.jsonl").read_text().splitlines()[0])["id"]


def test_review_flow_round_trips_threads_to_the_author(act, tmp_path):
    sid, package = _submitted(act, tmp_path)
    code, out, err = act("reviewer", "review", "list", "--json")
    assert code == 0, err
    (row,) = json.loads(out)
    assert (row["id"], row["state"], row["revision"]) == (sid, "in_review", 1)
    assert row["check"]["verdict"] == "pass" or row["check"]["status"] == "passed"
    assert act("reviewer", "review", "list")[1].count(sid) == 1

    grader = "grader.py"
    code, out, err = act(
        "reviewer", "review", "comment", sid, f"{grader}:1-2", "--body", "Explain this.",
        "--severity", "blocking", "--suggest", "# a clearer first line",
    )  # fmt: skip
    assert code == 0, err
    assert "blocking" in out and f"{grader}:1" in out
    task = _first_task(package)
    code, out, err = act(
        "reviewer", "review", "comment", sid, "--task", task, "--body", "Ambiguous.",
        "--severity", "nit",
    )  # fmt: skip
    assert code == 0, err

    code, out, err = act("reviewer", "review", "show", sid, "--json")
    shown = json.loads(out)
    assert shown["last_reviewed_revision"] is None and shown["rubric"]
    assert {c["change"] for c in shown["changed_files"]} == {"added"}
    by_file = {t["file"]: t for t in shown["threads"]}
    assert by_file[grader]["severity"] == "blocking"
    assert by_file[grader]["suggestion"] == "# a clearer first line"
    assert (by_file["tasks.jsonl"]["task_id"], by_file["tasks.jsonl"]["start_line"]) == (task, 1)
    text = act("reviewer", "review", "show", sid)[1]
    assert "suggested replacement" in text and "Rubric:" in text and "blocking" in text

    criterion = shown["rubric"][0]["id"]
    code, out, err = act(
        "reviewer", "review", "verdict", sid, "request-changes", "--score", f"{criterion}=3",
        "--body", "Nearly there.",
    )  # fmt: skip
    assert code == 0 and "changes_requested" in out, err

    # The author's own store gets severity, suggestion and task anchor through the sync.
    code, out, err = act("author", "reviews", "--json", "--submission", sid)
    (entry,) = json.loads(out)
    threads = {t["file"]: t for t in entry["threads"]}
    assert threads[grader]["severity"] == "blocking"
    assert threads[grader]["suggestion"] == "# a clearer first line"
    assert threads["tasks.jsonl"]["task_id"] == task and threads["tasks.jsonl"]["severity"] == "nit"
    assert entry["reviews"][0]["scores"] == {criterion: 3}
    assert "(task " in act("author", "reviews", "--offline")[1]

    # The author resubmits: the reviewer sees only what changed, and a verdict on the old
    # revision is refused.
    readme = package / "README.md"
    readme.write_text(readme.read_text() + "\nMore detail.\n")
    assert act("author", "submit", str(package), "--bounty", entry["bounty_id"])[0] == 0
    pass_check(tmp_path, sid, 2)
    shown = json.loads(act("reviewer", "review", "show", sid, "--json")[1])
    assert shown["last_reviewed_revision"] == 1 and shown["revision"] == 2
    assert shown["changed_files"] == [{"path": "README.md", "change": "modified"}]
    code, out, err = act("reviewer", "review", "verdict", sid, "approve", "--revision", "1")
    assert code == 2 and "revision 1" in err and "revision 2" in err, err

    thread_id = by_file[grader]["id"]
    assert (
        act("reviewer", "review", "comment", sid, "--reply", thread_id, "--body", "Ping?")[0] == 0
    )
    assert act("reviewer", "review", "comment", sid, "--resolve", thread_id)[0] == 0
    threads = json.loads(act("reviewer", "review", "show", sid, "--json")[1])["threads"]
    resolved = next(t for t in threads if t["id"] == thread_id)
    assert resolved["resolved"] and resolved["comments"][-1]["body"] == "Ping?"
    assert act("reviewer", "review", "comment", sid, "--reopen", thread_id)[0] == 0
    code, out, err = act("reviewer", "review", "verdict", sid, "approve")
    assert code == 0 and "accepted" in out, err
    assert act("author", "sync")[0] == 0
    assert json.loads(act("author", "status", "--json")[1])["submissions"][0]["state"] == "accepted"
    assert json.loads(act("reviewer", "status", "--json")[1])["outbox"] == []


def test_bad_input_and_refusals_are_clear(act, tmp_path, capsys):
    sid, package = _submitted(act, tmp_path)
    code, _, err = act("reviewer", "review", "comment", sid, "grader.py:1-999", "--body", "x")
    assert code == 2 and "grader.py" in err and "past its end" in err
    code, _, err = act("reviewer", "review", "comment", sid, "--task", "nope", "--body", "x")
    assert code == 2 and "no task 'nope'" in err and _first_task(package) in err
    code, _, err = act("reviewer", "review", "comment", sid, "grader.py", "--body", "x")
    assert code == 2 and "FILE:LINE" in err
    code, _, err = act("reviewer", "review", "comment", sid, "grader.py:1")
    assert code == 2 and "--body" in err
    with pytest.raises(SystemExit):
        act("reviewer", "review", "comment", sid, "grader.py:1", "--body", "x", "--severity", "big")
    assert "invalid choice: 'big'" in capsys.readouterr().err
    code, _, err = act("reviewer", "review", "verdict", sid, "approve", "--score", "nonsense=1")
    assert code == 2 and "no criterion 'nonsense'" in err
    code, _, err = act("reviewer", "review", "verdict", sid, "approve", "--score", "x")
    assert code == 2 and "CRITERION=VALUE" in err
    code, _, err = act("reviewer", "review", "comment", sid, "--resolve", "t_missing")
    assert code == 2 and "no thread t_missing" in err
    # Refused changes are not left queued.
    assert json.loads(act("reviewer", "status", "--json")[1])["outbox"] == []
    assert json.loads(act("reviewer", "review", "show", sid, "--json")[1])["threads"] == []

    # Not assigned: the author may not judge their own work (the server refuses), and a
    # reviewer the submission is not assigned to does not have it in their queue.
    code, _, err = act("author", "review", "verdict", sid, "approve")
    assert code == 2 and "Not sent" in err and "own submission" in err, err
    assert "latest revision" not in err  # a refusal, not a stale revision: no such hint
    assert json.loads(act("author", "status", "--json")[1])["outbox"] == []
    from app.platform.auth import create_user

    token = _on_platform(tmp_path, lambda s, _: create_user(s, "other-reviewer", "reviewer")[1])
    code, out, _ = act("other", "review", "list", "--json", token=token)
    assert code == 0 and json.loads(out) == []
    code, _, err = act("other", "review", "comment", sid, "grader.py:1", "--body", "x", token=token)
    assert code == 2 and "not in your review queue" in err


def test_threads_from_an_older_store_or_server_read_as_normal(tmp_path):
    import sqlite3

    from app.sync.migrations import MIGRATIONS
    from app.sync.store import LocalStore
    from app.sync.store.database import _split_sql

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    for statement in _split_sql(MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version=1")
    conn.execute("INSERT INTO threads (id, submission_id, file) VALUES ('t_old', 's_1', 'a.py')")
    conn.commit()
    conn.close()
    with LocalStore(path) as store:
        (old,) = store.reviews.threads_for("s_1")
        assert (old.severity, old.suggestion, old.task_id) == ("normal", None, None)
        # A server that predates the fields sends none of them.
        store.reviews.upsert_thread({"id": "t_new", "submission_id": "s_1", "resolved": False})
        new = next(t for t in store.reviews.threads_for("s_1") if t.id == "t_new")
        assert new.severity == "normal" and new.task_id is None
