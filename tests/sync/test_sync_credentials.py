"""Tokens and keys in the real OS keychain (gnome-keyring), and every no-keychain path."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from support.services import keyring_session, need

from app.sync.credentials import (
    CredentialStore,
    FallbackPolicy,
    KeychainUnavailable,
    SecretLocation,
    platform_token_name,
)

HERE = Path(__file__).parent


@pytest.mark.keyring
def test_real_keychain_round_trip(gauntlet_home):
    need("keyring", keyring_session(), "run under .ci/with-keyring (gnome-keyring on D-Bus)")
    creds = CredentialStore(service=f"gauntlet-test-{uuid.uuid4().hex[:8]}")
    status = creds.status()
    assert status.usable, status.message
    name = platform_token_name("https://platform.example.org/")
    secret = f"tok-{uuid.uuid4().hex}"
    assert creds.set(name, secret) == SecretLocation.KEYCHAIN
    # A second store (a fresh app start) reads it back from the keychain, not from memory.
    fresh = CredentialStore(service=creds.service)
    assert fresh.get(name) == secret
    assert fresh.get(platform_token_name("https://other.example.org")) is None
    # Nothing of it reached the profile on disk.
    for path in gauntlet_home.rglob("*") if gauntlet_home.exists() else ():
        if path.is_file():
            assert secret.encode() not in path.read_bytes()
    fresh.delete(name)
    assert CredentialStore(service=creds.service).get(name) is None
    fresh.delete(name)  # deleting twice is fine


@pytest.mark.keyring
def test_real_keychain_from_asyncio_does_not_block_the_loop(gauntlet_home):
    need("keyring", keyring_session(), "run under .ci/with-keyring (gnome-keyring on D-Bus)")
    creds = CredentialStore(service=f"gauntlet-test-{uuid.uuid4().hex[:8]}")

    async def scenario():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        task = asyncio.create_task(ticker())
        where = await creds.aset("llm-key:openai", "sk-test-123")
        value = await creds.aget("llm-key:openai")
        await creds.adelete("llm-key:openai")
        task.cancel()
        return where, value, ticks

    where, value, ticks = asyncio.run(scenario())
    assert (where, value) == (SecretLocation.KEYCHAIN, "sk-test-123")
    assert ticks > 0


def _run_with_backend(backend: str, code: str, timeout: float = 60) -> dict:
    env = dict(
        os.environ,
        PYTHON_KEYRING_BACKEND=backend,
        PYTHONPATH=os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]),
    )
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


SCENARIO = """
import json, time
from app.sync.credentials import CredentialStore, FallbackPolicy, KeychainUnavailable
creds = CredentialStore(timeout_s=0.5)
t0 = time.monotonic()
status = creds.status()
where = creds.set("platform-token:https://x", "secret-1")
got = creds.get("platform-token:https://x")
refused = None
try:
    CredentialStore(fallback=FallbackPolicy.REFUSE, timeout_s=0.5).set("k", "v")
except KeychainUnavailable as exc:
    refused = exc.message
print(json.dumps({"usable": status.usable, "reason": creds.status().reason,
                  "where": str(where), "got": got, "refused": refused,
                  "seconds": time.monotonic() - t0}))
"""


def test_no_keychain_falls_back_to_session_only_and_says_so():
    result = _run_with_backend("keyring.backends.fail.Keyring", SCENARIO)
    assert result["usable"] is False
    assert "no keychain service" in result["reason"]
    assert (result["where"], result["got"]) == ("session", "secret-1")
    assert "not saved" in result["refused"]


def test_a_locked_keychain_falls_back_to_session_only():
    result = _run_with_backend("support.keyring_backends.LockedKeyring", SCENARIO)
    assert result["usable"] is True  # the backend exists...
    assert "locked" in result["reason"]  # ...but refused; we noticed and fell back
    assert (result["where"], result["got"]) == ("session", "secret-1")


def test_a_hanging_keychain_times_out_instead_of_freezing():
    started = time.monotonic()
    result = _run_with_backend("support.keyring_backends.HangingKeyring", SCENARIO, timeout=30)
    assert "did not answer" in result["reason"]
    assert (result["where"], result["got"]) == ("session", "secret-1")
    assert result["seconds"] < 5  # one 0.5 s timeout, then the keychain is known unusable
    assert time.monotonic() - started < 20  # and the process could exit (daemon threads)


def test_session_secrets_are_never_written_to_disk(tmp_path):
    home = tmp_path / "home"
    code = SCENARIO.replace("secret-1", "very-secret-token-42")
    env_home = f"import os; os.environ['GAUNTLET_HOME'] = {str(home)!r}\n"
    _run_with_backend("keyring.backends.fail.Keyring", env_home + code)
    for path in home.rglob("*") if home.exists() else ():
        if path.is_file():
            assert b"very-secret-token-42" not in path.read_bytes()


def test_refuse_policy_in_process_with_fail_backend(monkeypatch):
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        creds = CredentialStore(fallback=FallbackPolicy.REFUSE)
        with pytest.raises(KeychainUnavailable) as info:
            creds.set("x", "y")
        assert "Settings" in info.value.hint
        assert creds.get("x") is None
    finally:
        keyring.set_keyring(previous)


def test_the_users_choice_of_fallback_is_remembered(tmp_path):
    home = tmp_path / "home"
    code = (
        f"import os; os.environ['GAUNTLET_HOME'] = {str(home)!r}\n"
        "import json\n"
        "from app.sync.credentials import (CredentialStore, FallbackPolicy, KeychainUnavailable,\n"
        "    save_fallback_policy)\n"
        "save_fallback_policy(FallbackPolicy.REFUSE)\n"
        "try:\n"
        "    CredentialStore().set('k', 'v'); outcome = 'kept'\n"
        "except KeychainUnavailable:\n"
        "    outcome = 'refused'\n"
        "print(json.dumps({'outcome': outcome}))\n"
    )
    assert _run_with_backend("keyring.backends.fail.Keyring", code) == {"outcome": "refused"}
