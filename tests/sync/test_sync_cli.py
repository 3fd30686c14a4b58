"""The platform commands end to end: login, bounties, submit, sync, status, reviews."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from support.services import keyring_session, need

from app.cli import main


@pytest.fixture
def use_platform(platform, monkeypatch):
    monkeypatch.setenv("GAUNTLET_SERVER", platform.url)
    monkeypatch.setenv("GAUNTLET_TOKEN", platform.tokens["author"])
    return platform


def new_package(path):
    from app.envpack.templates import create_from_template

    return create_from_template("qa-exact", path)


def test_bounties_json_and_filters(use_platform, capsys):
    assert main(["bounties", "--json"]) == 0
    everything = json.loads(capsys.readouterr().out)
    assert len(everything) >= 12
    domain = everything[0]["domain"]
    assert main(["bounties", "--json", "--domain", domain, "--sort", "reward"]) == 0
    filtered = json.loads(capsys.readouterr().out)
    assert filtered and all(b["domain"] == domain for b in filtered)
    assert [b["reward"] for b in filtered] == sorted((b["reward"] for b in filtered), reverse=True)
    assert main(["bounties", "--offline", "--q", "zzzz-no-such-words"]) == 0
    assert "No bounties match" in capsys.readouterr().out
    assert main(["bounties", everything[0]["id"]]) == 0
    detail = capsys.readouterr().out
    assert everything[0]["title"] in detail and "Rubric" in detail


def test_bounties_with_nothing_configured_uses_the_embedded_platform(gauntlet_home, capsys):
    assert main(["bounties", "--json", "--limit", "3"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3
    assert (gauntlet_home / "data" / "sync" / "local.sqlite").is_file()


def test_a_bad_date_filter_is_a_clear_error(use_platform, capsys):
    assert main(["bounties", "--offline", "--deadline-before", "next tuesday"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_submit_refuses_a_package_with_errors_and_lists_them(use_platform, tmp_path, capsys):
    package = new_package(tmp_path / "pkg")
    (package / "tasks.jsonl").write_text('{"id": "t1", "prompt": "x"\n')  # broken JSON line
    assert main(["submit", str(package), "--bounty", "b_0001"]) == 1
    err = capsys.readouterr().err
    assert "tasks.jsonl:1" in err and "Not submitted" in err
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["outbox"] == [] and status["submissions"] == []


def test_submit_then_status_and_reviews(use_platform, tmp_path, capsys):
    assert main(["bounties", "--json"]) == 0
    bounty = next(b for b in json.loads(capsys.readouterr().out) if b["status"] == "open")
    package = new_package(tmp_path / "pkg")
    assert main(["submit", str(package), "--bounty", bounty["id"], "-m", "first try"]) == 0
    assert "as revision 1" in capsys.readouterr().out
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    (sub,) = status["submissions"]
    assert sub["bounty_id"] == bounty["id"] and sub["revision"] == 1 and not sub["pending"]
    assert status["outbox"] == []
    assert main(["reviews", "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["id"] == sub["id"] and entry["bounty_title"] == bounty["title"]
    assert main(["submit", str(package), "--bounty", "b_does_not_exist"]) == 2
    assert "no bounty 'b_does_not_exist'" in capsys.readouterr().err


def test_offline_submit_is_queued_and_status_shows_it(gauntlet_home, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GAUNTLET_SERVER", "http://127.0.0.1:9")
    monkeypatch.setenv("GAUNTLET_TOKEN", "gnt_whatever")
    package = new_package(tmp_path / "pkg")
    assert main(["submit", str(package), "--bounty", "b_0001"]) == 0
    out = capsys.readouterr().out
    assert "Queued" in out and "next `gauntlet sync`" in out
    assert main(["sync"]) == 0  # offline is not a failure
    assert "offline" in capsys.readouterr().out
    assert main(["status"]) == 0
    text = capsys.readouterr().out
    assert "waiting to upload" in text and "1 queued change" in text


def _login(url: str, token: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", "login", "--server", url],
        input=token + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_login_without_a_keychain_warns_and_never_writes_the_token(platform, gauntlet_home):
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    done = _login(platform.url, platform.tokens["author"], env)
    assert done.returncode == 0, done.stderr
    assert "Logged in" in done.stdout and "NOT saved" in done.stderr
    for path in gauntlet_home.rglob("*"):
        if path.is_file():
            assert platform.tokens["author"].encode() not in path.read_bytes()
    # Without a saved token the next command says how to log in.
    later = subprocess.run(
        [sys.executable, "-m", "app", "bounties"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert later.returncode == 2 and "not logged in" in later.stderr


def test_login_with_a_wrong_token_is_refused(platform, gauntlet_home):
    done = _login(platform.url, "gnt_forged", dict(os.environ))
    assert done.returncode == 2
    assert "did not accept your token" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.keyring
def test_login_keeps_the_token_in_the_keychain_for_later_commands(platform, gauntlet_home):
    need("keyring", keyring_session(), "run under .ci/with-keyring (gnome-keyring on D-Bus)")
    env = dict(os.environ)
    done = _login(platform.url, platform.tokens["author"], env)
    assert done.returncode == 0 and "NOT saved" not in done.stderr, done.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "app", "bounties", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) >= 12
    out = subprocess.run(
        [sys.executable, "-m", "app", "logout"], capture_output=True, text=True, env=env, timeout=60
    )
    assert "Logged out" in out.stdout
