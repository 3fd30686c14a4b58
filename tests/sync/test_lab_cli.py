"""The lab's commands end to end against the real local platform: `gauntlet bounty
create|edit|close|submissions` and `gauntlet assign`, driven through the CLI's main()."""

from __future__ import annotations

import json

import pytest

from app.cli import main


@pytest.fixture
def as_role(platform, monkeypatch):
    """Point the CLI at the real platform, signed in with the token of `role`."""

    def use(role: str):
        monkeypatch.setenv("GAUNTLET_SERVER", platform.url)
        monkeypatch.setenv("GAUNTLET_TOKEN", platform.tokens[role])
        return platform

    return use


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def create(capsys, *extra: str) -> dict:
    code, out, err = run(
        capsys,
        "bounty", "create", "--json",
        "--title", "Enzyme kinetics QA",
        "--domain", "Biology",
        "--tag", "enzymes", "--tag", "kinetics",
        "--criterion", "correctness:3:Answers are right",
        "--criterion", "coverage:1.5",
        "--constraint", "min_tasks=50", "--constraint", "language=en",
        "--reward", "5,000", "--currency", "eur",
        "--deadline", "2099-06-30",
        *extra,
    )  # fmt: skip
    assert code == 0, err
    return json.loads(out)


def test_a_lab_creates_edits_and_closes_a_bounty(as_role, capsys, tmp_path):
    as_role("lab")
    brief = tmp_path / "brief.md"
    brief.write_text("# Brief\nMichaelis–Menten questions.\n", encoding="utf-8")
    bounty = create(capsys, "--brief-file", str(brief))
    assert bounty["title"] == "Enzyme kinetics QA" and bounty["domain"] == "biology"
    assert bounty["tags"] == ["enzymes", "kinetics"] and bounty["status"] == "open"
    assert bounty["reward"] == 5000 and bounty["currency"] == "EUR"
    assert bounty["deadline"].startswith("2099-06-30T23:59:59")
    assert bounty["brief"].startswith("# Brief") and bounty["constraints"] == {
        "min_tasks": 50,
        "language": "en",
    }
    assert [(c["id"], c["title"], c["weight"]) for c in bounty["rubric"]] == [
        ("correctness", "Answers are right", 3.0),
        ("coverage", "Coverage", 1.5),
    ]
    bid = bounty["id"]

    code, out, err = run(
        capsys, "bounty", "edit", bid, "--reward", "8000", "--title", "Enzyme kinetics, harder",
        "--constraint", "language=", "--criterion", "rigour:2", "--tag", "kcat",
    )  # fmt: skip
    assert code == 0, err
    assert f"Changed {bid}: Enzyme kinetics, harder" in out and "8,000 EUR" in out
    assert "rigour ×2" in out and "kcat" in out
    code, out, _ = run(capsys, "bounty", "edit", bid, "--json")
    assert code == 2  # nothing to change is an error, not a silent no-op
    code, out, err = run(capsys, "bounty", "close", bid)
    assert code == 0 and f"Closed {bid}" in out and "closed" in out
    code, out, _ = run(capsys, "bounty", "close", bid)
    assert code == 0 and "Already closed" in out

    # Everyone else sees the change after a sync.
    as_role("author")
    code, out, _ = run(capsys, "bounties", "--json", "--status", "closed")
    (seen,) = [b for b in json.loads(out) if b["id"] == bid]
    assert seen["reward"] == 8000 and seen["tags"] == ["kcat"]


@pytest.mark.parametrize(
    ("args", "where", "words"),
    [
        (["--criterion", "correctness:heavy"], "--criterion correctness:heavy", "not a number"),
        (["--criterion", "correctness:-1"], "--criterion correctness:-1", "not a number"),
        (["--criterion", "Bad Id:1"], "--criterion Bad Id:1", "not a criterion id"),
        (["--deadline", "2001-01-01"], "--deadline", "in the past"),
        (["--deadline", "next week"], "--deadline", "not a date"),
        (["--title", "  "], "--title", "needs a title"),
        (["--reward", "lots"], "--reward", "not a whole amount"),
        (["--currency", "euro"], "--currency", "not a currency code"),
        (["--domain", "biolgy"], "--domain", "Unknown domain 'biolgy'"),
    ],
)
def test_bad_input_is_a_clear_error_and_posts_nothing(as_role, capsys, args, where, words):
    as_role("lab")
    base = {
        "--title": "T",
        "--domain": "biology",
        "--reward": "100",
        "--deadline": "2099-01-01",
    }
    argv = ["bounty", "create"]
    for key, value in base.items():
        if key not in args:
            argv += [key, value]
    code, out, err = run(capsys, *argv, *args)
    assert code == 2 and f"{where}: error:" in err and words in err and "hint:" in err
    assert "Traceback" not in err
    code, out, _ = run(capsys, "bounties", "--json", "--q", "T")
    assert all(b["title"] != "T" for b in json.loads(out))


