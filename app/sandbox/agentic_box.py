"""The hardened container of an agentic phase (DESIGN §4.1) and the plumbing to talk to it.

A box runs `sleep infinity` as PID 1 (root, but with every capability dropped, only so the agent
cannot kill it), has no network (an agent phase with an allowlist: only its proxy, see
app.sandbox.egress), a read-only root filesystem, an unprivileged agent user,
memory/CPU/pids limits, and writable space only in size-capped tmpfs mounts (the workdir, /tmp
and /logs: the disk quota; /agent, /solution and /tests: root's, read-only to the agent).
tmpfs mounts cannot be filled with `docker cp`, so files go in and out as tar streams through
`tar` inside the container. All calls block (Docker SDK): callers use worker threads.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass, field
from typing import Any

from app.envpack.model import GraderSpec
from app.sandbox import containers
from app.sandbox.base import SandboxUnavailable
from app.sandbox.egress import EgressPolicy

AGENT_USER = "10001:10001"
ROOT_USER = "0:0"
WORKDIR = "/app"
REWARD_DIR = "/logs/verifier"
PIDS_LIMIT = 256
OUTPUT_CAP = 64 * 1024  # bytes of each phase's output kept for the report
PATH = "/usr/local/bin:/usr/bin:/bin"
PHASE_OUTPUT = "/logs/.phase-output"  # the agent may scribble on it: it only loses its own log
HOST_GRACE_S = 30


@dataclass(slots=True)
class PhaseLimits:
    cpus: float = 1.0
    memory_mb: int = 512
    disk_mb: int = 256
    agent_timeout_s: float = 600.0
    verifier_timeout_s: float = 120.0
    shared: bool = False  # verifier in the agent's container (Harbor's way; weaker)
    egress: EgressPolicy | None = None  # the agent phase's allowlist; None: no network at all
    # a rubric grader: reward.json holds one score per criterion, combined on the trusted side
    rubric: GraderSpec | None = None


# A reused box's reset, run as the agent at the start of its next exec (no exec of its own):
# no agent process left (`kill -9 -1` spares the caller), the writable mounts emptied and
# checked, then the new workdir extracted from stdin. Root has no capabilities here, so only
# the owner can clear /app. A failure prints the exec's nonce, and the box is replaced.
RESET_AGENT = """
kill -9 -1 2>/dev/null
chmod -R u+rwX /app /tmp /logs /dev/shm 2>/dev/null
find /app /tmp /logs /dev/shm -mindepth 1 -delete 2>/dev/null
if [ -n "$(find /app /tmp /logs /dev/shm -mindepth 1 2>/dev/null | head -1)" ] ||
   ! mkdir -p /logs/verifier || ! {fill}; then
  echo "{nonce} reset-failed"; exit 3
fi
"""
FILL = "tar -x --no-same-owner -m -C /app -f -"


class ResetFailed(Exception):
    """A reused box did not come back clean: it is replaced."""


class BoxGone(Exception):
    """The container stopped (its PID 1 was killed) or was removed."""


def start_box(
    client: Any,
    image: str,
    limits: PhaseLimits,
    *,
    pristine: bool = True,
    egress: dict[str, Any] | None = None,
) -> Any:
    """A running, hardened container of `image`, its workdir filled from the image; with
    `egress` (Egress.box_options), on the proxy's network instead of none."""
    import docker.errors
    from docker.types import LogConfig, Ulimit

    # tmpfs pages count toward the memory cgroup: the disk quota (/app, /tmp, /logs) is added,
    # so filling the disk cannot starve the processes (or kill PID 1) by itself
    memory = f"{limits.memory_mb + 2 * limits.disk_mb + 16}m"
    network = dict(egress) if egress else {"network_mode": "none", "env": {}}
    environment = {"PATH": PATH, "HOME": "/tmp", "LANG": "C.UTF-8", **network.pop("env")}
    try:
        box = client.containers.run(
            image,
            ["sleep", "infinity"],
            entrypoint=[],
            user=ROOT_USER,  # root without capabilities: only so the agent cannot kill PID 1
            working_dir=WORKDIR,
            environment=environment,
            detach=True,
            **network,
            read_only=True,
            tmpfs=_mounts(limits.disk_mb),
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            pids_limit=PIDS_LIMIT,
            mem_limit=memory,
            memswap_limit=memory,
            nano_cpus=int(limits.cpus * 1e9),
            ulimits=[
                Ulimit(name="core", soft=0, hard=0),
                Ulimit(name="nofile", soft=1024, hard=1024),
            ],
            log_config=LogConfig(type="none"),
            ipc_mode="private",
            labels=containers.owner_labels(),
            hostname="sandbox",
            init=True,
        )
    except docker.errors.ImageNotFound as exc:
        raise SandboxUnavailable(f"the task image {image} is not on this machine") from exc
    except docker.errors.DockerException as exc:
        raise SandboxUnavailable(f"Docker could not start the task container: {exc}") from exc
    if pristine:
        untar(box, WORKDIR, pristine_workdir(client, image), user=AGENT_USER)
    box.exec_run(["mkdir", "-p", REWARD_DIR], user=AGENT_USER)
    return box


