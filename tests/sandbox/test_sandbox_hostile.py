"""Hostile payloads against the Docker sandbox: every one is contained, scores the floor (or a
clear error), the batch ends within its deadline, and nothing is left behind — no container,
no file on the host, no change to the package, no process surviving into the next grading."""

from __future__ import annotations

import hashlib
import socket
import time
from pathlib import Path

import pytest
from sandbox_support import load, own_containers, write_pack

from app.sandbox.base import ERROR_KINDS, GradingItem

HOSTILE_GRADER = (Path(__file__).parent / "hostile_grader.py.txt").read_text(encoding="utf-8")
TIMEOUT_S = 3
SECRET_ENV = "GAUNTLET_TEST_SECRET_" + "x9f3"

# case -> error kinds that are an acceptable, clear outcome besides a plain 0.0
CASES = {
    "net_out": set(),
    "net_host": set(),
    "dns": set(),
    "host_files": set(),
    "host_env": set(),
    "write_package": set(),
    "persist_files": set(),
    "fork_bomb": {"timeout", "crash", "exception"},
    "memory_bomb": {"exception", "crash"},
    "disk_fill": {"exception", "crash"},
    "infinite_loop": {"timeout"},
    "long_sleep": {"timeout"},
    "output_flood": {"output-too-large"},
    "kill_parent": set(),
    "daemon": set(),
    "docker_socket": set(),
    "setuid": set(),
    "capabilities": set(),
    "write_rootfs": set(),
    "runner_memory": set(),
    "forge_result": set(),
    "mount_things": set(),
    "ptrace_neighbour": set(),
    "exit_zero": {"exception"},
    "huge_reward": {"invalid-reward"},
}


@pytest.fixture(scope="module")
def host_listener():
    """A TCP server on the host, to prove the sandbox cannot reach it."""
    server = socket.socket()
    server.bind(("0.0.0.0", 0))
    server.listen()
    yield server.getsockname()[1]
    server.close()


def _host_ip() -> str:
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


def _digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.mark.docker
@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_payload_is_contained(
    case, docker_backend, tmp_path, private_tempdir, host_listener, monkeypatch
):
    secret_file = tmp_path / "host-secret.txt"
    secret_file.write_text("top secret host data", encoding="utf-8")
    monkeypatch.setenv(SECRET_ENV, "host-secret-value")
    task = {
        "id": case,
        "prompt": f"hostile case {case}",
        "case": case,
        "host_port": host_listener,
        "host_ip": _host_ip(),
        "secret_path": str(secret_file),
        "secret_env": "host-secret-value",
    }
    root = write_pack(
        tmp_path / "pack",
        grader=(
            'type = "python"\nentry = "grader.py:grade"\nreward_range = [0.0, 1.0]\n'
            f"pass_threshold = 1.0\ntimeout_s = {TIMEOUT_S}"
        ),
        sandbox="memory_mb = 256\ncpus = 1.0",
        tasks=[task],
        solutions=[{"task_id": case, "response": "probe"}],
        grader_py=HOSTILE_GRADER,
    )
    pack = load(root)
    before = _digest(root)

    started = time.monotonic()
    attack, probe = docker_backend.grade_batch(
        pack, [GradingItem("attack", task, "attack"), GradingItem("probe", task, "probe")], jobs=1
    )
    elapsed = time.monotonic() - started

    allowed = CASES[case]
    if attack.error is None:
        assert attack.reward == 0.0, f"{case}: the attack worked ({attack})"
    else:
        assert attack.error in allowed, (
            f"{case}: unexpected outcome {attack.error}: {attack.detail}"
        )
        assert attack.error in ERROR_KINDS and attack.detail, "an error must explain itself"
    assert probe.error is None and probe.reward == 0.0, (
        f"{case}: a trace survived into the next grading ({probe})"
    )
    assert elapsed < 60 + 2 * TIMEOUT_S, f"{case}: took {elapsed:.1f} s"
    assert own_containers() == [], "a sandbox container was left behind"
    assert list(private_tempdir.iterdir()) == [], "the package snapshot was left on the host"
    assert _digest(root) == before, "the package was modified"
    assert secret_file.read_text(encoding="utf-8") == "top secret host data"


@pytest.mark.docker
def test_batch_survives_a_hostile_neighbour(
    docker_backend, tmp_path, private_tempdir, host_listener
):
    """Innocent gradings next to a fork bomb and a killer still get their right rewards."""
    tasks = [
        {
            "id": c,
            "prompt": c,
            "case": c,
            "host_port": host_listener,
            "host_ip": "127.0.0.1",
            "secret_path": "/nonexistent",
            "secret_env": "x",
        }
        for c in ("kill_parent", "fork_bomb", "net_out")
    ]
    root = write_pack(
        tmp_path / "pack",
        grader=f'type = "python"\nreward_range = [0.0, 1.0]\ntimeout_s = {TIMEOUT_S}',
        tasks=tasks,
        solutions=[{"task_id": "net_out", "response": "probe"}],
        grader_py=HOSTILE_GRADER,
    )
    pack = load(root)
    items = []
    for round_ in range(3):
        items += [GradingItem(f"{t['id']}:{round_}", t, "attack") for t in tasks[:2]]
        items += [GradingItem(f"innocent:{round_}:{i}", tasks[2], "probe") for i in range(4)]
    results = {r.key: r for r in docker_backend.grade_batch(pack, items, jobs=3)}
    for key, result in results.items():
        if key.startswith("innocent"):
            assert result.error is None and result.reward == 0.0, (key, result)
        else:
            assert result.reward in (0.0, None), (key, result)
    assert own_containers() == []


