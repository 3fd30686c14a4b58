"""Every hint that names an environment variable works exactly as it says.

Each test first meets the hint the way a user does (the failing command prints it), then
follows it literally and checks that the same command now succeeds. The LLM key hints
(GAUNTLET_LLM_API_KEY) are followed in tests/attacks/test_attacks_llm.py and
tests/sandbox/test_sandbox_templates.py, where a fake provider records the key it receives.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FAIL = "keyring.backends.fail.Keyring"


def _gauntlet(*args: str, env: dict, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _env(keyring_backend: str, **extra: str) -> dict:
    env = dict(
        os.environ,
        PYTHON_KEYRING_BACKEND=keyring_backend,
        PYTHONPATH=os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]),
        **extra,
    )
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    return env


def _save_server(url: str, env: dict) -> None:
    """`gauntlet login` without a keychain: the server is saved, the token is not."""
    done = _gauntlet("login", "--server", url, env=env, stdin=env["TOKEN_FOR_LOGIN"] + "\n")
    assert done.returncode == 0 and "NOT saved" in done.stderr, done.stderr


def test_saved_server_hint_set_gauntlet_token_for_this_session(platform, gauntlet_home):
    token = platform.tokens["author"]
    env = _env(FAIL, TOKEN_FOR_LOGIN=token)
    _save_server(platform.url, env)
    refused = _gauntlet("bounties", "--json", env=env)
    assert refused.returncode == 2
    assert "set GAUNTLET_TOKEN for this session" in refused.stderr, refused.stderr
    # Follow the hint: the server stays the saved one, the token comes from the environment.
    listed = _gauntlet("bounties", "--json", env={**env, "GAUNTLET_TOKEN": token})
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) >= 12


def test_gauntlet_token_wins_over_a_stale_keychain_token(platform, gauntlet_home):
    token = platform.tokens["author"]
    _save_server(platform.url, _env(FAIL, TOKEN_FOR_LOGIN=token))
    stale = _env("support.keyring_backends.StaleTokenKeyring")
    refused = _gauntlet("bounties", "--json", env=stale)
    assert "did not accept your token" in refused.stderr, refused.stderr
    assert json.loads(refused.stdout) == []  # only the (empty) local copy
    listed = _gauntlet("bounties", "--json", env={**stale, "GAUNTLET_TOKEN": token})
    assert listed.returncode == 0, listed.stderr
    assert "did not accept" not in listed.stderr and len(json.loads(listed.stdout)) >= 12


def test_gauntlet_token_never_waits_on_a_hanging_keychain(platform, gauntlet_home):
    token = platform.tokens["author"]
    _save_server(platform.url, _env(FAIL, TOKEN_FOR_LOGIN=token))
    hanging = _env("support.keyring_backends.HangingKeyring", GAUNTLET_TOKEN=token)
    listed = _gauntlet("bounties", "--json", env=hanging)
    assert listed.returncode == 0, listed.stderr


def test_login_hint_set_gauntlet_server_and_token_for_headless_use(platform, gauntlet_home):
    token = platform.tokens["author"]
    env = _env(FAIL)
    done = _gauntlet("login", "--server", platform.url, env=env, stdin=token + "\n")
    assert "set GAUNTLET_SERVER and GAUNTLET_TOKEN for headless use" in done.stderr
    # Follow the hint in a fresh profile, where nothing was ever saved.
    fresh = _env(FAIL, GAUNTLET_HOME=str(gauntlet_home.parent / "headless"))
    listed = _gauntlet(
        "bounties",
        "--json",
        env={**fresh, "GAUNTLET_SERVER": platform.url, "GAUNTLET_TOKEN": token},
    )
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) >= 12


def test_local_platform_hint_set_gauntlet_home_to_another_folder(gauntlet_home, tmp_path):
    blocked = gauntlet_home / "data" / "platform"
    blocked.parent.mkdir(parents=True)
    blocked.write_text("a file where the platform's folder should be\n")
    env = _env(FAIL)
    refused = _gauntlet("bounties", "--json", "--limit", "2", env=env)
    assert refused.returncode == 2
    assert "set GAUNTLET_HOME to another folder" in refused.stderr, refused.stderr
    moved = _gauntlet(
        "bounties", "--json", "--limit", "2", env={**env, "GAUNTLET_HOME": str(tmp_path / "other")}
    )
    assert moved.returncode == 0, moved.stderr
    assert len(json.loads(moved.stdout)) == 2