def _mounts(disk_mb: int) -> dict[str, str]:
    disk = f"size={disk_mb}m,nr_inodes={_inodes(disk_mb)}"
    return {
        # exec: agents build and run programs in the workdir, and tests/solution may
        # call their own scripts (Docker's tmpfs default is noexec)
        WORKDIR: f"rw,exec,nosuid,nodev,{disk},uid=10001,gid=10001,mode=0755",
        "/tmp": f"rw,exec,nosuid,nodev,{disk},mode=1777",
        "/logs": "rw,noexec,nosuid,nodev,size=16m,uid=10001,gid=10001,mode=0755",
        "/agent": "rw,exec,nosuid,nodev,size=16m,mode=0755",
        "/solution": "rw,exec,nosuid,nodev,size=16m,mode=0755",
        "/tests": "rw,exec,nosuid,nodev,size=64m,mode=0755",
    }


_PRISTINE: dict[str, bytes] = {}


def pristine_workdir(client: Any, image: str) -> bytes:
    """The image's own /app (hidden by the tmpfs) as a tar of its contents; cached per image."""
    image_id = client.images.get(image).id
    if image_id not in _PRISTINE:
        holder = client.containers.create(
            image, ["true"], entrypoint=[], labels=containers.owner_labels()
        )
        try:
            stream, _ = holder.get_archive(WORKDIR + "/.")
            _PRISTINE[image_id] = b"".join(stream)
        except Exception:  # noqa: BLE001 - an image without /app starts from an empty workdir
            _PRISTINE[image_id] = b""
        finally:
            remove_box(holder)
    return _PRISTINE[image_id]


def tar_of(files: dict[str, bytes]) -> bytes:
    """An uncompressed tar of `files` (name -> bytes), every file executable."""
    if not files:
        return b""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


EMPTY_TAR = b"\0" * 1024  # tar's end-of-archive marker: a valid empty archive


def untar(box: Any, folder: str, data: bytes, *, user: str) -> None:
    """Extract a tar stream into `folder` as `user`, through the container's own tar."""
    if data:
        command = ["tar", "-x", "--no-same-owner", "-m", "-C", folder, "-f", "-"]
        exec_io(box, command, user=user, stdin=data)


def exec_io(
    box: Any, command: list[str], *, user: str, stdin: bytes | None = None, workdir: str = "/"
) -> tuple[int | None, bytes]:
    """Run `command` in the box, `stdin` fed to it: (exit code, stdout and stderr)."""
    import docker.errors
    from docker.utils.socket import frames_iter

    api = box.client.api
    try:
        exec_id = api.exec_create(
            box.id, command, stdin=stdin is not None, user=user, workdir=workdir
        )["Id"]
    except docker.errors.APIError as exc:  # stopped (PID 1 killed) or removed
        raise BoxGone(str(exc)) from exc
    if stdin is None:
        output = api.exec_start(exec_id)
    else:
        sock = api.exec_start(exec_id, socket=True)
        raw = getattr(sock, "_sock", sock)
        try:
            raw.sendall(stdin)
            raw.shutdown(1)  # end of input: the command sees EOF
            output = b"".join(data for _, data in frames_iter(sock, tty=False))
        finally:
            sock.close()
    return api.exec_inspect(exec_id).get("ExitCode"), output or b""


def _inodes(disk_mb: int) -> int:
    return max(disk_mb * 64, 4096)


def tar_out(box: Any, folder: str, cap_mb: int, *, kill: bool = True) -> bytes:
    """A tar of `folder`, taken (unless `kill` is False) with no agent process left to change
    it."""
    # a full tmpfs fits: its bytes, plus a header and padding per possible file
    cap = (cap_mb << 20) + _inodes(cap_mb) * 1536 + (1 << 20)
    stop = "kill -9 -1 2>/dev/null; " if kill else ""
    command = ["sh", "-c", f'{stop}tar -c -C "{folder}" . 2>/dev/null | head -c {cap + 1}']
    import docker.errors

    api = box.client.api
    chunks: list[bytes] = []  # joined once: exec_run's demux grows one bytes object (quadratic)
    try:
        exec_id = api.exec_create(  # from "/": the agent may have made its workdir unenterable
            box.id, command, stdout=True, stderr=False, user=AGENT_USER, workdir="/"
        )["Id"]
        for chunk in api.exec_start(exec_id, stream=True):
            chunks.append(chunk)
    except docker.errors.APIError:
        return b""  # the container died in the phase (out of memory): nothing to copy
    data = b"".join(chunks)
    if len(data) > cap:
        raise SandboxUnavailable(f"{folder} holds more than {cap_mb} MB; it was not copied")
    return data


