"""The agent phase's network allowlist (app.sandbox.egress) against real Docker: an "upstream"
network made by the test (internal, so nothing leaves the machine) holds two tiny HTTP servers
as allowed.test / sub.wild.test and denied.test; the agent reaches the listed ones through the
proxy only, gets 403 for the others, cannot go around the proxy or resolve names, the proxy's
log shows what it tried, the verifier has no network, and nothing is left behind."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pytest
from support.sandbox_packages import own_containers
from support.services import docker_available, need, sandbox_image_available

from app.sandbox.agentic_run import AgentScript, PhaseLimits, WarmBoxes, run_episode
from app.sandbox.base import SandboxUnavailable
from app.sandbox.egress import Egress, EgressPolicy

pytestmark = pytest.mark.docker

PORT = 8000  # the servers run as the image's user, who cannot bind 80
HOSTS = (f"allowed.test:{PORT}", f"*.wild.test:{PORT}")
SERVER = (
    "mkdir -p /tmp/www && echo {body} > /tmp/www/index.html && cd /tmp/www && "
    f"exec python3 -m http.server {PORT}"
)
# Tries everything, prints one JSON object; the verifier's reward does not matter here.
AGENT = r"""
import json, os, socket, sys, threading, urllib.error, urllib.request
out = {"env": os.environ.get("HTTP_PROXY", ""), "nics": sorted(os.listdir("/sys/class/net"))}
def get(url):
    try:
        with urllib.request.urlopen(url, timeout=15) as r:
            return [r.status, r.read().decode().strip()]
    except urllib.error.HTTPError as e:
        return [e.code, e.read().decode().strip()]
    except Exception as e:
        return [None, repr(e)]
for key, url in (("allowed", "http://allowed.test:8000/"), ("wild", "http://sub.wild.test:8000/"),
                 ("denied", "http://denied.test:8000/"), ("port", "http://allowed.test:8001/")):
    out[key] = get(url)
def connect(target):
    if not out["env"]:
        return "no proxy"
    s = socket.create_connection(tuple(out["env"][7:].split(":")), timeout=10)
    s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    status = s.recv(4096).split(b"\r\n")[0].decode()
    if " 200 " in status:
        s.sendall(b"GET / HTTP/1.0\r\nHost: allowed.test\r\n\r\n")
        status += " | " + b"".join(iter(lambda: s.recv(4096), b"")).decode().split("\r\n")[-1]
    return status.strip()
out["connect"], out["connect_denied"] = connect("allowed.test:8000"), connect("denied.test:443")
def direct():
    try:
        socket.create_connection((open("/agent/ip").read().strip(), 8000), timeout=5)
        return "connected"
    except OSError as e:
        return repr(e)
out["direct"] = direct()
def resolve(name):
    try:
        out["dns_" + name] = socket.getaddrinfo(name, 80)[0][4][0]
    except OSError as e:
        out["dns_" + name] = "fails: " + repr(e)
threads = [threading.Thread(target=resolve, args=(n,)) for n in ("allowed.test", "pypi.org")]
[t.start() for t in threads]; [t.join() for t in threads]
print("RESULT " + json.dumps(out))
"""
VERIFIER = """#!/bin/bash
mkdir -p /logs/verifier; echo 0 > /logs/verifier/reward.txt
python3 -c "import urllib.request; urllib.request.urlopen('http://allowed.test:8000/', timeout=5)" \
  >/dev/null 2>&1 && echo "VERIFIER-NET reached" || echo "VERIFIER-NET none"
