"""Hostile payloads against the Docker sandbox: every one is contained, scores the floor (or a
clear error), the batch ends within its deadline, and nothing is left behind — no container,
no file on the host, no change to the package, no process surviving into the next grading."""

from __future__ import annotations

import hashlib
import socket
import time
from pathlib import Path

import pytest
from support.sandbox_packages import load, own_containers, write_pack

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


# -- untrusted by default (issue 10) -------------------------------------------------------------

PY = 'type = "python"\nentry = "grader.py:grade"\npass_threshold = 1.0\ntimeout_s = 5'
ONE_TASK = [{"id": "t1", "prompt": "Say 4.", "answer": "4"}]
ONE_REF = [{"task_id": "t1", "response": "4"}]
RIGHT = (
    "def grade(task, response):\n    return 1.0 if response.strip() == task['answer'] else 0.0\n"
)

# A grader that walks /proc for any process's environment holding the host's key.
PROC_WALKER = """
import os

def grade(task, response):
    seen = found = 0
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as handle:
                data = handle.read()
            seen += 1
        except OSError:
            continue
        if task["secret"].encode() in data:
            found += 1
    if found:
        raise RuntimeError(f"LEAKED the host key from {found} process(es)")
    return 1.0 if response.strip() == task["answer"] else 0.0
"""


