"""`gauntlet demo` walks through all three tiers on the local platform: the author's funnel and
submission, the platform's checks, a line comment with a suggestion and a request for changes
by the local reviewer, the suggestion applied and resubmitted, and the approval."""

from __future__ import annotations

import json

import pytest

from app.cli import main

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_demo_closes_the_review_loop_on_the_local_platform(tmp_path, gauntlet_home, capsys):
    target = tmp_path / "demo-env"
    assert main(["demo", str(target)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out

    # The reviewer commented on the tolerance line with a suggestion, and asked for changes.
    assert "request-changes" in out and "submission now changes_requested" in out
    assert "suggested replacement:" in out
    # The author's revision 2 carries the suggestion; the reviewer sees only that file changed,
    # and the thread on the changed line is listed as outdated, not hidden.
    assert (
        "# relative 0.1%: the data have 3 significant figures" in (target / "env.toml").read_text()
    )
    shown = out.split("The reviewer sees only what changed", 1)[1].split("The reviewer approves")[0]
    assert "Changed since your review of revision 1:" in shown
    assert "modified  env.toml" in shown and "tasks.jsonl" not in shown.split("Threads")[0]
    assert "[outdated]" in shown
    assert "submission now accepted" in out

    # Both profiles agree on the end state after the last sync.
    assert main(["status", "--json"]) == 0
    (submission,) = json.loads(capsys.readouterr().out)["submissions"]
    assert (submission["state"], submission["revision"]) == ("accepted", 2)
    assert main(["review", "list", "--json"]) == 0
    queue = json.loads(capsys.readouterr().out)
    assert [(row["state"], row["my_last_verdict"]) for row in queue] == [("accepted", "approve")]


def test_demo_leaves_review_to_a_configured_platform(tmp_path, gauntlet_home, platform, capsys,
                                                     monkeypatch):  # fmt: skip
    """Logged in to another platform, the demo submits there and does not act as its reviewer."""
    monkeypatch.setenv("GAUNTLET_SERVER", platform.url)
    monkeypatch.setenv("GAUNTLET_TOKEN", platform.tokens["author"])
    assert main(["demo", str(tmp_path / "demo-env")]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "Submit it for review" in out and "its own reviewers take it from here" in out
    assert "review comment" not in out