"""


@pytest.fixture(scope="module")
def client():
    need("docker", docker_available(), "no Docker engine reachable (start dockerd)")
    need("sandbox image", sandbox_image_available(), "the sandbox image is missing")
    import docker

    return docker.from_env(timeout=60)


@pytest.fixture(scope="module")
def upstream(client):
    """(network name, IP of the allowed server): the proxy's way "out" in these tests."""
    from app.sandbox.containers import owner_labels
    from app.sandbox.egress import remove_network
    from app.sandbox.images import default_image

    network = client.networks.create(
        f"gx-test-upstream-{secrets.token_hex(4)}", internal=True, labels=owner_labels()
    )
    servers = []
    try:
        for body, aliases in (("allowed-content", ["allowed.test", "sub.wild.test"]),
                              ("denied-content", ["denied.test"])):  # fmt: skip
            server = client.containers.create(
                default_image(),
                ["sh", "-c", SERVER.format(body=body)],
                entrypoint=[],
                labels=owner_labels(),
                mem_limit="64m",
                pids_limit=32,
            )
            servers.append(server)
            network.connect(server, aliases=aliases)
            server.start()
        servers[0].reload()
        ip = servers[0].attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"]
        _wait_serving(servers)
        yield network.name, ip
    finally:
        for server in servers:
            server.remove(force=True)
        remove_network(network)


def _wait_serving(servers) -> None:
    import time

    probe = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/', timeout=1)"
    deadline = time.monotonic() + 20
    for server in servers:
        while server.exec_run(["python3", "-c", probe]).exit_code != 0:
            assert time.monotonic() < deadline, server.logs()
            time.sleep(0.2)


def _tests(tmp_path: Path) -> Path:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test.sh").write_text(VERIFIER)
    return tests


def _agent(ip: str) -> AgentScript:
    return AgentScript(["python3", "/agent/run.py"], {"run.py": AGENT.encode(), "ip": ip.encode()})


def _result(output: str) -> dict:
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def _own_networks(client) -> list[str]:
    mine = ["gauntlet.sandbox=1", f"gauntlet.owner.pid={os.getpid()}"]
    return [n.name for n in client.networks.list(filters={"label": mine})]


def _limits(upstream_name: str | None, **more) -> PhaseLimits:
    egress = EgressPolicy(HOSTS, upstream=upstream_name) if upstream_name else None
    return PhaseLimits(memory_mb=256, disk_mb=64, agent_timeout_s=90, egress=egress, **more)


def test_the_allowlist_is_enforced_by_the_proxy_alone(client, upstream, tmp_path) -> None:
    from app.sandbox.images import default_image

    network, ip = upstream
    before = (_own_networks(client), len(own_containers()))
    episode = run_episode(client, default_image(), _tests(tmp_path), _agent(ip), _limits(network))
    out = _result(episode.agent_output)
    assert out["allowed"] == [200, "allowed-content"], out
    assert out["wild"] == [200, "allowed-content"], out
    assert out["denied"][0] == 403 and "denied.test is not on the allowlist" in out["denied"][1]
    assert out["port"][0] == 403 and "port 8001 is not allowed" in out["port"][1], out
    assert out["connect"] == "HTTP/1.1 200 Connection established | allowed-content", out
    assert out["connect_denied"].startswith("HTTP/1.1 403"), out
    assert out["direct"] != "connected", out  # around the proxy: no route
    assert out["dns_allowed.test"].startswith("fails"), out
    assert out["dns_pypi.org"].startswith("fails"), out  # the host resolves it; the box not
    assert "VERIFIER-NET none" in episode.verifier_output
    denied = [e for e in episode.egress if not e["allowed"]]
    assert {(e["host"], e["port"], e["status"]) for e in denied} >= {
        ("denied.test", 8000, 403),
        ("allowed.test", 8001, 403),
        ("denied.test", 443, 403),
    }, episode.egress
    assert all("reason" in e for e in denied)
    allowed = {(e["method"], e["host"]) for e in episode.egress if e["allowed"]}
    assert allowed == {
        ("GET", "allowed.test"),
        ("GET", "sub.wild.test"),
        ("CONNECT", "allowed.test"),
    }
    assert (_own_networks(client), len(own_containers())) == before


def test_without_an_allowlist_there_is_no_network_at_all(client, upstream, tmp_path) -> None:
    from app.sandbox.images import default_image

    episode = run_episode(
        client, default_image(), _tests(tmp_path), _agent(upstream[1]), _limits(None)
    )
    out = _result(episode.agent_output)
    assert out["nics"] == ["lo"] and out["env"] == "", out
    assert out["allowed"][0] is None and out["direct"] != "connected", out
    assert episode.egress == []