def test_grader_cannot_read_host_environment_on_process_backend(tmp_path):
    """The plain process backend (no bubblewrap: PATH has no bwrap) runs a grader that walks
    /proc. The host process (the CLI running the funnel) was started with an LLM key in its
    environment; the grader must not find it anywhere."""
    import json
    import os
    import subprocess
    import sys

    secret = "sk-test-" + "hostkey-7f1c2a"
    root = write_pack(
        tmp_path / "pack",
        grader=PY,
        tasks=[{**ONE_TASK[0], "secret": secret}],
        solutions=ONE_REF,
        grader_py=PROC_WALKER,
    )
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    env = {
        **os.environ,
        "OPENAI_API_KEY": secret,
        "PATH": str(empty_path),  # no bwrap: the plain-subprocess backend
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    env.pop(SECRET_ENV, None)
    done = subprocess.run(
        [sys.executable, "-m", "app", "verify", str(root), "--backend", "process", "--json"],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert "LEAKED" not in done.stdout + done.stderr, done.stdout[-2000:]
    report = json.loads(done.stdout)
    verify = next(s for s in report["stages"] if s["name"] == "verify")
    assert verify["details"]["references_passed"] == {"ok": 1, "total": 1}, verify
    assert "plain subprocess" in verify["details"].get("backend_description", "") or any(
        f["code"] == "GX211" for f in report["findings"]
    )


def test_host_process_is_non_dumpable_and_holds_no_api_keys_after_harden():
    """What the funnel does before grading: no model keys left in os.environ (so no child
    inherits them) and PR_SET_DUMPABLE 0 (so /proc/<pid>/environ is closed to graders)."""
    import os
    import subprocess
    import sys

    code = (
        "import os, ctypes\n"
        "from app.sandbox.hostguard import harden_host_process\n"
        "harden_host_process()\n"
        "libc = ctypes.CDLL(None)\n"
        "print(libc.prctl(3, 0, 0, 0, 0), 'OPENAI_API_KEY' in os.environ,"
        " 'GAUNTLET_LLM_API_KEY' in os.environ)\n"
    )
    env = {**os.environ, "OPENAI_API_KEY": "sk-x", "GAUNTLET_LLM_API_KEY": "k"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.stdout.split() == ["0", "False", "False"], out.stderr


def test_funnel_child_environment_carries_no_credentials(monkeypatch):
    from app.funnel.child import _child_environment

    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("HF_TOKEN", "hf_x")
    monkeypatch.setenv("GAUNTLET_TOKEN", "gst_x")
    env = _child_environment()
    assert not {"OPENAI_API_KEY", "HF_TOKEN", "GAUNTLET_TOKEN"} & set(env)
    assert env["PYTHONPATH"]


def test_auto_backend_never_falls_back_to_a_plain_subprocess(monkeypatch, tmp_path):
    from app.sandbox.backends import get_backend
    from app.sandbox.base import SandboxUnavailable

    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.setenv("PATH", str(tmp_path))  # no bubblewrap either
    with pytest.raises(SandboxUnavailable) as refused:
        get_backend("auto", own_package=True)
    assert "--backend process" in refused.value.hint
    explicit = get_backend("process", own_package=True)  # an explicit choice is honoured
    assert explicit.info.weak and "plain subprocess" in explicit.info.description


def test_unbundled_imported_and_copied_packages_are_someone_elses(tmp_path):
    """Only `gauntlet new`/templates make a package this machine's own; a bundle, a copy, or a
    folder replaced at the same path are foreign, whatever their files say."""
    import shutil

    from app.envpack.bundle import bundle_package, unbundle
    from app.envpack.provenance import is_own
    from app.envpack.templates import create_from_template, list_templates

    made = create_from_template(list_templates()[0].name, tmp_path / "mine")
    assert is_own(made)
    bundle_package(made, tmp_path / "mine.gauntlet")
    assert not is_own(unbundle(tmp_path / "mine.gauntlet", tmp_path / "theirs").path)
    shutil.copytree(made, tmp_path / "copy")
    assert not is_own(tmp_path / "copy")
    shutil.rmtree(made)
    shutil.copytree(tmp_path / "theirs", made)  # same path, someone else's folder now
    assert not is_own(made)


def test_someone_elses_package_gets_the_strict_path_by_default(tmp_path):
    """No flag given: a package not created here is refused the weak backend (GX200)."""
    from app.findings import Stage
    from app.funnel.pipeline import FunnelOptions, run_funnel

    root = write_pack(
        tmp_path / "pack", grader=PY, tasks=ONE_TASK, solutions=ONE_REF, grader_py=RIGHT, own=False
    )
    report = run_funnel(root, (Stage.STRUCTURE, Stage.VERIFY), FunnelOptions(backend="process"))
    [refusal] = [f for f in report.findings if f.code == "GX200"]
    assert "someone else" in refusal.message


@pytest.mark.parametrize(
    "payload",
    [
        "return {'reward': {'$type': 'x', '$repr': 5}}",
        "return {'reward': {'$type': ['x'], '$repr': None}}",
        "os.write(3, json.dumps({'raw': 1.0, 'duration_s': 'soon'}).encode()); os._exit(0)",
        "os.write(3, json.dumps({'raw': 1.0, 'duration_s': float('nan')}).encode()); os._exit(0)",
        "os.write(3, json.dumps({'error': ['crash'], 'detail': 5}).encode()); os._exit(0)",
        "os.write(3, b'[' * 200000 + b']' * 200000); os._exit(0)",
        "os.write(3, b'{\"raw\": ' + b'[' * 5000 + b']' * 5000 + b'}'); os._exit(0)",
    ],
    ids=[
        "marker-int-repr",
        "marker-list-type",
        "duration-str",
        "duration-nan",
        "error-list",
        "deep-array",
        "deep-raw",
    ],
)
def test_malformed_reward_structures_become_invalid_reward(payload, process_backend, tmp_path):
    grader = (
        "import json, os\n\ndef grade(task, response):\n"
        f"    if response == 'attack':\n        {payload}\n    return 0.0\n"
    )
    root = write_pack(
        tmp_path / "pack", grader=PY, tasks=ONE_TASK, solutions=ONE_REF, grader_py=grader
    )
    pack = load(root)
    attack, probe = process_backend.grade_batch(
        pack,
        [GradingItem("attack", ONE_TASK[0], "attack"), GradingItem("probe", ONE_TASK[0], "p")],
        jobs=1,
    )
    assert attack.error == "invalid-reward" and attack.reward is None, attack
    assert probe.ok and probe.reward == 0.0, probe


def _unlabelled_image(client, tag: str) -> None:
    """A tiny local image without the sandbox label (an empty file system)."""
    import io
    import tarfile

    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        info = tarfile.TarInfo("etc/hostname")
        info.size = 8
        tar.addfile(info, io.BytesIO(b"sandbox\n"))
    repository, _, version = tag.partition(":")
    client.api.import_image_from_data(data.getvalue(), repository=repository, tag=version)


@pytest.mark.docker
def test_package_naming_a_local_non_sandbox_image_is_refused_like_a_missing_one(
    docker_backend, tmp_path
):
    from app.sandbox.base import SandboxUnavailable
    from app.sandbox.images import image_for_pack

    client = docker_backend.client
    present = "gauntlet-test-unlabelled:1"
    _unlabelled_image(client, present)
    try:
        messages = []
        for name in (present, "gauntlet-test-no-such-image:1"):
            root = write_pack(
                tmp_path / name.replace(":", "-"),
                grader=PY,
                tasks=ONE_TASK,
                solutions=ONE_REF,
                grader_py=RIGHT,
                sandbox=f'image = "{name}"',
            )
            with pytest.raises(SandboxUnavailable) as refused:
                image_for_pack(client, load(root), docker_backend.image)
            messages.append(refused.value.message.replace(name, "NAME"))
        assert messages[0] == messages[1] and "not a Gauntlet sandbox image" in messages[0]
    finally:
        client.images.remove(present, force=True)


@pytest.mark.docker
def test_a_sandbox_images_env_does_not_reach_the_grader(docker_backend, tmp_path):
    """A labelled image's ENV is overridden, also while the grader module is imported."""
    client = docker_backend.client
    tag = "gauntlet-test-env-image:1"
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(
        f"FROM {docker_backend.image}\nENV GAUNTLET_PROBE=leaked PYTHONWARNINGS=error\n"
    )
    client.images.build(path=str(context), tag=tag, network_mode="none", rm=True)
    try:
        grader = (
            "import os\nLEAK = os.environ.get('GAUNTLET_PROBE', '')\n\n"
            "def grade(task, response):\n"
            "    return 0.0 if LEAK or os.environ.get('GAUNTLET_PROBE') else 1.0\n"
        )
        root = write_pack(
            tmp_path / "pack",
            grader=PY,
            tasks=ONE_TASK,
            solutions=ONE_REF,
            grader_py=grader,
            sandbox=f'image = "{tag}"',
        )
        [result] = docker_backend.grade_batch(load(root), [GradingItem("r", ONE_TASK[0], "4")])
        assert result.ok and result.reward == 1.0, result
    finally:
        client.images.remove(tag, force=True)


NETWORK_PROBE_DOCKERFILE = """\
ARG GAUNTLET_BASE
FROM ${GAUNTLET_BASE}
RUN ["python3", "-c", "import os, socket, sys; nics = sorted(os.listdir('/sys/class/net')); \
print('interfaces', nics); s = socket.socket(); s.settimeout(3); \
reached = s.connect_ex(('172.17.0.1', 2375)) == 0 or s.connect_ex(('1.1.1.1', 53)) == 0; \
sys.exit(1 if reached or nics != ['lo'] else 0)"]
"""


@pytest.mark.docker
def test_dockerfile_that_tries_the_network_during_build_finds_none(docker_backend, tmp_path):
    """The RUN step fails the build if it sees any network interface besides loopback or
    reaches an address; built with network_mode=none it sees neither, and grading goes on."""
    from app.sandbox.docker_backend import DockerBackend

    root = write_pack(
        tmp_path / "pack",
        grader=PY,
        tasks=ONE_TASK,
        solutions=ONE_REF,
        grader_py=RIGHT,
        extra_files={"environment/Dockerfile": NETWORK_PROBE_DOCKERFILE},
    )
    backend = DockerBackend(
        docker_backend.client,
        docker_backend.image,
        judge=docker_backend.judge,
        build_package_dockerfile=True,
    )
    [result] = backend.grade_batch(load(root), [GradingItem("r", ONE_TASK[0], "4")])
    assert result.ok and result.reward == 1.0, result


@pytest.mark.docker
def test_someone_elses_dockerfile_is_not_built_without_the_operators_consent(
    docker_backend, tmp_path
):
    from app.findings import Stage
    from app.funnel.pipeline import FunnelOptions, run_funnel

    marker = "gauntlet-consent-" + tmp_path.name
    root = write_pack(
        tmp_path / "pack",
        grader=PY,
        tasks=ONE_TASK,
        solutions=ONE_REF,
        grader_py=RIGHT,
        extra_files={
            "environment/Dockerfile": (
                f"ARG GAUNTLET_BASE\nFROM ${{GAUNTLET_BASE}}\nLABEL x={marker}\n"
            )
        },
        own=False,
    )
    stages = (Stage.STRUCTURE, Stage.VERIFY)
    report = run_funnel(root, stages, FunnelOptions(backend="docker"))
    [refusal] = [f for f in report.findings if f.code == "GX200"]
    assert (
        "Dockerfile is not built" in refusal.message
        and "--allow-package-dockerfile" in refusal.hint
    )
    allowed = run_funnel(
        root, stages, FunnelOptions(backend="docker", allow_package_dockerfile=True)
    )
    assert not [f for f in allowed.findings if f.code == "GX200"], allowed.findings


@pytest.mark.docker
def test_dockerfile_from_another_image_is_never_built_or_pulled(docker_backend, tmp_path):
    from app.sandbox.base import SandboxUnavailable
    from app.sandbox.images import image_for_pack

    root = write_pack(
        tmp_path / "pack",
        grader=PY,
        tasks=ONE_TASK,
        solutions=ONE_REF,
        grader_py=RIGHT,
        extra_files={"environment/Dockerfile": "FROM gauntlet-test-never-pulled:404\n"},
    )
    with pytest.raises(SandboxUnavailable) as refused:
        image_for_pack(
            docker_backend.client, load(root), docker_backend.image, build_dockerfile=True
        )
    assert "not from the sandbox image" in refused.value.message


def _build_pack(tmp_path: Path, dockerfile: str, **files: str) -> Path:
    """Our own package whose environment/Dockerfile is `dockerfile`."""
    extra = {"environment/Dockerfile": dockerfile}
    extra.update({f"environment/{name}": text for name, text in files.items()})
    return write_pack(
        tmp_path / "pack",
        grader=PY,
        tasks=ONE_TASK,
        solutions=ONE_REF,
        grader_py=RIGHT,
        extra_files=extra,
    )


def _containers_running(client, marker: str) -> list[str]:
    """Ids of containers (build steps included) whose command mentions `marker`."""
    return [c["Id"] for c in client.api.containers(all=True) if marker in (c.get("Command") or "")]


@pytest.mark.docker
def test_dockerfile_build_context_over_the_cap_is_refused_before_anything_is_built(
    docker_backend, tmp_path, monkeypatch
):
    from app.sandbox import images
    from app.sandbox.base import SandboxUnavailable

    root = _build_pack(tmp_path, "ARG GAUNTLET_BASE\nFROM ${GAUNTLET_BASE}\nRUN exit 1\n")
    with open(root / "environment" / "big.bin", "wb") as big:  # sparse: no disk used
        big.truncate(images.BUILD_CONTEXT_MAX_BYTES + 1)
    client = docker_backend.client
    builds = []
    real_build = client.api.build
    monkeypatch.setattr(
        client.api, "build", lambda *a, **k: builds.append(k) or real_build(*a, **k)
    )
    with pytest.raises(SandboxUnavailable) as refused:
        images.image_for_pack(client, load(root), docker_backend.image, build_dockerfile=True)
    assert builds == []
    assert "more than 32 MB" in refused.value.message and "not built" in refused.value.message
    assert "only what the image needs in environment/" in refused.value.hint


@pytest.mark.docker
@pytest.mark.parametrize(
    "step",
    ["sleep 600", "while :; do echo still here; sleep 1; done"],
    ids=["silent", "chatty"],
)
def test_dockerfile_build_step_past_the_time_limit_is_stopped_and_leaves_no_container(
    step, docker_backend, tmp_path, monkeypatch
):
    from app.sandbox import images
    from app.sandbox.base import SandboxUnavailable

    monkeypatch.setattr(images, "BUILD_TIMEOUT_S", 4)
    marker = "gauntlet-build-timeout-" + tmp_path.name
    root = _build_pack(
        tmp_path, f"ARG GAUNTLET_BASE\nFROM ${{GAUNTLET_BASE}}\nRUN echo {marker} && {step}\n"
    )
    client = docker_backend.client
    started = time.monotonic()
    with pytest.raises(SandboxUnavailable) as stopped:
        images.image_for_pack(client, load(root), docker_backend.image, build_dockerfile=True)
    assert time.monotonic() - started < 60
    assert "took longer than 4 s" in stopped.value.message, stopped.value.message
    assert "time limit" in stopped.value.hint
    # The engine stops a build whose client went away, and removes its container (forcerm).
    deadline = time.monotonic() + 30
    while _containers_running(client, marker) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _containers_running(client, marker) == []


@pytest.mark.docker
def test_dockerfile_build_step_over_the_memory_limit_fails(docker_backend, tmp_path, monkeypatch):
    """The step writes 512 MiB under a 64 MiB limit (no swap): the kernel kills it (137)."""
    from app.sandbox import images
    from app.sandbox.base import SandboxUnavailable

    monkeypatch.setattr(images, "BUILD_MEMORY_BYTES", 64 << 20)
    root = _build_pack(
        tmp_path,
        "ARG GAUNTLET_BASE\nFROM ${GAUNTLET_BASE}\n"
        'RUN ["python3", "-c", "x = b\'x\' * (512 << 20); print(len(x))"]\n',
    )
    with pytest.raises(SandboxUnavailable) as failed:
        images.image_for_pack(
            docker_backend.client, load(root), docker_backend.image, build_dockerfile=True
        )
    assert "failed" in failed.value.message and "137" in failed.value.message, failed.value