@dataclass(slots=True)
class Step:
    code: int | None
    output: str
    reward_files: dict[str, bytes] = field(default_factory=dict)


# After the verifier, the reward files (regular files only, 4 kB each) follow a marker line
# with the exec's nonce; the last marker is ours, as everything the verifier printed comes first.
_REWARD_EPILOGUE = """
echo; echo "{nonce} reward"
for f in reward.txt reward.json; do
  p={folder}/$f
  if [ -f "$p" ] && [ ! -L "$p" ]; then echo "$f $(head -c 4096 "$p" | base64 -w0)"; fi
done
"""


def run_step(
    box: Any,
    command: list[str],
    timeout_s: float,
    *,
    reset: bytes | None = None,
    reward: bool = False,
    linger: bool = False,
) -> Step:
    """Run a phase as the agent user; at its deadline every process of that user dies (a
    background child holding the output open cannot keep the phase alive), and only the tail
    of its output crosses to the host. The container's own PID 1 is root's, so it survives.
    `reset` (a reused box): reset first, to that workdir; `reward`: read the reward after.
    `linger` (the shared verifier mode, as Harbor runs it): what earlier steps left running
    keeps running, into this step and, unless it reads the reward, past it."""
    import secrets
    import threading

    nonce = f"GX-{secrets.token_hex(8)}"
    limit = f"{max(timeout_s, 1):g}"
    prologue = ""
    if reset is not None:
        prologue = RESET_AGENT.format(nonce=nonce, fill=FILL if reset else "true")
    epilogue = _REWARD_EPILOGUE.format(nonce=nonce, folder=REWARD_DIR) if reward else ""
    # first, kill what an earlier step left running (it may have killed its own wrapper);
    # the reward is always read with nothing of the agent's left to change it
    kill_before = "" if linger else "kill -9 -1 2>/dev/null"
    kill_after = "" if linger and not reward else "kill -9 -1 2>/dev/null;"
    script = (
        f"{kill_before}\n{prologue}\n"
        f'timeout -s KILL {limit} "$@" > {PHASE_OUTPUT} 2>&1 < /dev/null; code=$?; '
        f"{kill_after} tail -c {OUTPUT_CAP} {PHASE_OUTPUT} 2>/dev/null\n"
        f"{epilogue}\nexit $code"
    )
    wrapped = ["bash", "-c", script, "phase", *command]
    # the host's own deadline, should the container stop answering: kill it, the stream ends
    watchdog = threading.Timer(max(timeout_s, 1) + HOST_GRACE_S, kill_box, (box,))
    watchdog.daemon = True
    watchdog.start()
    try:
        code, raw = exec_io(box, wrapped, user=AGENT_USER, stdin=reset or None, workdir=WORKDIR)
    except BoxGone as exc:
        if reset is not None:
            raise ResetFailed(str(exc)) from exc
        return Step(None, "the container stopped during the phase (out of memory, or killed)")
    finally:
        watchdog.cancel()
    text = raw.decode("utf-8", "replace")
    if reset is not None and code == 3 and f"{nonce} reset-failed" in text:
        raise ResetFailed(text[-200:])
    step = Step(code, text[-OUTPUT_CAP:])
    if reward:
        body, marker, tail = text.rpartition(f"\n{nonce} reward\n")
        if marker:  # else the wrapper died before its epilogue: no reward was read
            step.output = body.removesuffix("\n")[-OUTPUT_CAP:]
            step.reward_files = _decoded(tail)
    return step


def _decoded(listing: str) -> dict[str, bytes]:
    import base64
    import binascii

    files = {}
    for line in listing.splitlines():
        name, _, data = line.partition(" ")
        if name in ("reward.txt", "reward.json"):
            try:
                files[name] = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                continue
    return files


def kill_box(container: Any) -> None:
    try:
        container.kill()
    except Exception:  # noqa: BLE001 - already stopped
        pass


def remove_box(container: Any) -> None:
    if container is None:
        return
    try:
        container.remove(force=True)
    except Exception:  # noqa: BLE001 - already gone
        pass