def test_a_missing_title_and_an_unknown_domain_say_how_to_fix_them(as_role, capsys):
    as_role("lab")
    code, _, err = run(capsys, "bounty", "create", "--domain", "biology", "--reward", "1",
                       "--deadline", "2099-01-01")  # fmt: skip
    assert code == 2 and "A bounty needs a title" in err and "--title" in err
    code, _, err = run(capsys, "bounty", "create", "--title", "T", "--domain", "astrobiology",
                       "--reward", "1", "--deadline", "2099-01-01")  # fmt: skip
    assert code == 2 and "Known domains:" in err and "biology" in err and "--new-domain" in err
    bounty = create(capsys, "--domain", "astrobiology", "--new-domain")
    assert bounty["domain"] == "astrobiology"


def test_other_roles_are_refused_with_a_clear_message(as_role, capsys):
    as_role("lab")
    bid = create(capsys)["id"]
    as_role("author")
    code, _, err = run(capsys, "bounty", "create", "--title", "T", "--domain", "biology",
                       "--reward", "1", "--deadline", "2099-01-01")  # fmt: skip
    assert code == 2 and "needs the lab role; you are signed in as author" in err
    code, _, err = run(capsys, "bounty", "close", bid)
    assert code == 2 and "only the lab that posted this bounty may change it" in err
    code, _, err = run(capsys, "bounty", "submissions", bid)
    assert code == 2 and "Only the lab that posted a bounty" in err
    as_role("reviewer")
    code, _, err = run(capsys, "assign", "s_none", "reviewer")
    assert code == 2 and "Traceback" not in err


def _submit(capsys, bounty_id: str, tmp_path) -> str:
    """The author submits a real package through the author's own CLI command."""
    from app.envpack.templates import create_from_template

    package = create_from_template("qa-exact", tmp_path / "pkg")
    assert run(capsys, "submit", str(package), "--bounty", bounty_id)[0] == 0
    code, out, _ = run(capsys, "status", "--json")
    (sub,) = json.loads(out)["submissions"]
    return sub["id"]


def test_assign_by_domain_and_never_to_the_author(as_role, platform, capsys, tmp_path):
    platform.create_user("chemist", "reviewer", domains=("chemistry",))
    platform.create_user("biologist", "reviewer", domains=("Biology",))
    as_role("lab")
    bid = create(capsys)["id"]
    as_role("author")
    sid = _submit(capsys, bid, tmp_path)

    as_role("lab")
    code, out, err = run(capsys, "bounty", "submissions", bid, "--json")
    assert code == 0, err
    (row,) = json.loads(out)
    assert row["id"] == sid and row["author"]["name"] == "you" and row["current_revision"] == 1
    assert row["check"]["status"] in ("queued", "running", "passed", "failed", "error")
    code, out, _ = run(capsys, "bounty", "submissions", bid)
    assert sid in out and "check:" in out and "1 submission" in out

    code, _, err = run(capsys, "assign", sid, "chemist")
    assert code == 2 and "not vetted in 'biology'" in err and "biologist" in err
    assert "--any-domain" in err
    code, out, err = run(capsys, "assign", sid, "biologist")
    assert code == 0 and f"Assigned biologist to {sid}" in out, err
    code, out, err = run(capsys, "assign", sid, "chemist", "--any-domain", "--json")
    assert code == 0, err
    assert {"biologist", "chemist"} <= {r["name"] for r in json.loads(out)["reviewers"]}
    code, out, _ = run(capsys, "assign", sid, "chemist", "--remove")
    assert code == 0 and "Unassigned chemist" in out and "chemist" not in out.split("reviewers:")[1]
    code, out, _ = run(capsys, "assign", sid, "chemist", "--remove")
    assert code == 0 and "Was not assigned" in out

    # Self-review: refused by the CLI, even with --any-domain, and by the platform itself.
    code, _, err = run(capsys, "assign", sid, "you", "--any-domain")
    assert code == 2 and "nobody may review their own submission" in err
    code, _, err = run(capsys, "assign", sid, "nobody-by-this-name")
    assert code == 2 and "No user 'nobody-by-this-name'" in err and "biologist" in err
