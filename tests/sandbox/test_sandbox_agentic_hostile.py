"""Hostile agents and verifiers against the agentic phases (app.sandbox.agentic_run): escape
attempts, network egress, fork bombs, disk fill, processes left behind. Every attempt is
contained, the episode ends within its limits, the reward is the floor, and nothing is left on
the host: no container, no file outside the test's own folder."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support.sandbox_packages import own_containers
from support.services import docker_available, need, sandbox_image_available

from app.sandbox.agentic_run import AgentScript, PhaseLimits, run_episode

pytestmark = pytest.mark.docker

# The verifier rewards 1 only when /app/proof holds "escaped": the hostile agent wants it there
# by doing something it must not be able to do.
VERIFIER = """#!/bin/bash
mkdir -p /logs/verifier
if [ "$(cat /app/proof 2>/dev/null)" = "escaped" ]; then r=1; else r=0; fi
echo $r > /logs/verifier/reward.txt
sleep 0.5  # time for a lingering agent process to overwrite it, were it still alive
"""

AGENTS = {
    "network egress": (
        "python3 - <<'PY'\nimport socket\n"
        "for host in ('1.1.1.1', '8.8.8.8', '172.17.0.1'):\n"
        "    try:\n        socket.create_connection((host, 53), timeout=2)\n"
        "        open('/app/proof', 'w').write('escaped')\n    except OSError:\n        pass\nPY\n"
    ),
    "fork bomb": "bomb() { bomb | bomb & }; bomb\n",
    "disk fill": (
        "head -c 2000000000 /dev/zero > /app/fill; head -c 2000000000 /dev/zero > /tmp/fill\n"
        "touch /app/f{1..200000} 2>/dev/null\n"
    ),
    "write the image": (
        "for p in /usr/bin/bash /etc/passwd /usr/local/bin/python3 /var/tmp/x /tests/test.sh; do\n"
        "  (echo x > $p) 2>/dev/null && echo escaped > /app/proof\ndone\n"
    ),
    "docker socket and host files": (
        "for p in /var/run/docker.sock /run/docker.sock /proc/1/root/etc/shadow /etc/shadow; do\n"
        "  [ -r $p ] && echo escaped > /app/proof\ndone\n"
    ),
    "process left behind": (
        "(while true; do mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt;"
        " sleep 0.05; done) >/dev/null 2>&1 &\n"
        "nohup sleep 1000 &\n"
    ),
    "outlive the timeout": "trap '' TERM; sleep 600\n",
    "privileges": (
        "id -u | grep -qx 0 && echo escaped > /app/proof\nsudo true && echo escaped > /app/proof\n"
    ),
}


@pytest.fixture(scope="module")
def client():
    need("docker", docker_available(), "no Docker engine reachable (start dockerd)")
    need("sandbox image", sandbox_image_available(), "the sandbox image is missing")
    import docker

    return docker.from_env(timeout=60)


@pytest.mark.parametrize("name", sorted(AGENTS))
def test_a_hostile_agent_is_contained(client, tmp_path: Path, name: str) -> None:
    from app.sandbox.images import default_image

    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test.sh").write_text(VERIFIER)
    limits = PhaseLimits(memory_mb=256, disk_mb=64, agent_timeout_s=8, verifier_timeout_s=10)
    agent = AgentScript(["bash", "/agent/run.sh"], {"run.sh": AGENTS[name].encode()})
    started = time.monotonic()
    episode = run_episode(client, default_image(), tests, agent, limits)
    assert time.monotonic() - started < 60
    assert episode.reward == 0.0, (episode, episode.agent_output[-500:])
    assert own_containers() == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tests"]


def test_a_hostile_verifier_is_contained_too(client, tmp_path: Path) -> None:
    """The verifier phase has the same walls: it cannot change tests/ or reach the network."""
    from app.sandbox.images import default_image

    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test.sh").write_text(
        "#!/bin/bash\nmkdir -p /logs/verifier; echo 0 > /logs/verifier/reward.txt\n"
        "echo hacked > /tests/test.sh && echo 1 > /logs/verifier/reward.txt\n"
        "python3 -c \"import socket; socket.create_connection(('1.1.1.1', 53), timeout=2)\" "
        "&& echo 1 > /logs/verifier/reward.txt\n"
        "bomb() { bomb | bomb & }; bomb\n"
    )
    before = (tests / "test.sh").read_bytes()
    limits = PhaseLimits(memory_mb=256, disk_mb=64, agent_timeout_s=5, verifier_timeout_s=8)
    episode = run_episode(client, default_image(), tests, AgentScript.nothing(), limits)
    assert episode.reward in (0.0, None)
    assert (tests / "test.sh").read_bytes() == before
    assert own_containers() == []


def test_an_unenterable_workdir_is_no_reward_not_a_crash(client, tmp_path: Path) -> None:
    """An agent that empties and locks its workdir leaves no reward, in either verifier mode."""
    from app.sandbox.images import default_image

    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test.sh").write_text(VERIFIER)
    agent = AgentScript(
        ["bash", "/agent/run.sh"],
        {"run.sh": b"rm -rf /app/* /app/.[!.]* 2>/dev/null\nchmod 000 /app\n"},
    )
    for shared in (False, True):
        limits = PhaseLimits(memory_mb=256, disk_mb=64, agent_timeout_s=5, shared=shared)
        episode = run_episode(client, default_image(), tests, agent, limits)
        assert episode.reward in (0.0, None), episode
    assert own_containers() == []


def test_in_shared_mode_what_the_agent_left_running_reaches_the_verifier(client, tmp_path):
    """The shared mode runs as Harbor does, so the hole it leaves is real here too (GX326):
    the lingering writer beats the verifier that the separate mode protects above."""
    from app.sandbox.images import default_image

    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test.sh").write_text(VERIFIER)
    agent = AgentScript(
        ["bash", "/agent/run.sh"], {"run.sh": AGENTS["process left behind"].encode()}
    )
    limits = PhaseLimits(memory_mb=256, disk_mb=64, agent_timeout_s=8, shared=True)
    episode = run_episode(client, default_image(), tests, agent, limits)
    assert episode.reward == 1.0, (episode, episode.verifier_output[-500:])
    assert own_containers() == []