def test_a_shared_verifier_and_reused_boxes_get_no_network(client, upstream, tmp_path) -> None:
    """Shared mode: the box is taken off its network before the verifier runs in it. Reused
    boxes keep their proxy, and each episode reports its own requests only."""
    from app.sandbox.images import default_image

    network, ip = upstream
    before = (_own_networks(client), len(own_containers()))
    tests = _tests(tmp_path)
    for shared in (True, False):
        warm = WarmBoxes(client, default_image(), _limits(network, shared=shared))
        try:
            for _ in range(2):
                episode = run_episode(client, default_image(), tests, _agent(ip), warm.limits, warm)
                assert _result(episode.agent_output)["allowed"] == [200, "allowed-content"]
                assert "VERIFIER-NET none" in episode.verifier_output
                assert len([e for e in episode.egress if e["host"] == "denied.test"]) == 2
        finally:
            warm.close()
    assert (_own_networks(client), len(own_containers())) == before


HOSTILE = r"""
import os, socket, time, urllib.request
proxy = tuple(os.environ["HTTP_PROXY"][7:].split(":"))
def get():
    try:
        return urllib.request.urlopen("http://allowed.test:8000/", timeout=10).status
    except Exception as e:
        return getattr(e, "code", repr(e))
held = [socket.create_connection(proxy, timeout=5) for _ in range(100)]  # more than its slots
time.sleep(0.5)
print("FLOODED", get())
for s in held:
    s.close()
for junk in (b"hello\r\n\r\n", b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 5000 + b"\r\n",
             b"CONNECT [::1 HTTP/1.1\r\n\r\n", b"GET http://[::1/ HTTP/1.1\r\n\r\n"):
    with socket.create_connection(proxy, timeout=5) as s:
        try:
            s.sendall(junk); s.recv(100)
        except OSError:
            pass
time.sleep(0.5)
print("AFTER", get())
"""


def test_the_proxy_survives_a_hostile_agent(client, upstream, tmp_path) -> None:
    """Too many connections at once get 503, garbage gets nothing; then it serves again."""
    from app.sandbox.images import default_image

    agent = AgentScript(["python3", "/agent/run.py"], {"run.py": HOSTILE.encode()})
    episode = run_episode(client, default_image(), _tests(tmp_path), agent, _limits(upstream[0]))
    assert "FLOODED 503" in episode.agent_output, episode.agent_output[-2000:]
    assert "AFTER 200" in episode.agent_output, episode.agent_output[-2000:]


def test_a_dead_processs_networks_are_cleaned_up_a_live_ones_are_not(client) -> None:
    import subprocess
    import sys

    from app.sandbox.containers import LABEL_PID, owner_labels, remove_leftovers

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], text=True,
                          capture_output=True, check=True)  # fmt: skip
    orphan = client.networks.create(
        f"gx-test-orphan-{secrets.token_hex(4)}",
        internal=True,
        labels={**owner_labels(), LABEL_PID: dead.stdout.strip()},
    )
    mine = client.networks.create(
        f"gx-test-mine-{secrets.token_hex(4)}", internal=True, labels=owner_labels()
    )
    try:
        remove_leftovers(client)
        names = {n.name for n in client.networks.list()}
        assert orphan.name not in names and mine.name in names
    finally:
        for network in (orphan, mine):
            try:
                network.remove()
            except Exception:  # noqa: BLE001 - the orphan is gone already
                pass


def test_a_proxy_that_cannot_start_leaves_nothing(client) -> None:
    before = (_own_networks(client), len(own_containers()))
    with pytest.raises(SandboxUnavailable, match="upstream network"):
        Egress(client, EgressPolicy(HOSTS, upstream=f"gx-missing-{secrets.token_hex(4)}"))
    assert (_own_networks(client), len(own_containers())) == before
