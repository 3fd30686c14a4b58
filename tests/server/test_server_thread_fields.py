"""Review threads carry a severity, a suggested replacement and a task-row anchor; bad values
are refused with a 422 that says what is wrong and where."""

from __future__ import annotations

import pytest
from support.platform_testkit import BACKENDS

TASKS = '{"id": "t1", "prompt": "2+2?", "answer": 4}\n{"id": "t2", "prompt": "3+3?", "answer": 6}\n'
GRADER = "def grade(answer, expected):\n    return answer == expected\n"


def _in_review(live):
    bounty = live.bounty()
    files = {"tasks.jsonl": TASKS.encode(), "grader.py": GRADER.encode()}
    sid = live.author.submit(bounty["id"], files)["submission_id"]
    live.pass_check(sid, 1)
    live.lab.post(f"/v1/submissions/{sid}/reviewers", {"reviewer_id": live.reviewer.id})
    return sid


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_severity_suggestion_and_task_round_trip(live):
    sid = _in_review(live)
    url = f"/v1/submissions/{sid}/threads"
    made = live.reviewer.post(
        url,
        {
            "revision": 1,
            "path": "grader.py",
            "start_line": 2,
            "end_line": 2,
            "body": "Compare numbers with a tolerance.",
            "severity": "blocking",
            "suggestion": "    return abs(answer - expected) < 1e-9",
        },
    )
    assert made.status_code == 201, made.text
    on_task = live.reviewer.post(
        url, {"revision": 1, "body": "Ambiguous prompt.", "task_id": "t2", "severity": "nit"}
    )
    assert on_task.status_code == 201, on_task.text
    plain = live.reviewer.post(url, {"revision": 1, "path": "grader.py", "body": "ok"})
    assert plain.status_code == 201, plain.text

    items = {t["id"]: t for t in live.author.get(url).json()["items"]}
    first = items[made.json()["id"]]
    assert first["severity"] == "blocking"
    assert first["suggestion"] == "    return abs(answer - expected) < 1e-9"
    assert first["task_id"] is None
    task = items[on_task.json()["id"]]
    assert (task["severity"], task["task_id"]) == ("nit", "t2")
    # A thread on a task row with no path anchors to that row's line in tasks.jsonl.
    assert task["anchor"]["path"] == "tasks.jsonl" and task["anchor"]["start_line"] == 2
    assert '"t2"' in task["anchor"]["quote"]
    default = items[plain.json()["id"]]
    assert (default["severity"], default["suggestion"], default["task_id"]) == (
        "normal",
        None,
        None,
    )


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_bad_thread_fields_are_clear_422s(live):
    sid = _in_review(live)
    url = f"/v1/submissions/{sid}/threads"
    base = {"revision": 1, "path": "grader.py", "start_line": 1, "body": "x"}

    bad_severity = live.reviewer.post(url, {**base, "severity": "critical"})
    assert bad_severity.status_code == 422
    assert "severity" in bad_severity.json()["detail"]
    assert "blocking" in bad_severity.json()["detail"]

    unknown_task = live.reviewer.post(url, {"revision": 1, "body": "x", "task_id": "t9"})
    assert unknown_task.status_code == 422
    detail = unknown_task.json()["detail"]
    assert "no task 't9'" in detail and "t1, t2" in detail

    past_end = live.reviewer.post(url, {**base, "start_line": 2, "end_line": 7})
    assert past_end.status_code == 422
    assert "grader.py" in past_end.json()["detail"] and "2 lines" in past_end.json()["detail"]

    no_lines = live.reviewer.post(url, {"revision": 1, "body": "x", "suggestion": "y"})
    assert no_lines.status_code == 422
    assert "suggestion replaces lines" in no_lines.json()["detail"]
    assert live.author.get(url).json()["items"] == []


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_threads_from_before_migration_0002_read_as_normal(database_url):
    from alembic import command
    from sqlalchemy import text

    from app.platform.db import alembic_config, make_engine, migrate

    engine = make_engine(database_url)
    with engine.begin() as conn:
        config = alembic_config(engine)
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    now = "2026-01-01 00:00:00"
    rows = [
        "INSERT INTO users (id, name, role, created_at) VALUES ('u1', 'ada', 'author', :now)",
        "INSERT INTO bounties (id, lab_id, title, summary, domain, tags, tags_text, status, "
        "reward, currency, deadline, env_kind, constraints, brief, rubric, search_text, "
        "created_at, updated_at, version) VALUES ('b1', 'u1', 't', '', 'd', '[]', '', 'open', "
        "1, 'USD', :now, 'qa', '{}', '', '[]', '', :now, :now, 1)",
        "INSERT INTO submissions (id, bounty_id, author_id, state, created_at, updated_at, "
        "version) VALUES ('s1', 'b1', 'u1', 'in_review', :now, :now, 1)",
        "INSERT INTO threads (id, submission_id, author_id, created_at, version, resolved, "
        "anchor_revision, position_revision, position_status) "
        "VALUES ('t1', 's1', 'u1', :now, 1, false, 1, 1, 'current')",
    ]
    with engine.begin() as conn:
        for sql in rows:
            conn.execute(text(sql), {"now": now})
    migrate(engine)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT severity, suggestion, task_id FROM threads")).one()
    engine.dispose()
    assert tuple(row) == ("normal", None, None)