@pytest.mark.docker
def test_cancel_kills_the_container_at_once(
    docker_backend, tmp_path, private_tempdir, host_listener
):
    import threading

    from app.progress import Cancelled, CancelToken

    task = {
        "id": "long_sleep",
        "prompt": "sleep",
        "case": "long_sleep",
        "host_port": 1,
        "host_ip": "127.0.0.1",
        "secret_path": "/x",
        "secret_env": "x",
    }
    root = write_pack(
        tmp_path / "pack",
        grader='type = "python"\ntimeout_s = 60',
        tasks=[task],
        solutions=[{"task_id": "long_sleep", "response": "attack"}],
        grader_py=HOSTILE_GRADER,
    )
    pack = load(root)
    cancel = CancelToken()
    threading.Timer(2.0, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        docker_backend.grade_batch(
            pack, [GradingItem(f"s{i}", task, "attack") for i in range(4)], cancel=cancel
        )
    assert time.monotonic() - started < 20
    assert own_containers() == []
    assert list(private_tempdir.iterdir()) == []


def test_leftover_cleanup_spares_live_owners():
    """Only containers of dead processes are removed; a live owner's never are."""
    import subprocess
    import sys

    from app.sandbox import containers

    live = containers.owner_labels()
    assert containers.owner_alive(live)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = dict(live, **{containers.LABEL_PID: str(child.pid), containers.LABEL_START: "1"})
    assert not containers.owner_alive(dead)
    reused = dict(live, **{containers.LABEL_START: "12345"})  # same pid, another process
    assert not containers.owner_alive(reused)
    foreign = dict(live, **{containers.LABEL_HOST: "another-machine"})
    assert containers.owner_alive(foreign)  # recent, on another host: not ours to judge


@pytest.mark.docker
def test_cleanup_removes_a_dead_owners_container_only(docker_backend):
    import docker

    from app.sandbox import containers
    from app.sandbox.images import default_image

    client = docker.from_env()
    dead_labels = dict(
        containers.owner_labels(), **{containers.LABEL_PID: "999999", containers.LABEL_START: "1"}
    )
    live_labels = containers.owner_labels()
    dead = client.containers.create(
        default_image(), ["true"], labels=dead_labels, network_mode="none"
    )
    live = client.containers.create(
        default_image(), ["true"], labels=live_labels, network_mode="none"
    )
    try:
        containers.remove_leftovers(client)
        # Another test run sharing this engine may be removing it at the same moment: give that
        # removal a few seconds to finish.
        deadline = time.monotonic() + 15
        while True:
            remaining = {
                c.id
                for c in client.containers.list(all=True, filters={"label": "gauntlet.sandbox=1"})
            }
            if dead.id not in remaining or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert dead.id not in remaining
        assert live.id in remaining
    finally:
        for container in (dead, live):
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass


# The process backend is weaker (no memory cgroup, no pids or disk limit), so the payloads that
# would hurt the shared test machine itself (fork bomb, memory and disk fill) are not run
# against it; setuid programs of the host stay visible (but unusable: no-new-privileges).
PROCESS_CASES = sorted(set(CASES) - {"fork_bomb", "memory_bomb", "disk_fill", "setuid"})


@pytest.mark.parametrize("case", PROCESS_CASES)
def test_hostile_payload_is_contained_by_bubblewrap(
    case, process_backend, tmp_path, private_tempdir, host_listener, monkeypatch
):
    import shutil

    from support.services import need

    need("bubblewrap", bool(shutil.which("bwrap")), "bubblewrap (bwrap) is not installed")
    monkeypatch.setenv(SECRET_ENV, "host-secret-value")
    secret_file = tmp_path / "host-secret.txt"
    secret_file.write_text("top secret host data", encoding="utf-8")
    task = {
        "id": case,
        "prompt": case,
        "case": case,
        "host_port": host_listener,
        "host_ip": _host_ip(),
        "secret_path": str(secret_file),
        "secret_env": "host-secret-value",
    }
    root = write_pack(
        tmp_path / "pack",
        grader=f'type = "python"\ntimeout_s = {TIMEOUT_S}',
        tasks=[task],
        solutions=[{"task_id": case, "response": "probe"}],
        grader_py=HOSTILE_GRADER,
    )
    pack = load(root)
    before = _digest(root)
    attack, probe = process_backend.grade_batch(
        pack, [GradingItem("attack", task, "attack"), GradingItem("probe", task, "probe")], jobs=1
    )
    if attack.error is None:
        assert attack.reward == 0.0, f"{case}: the attack worked ({attack})"
    else:
        assert attack.error in CASES[case], f"{case}: {attack.error}: {attack.detail}"
    assert probe.error is None and probe.reward == 0.0, f"{case}: a trace survived ({probe})"
    assert list(private_tempdir.iterdir()) == []
    assert _digest(root) == before
