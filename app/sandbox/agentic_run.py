"""One episode of an agentic task in Docker (DESIGN §4.1): agent phase, then verifier phase.

The agent phase runs a script (the oracle, a negative, a cheating agent, or nothing) in a
hardened container made from the task image: no network, read-only root filesystem, every
capability dropped, an unprivileged user, memory/CPU/pids limits, and writable space only in
size-capped tmpfs mounts (the workdir, /tmp and /logs: the disk quota). tests/ and solution/
are not there. The workdir is then copied out, and in `separate` mode the verifier runs in a
fresh container that receives that copy and tests/ (owned by root, so read-only to it). The
trusted side reads the reward file. Containers are always removed.

tmpfs mounts cannot be filled with `docker cp`, so files go in and out as tar streams through
`tar` inside the container. All calls block (Docker SDK): callers use worker threads.
"""

from __future__ import annotations

import io
import math
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.sandbox import containers
from app.sandbox.base import SandboxUnavailable

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


@dataclass(slots=True)
class Episode:
    """What one agent did and what the verifier made of it."""

    reward: float | None = None
    error: str | None = None  # "agent-timeout" | "verifier-timeout" | "no-reward" | ...
    detail: str = ""
    agent_exit: int | None = None
    agent_output: str = ""
    verifier_exit: int | None = None
    verifier_output: str = ""


@dataclass(slots=True)
class AgentScript:
    """What runs as the agent: `command` in the workdir, with `files` placed under `folder`."""

    command: list[str]
    files: dict[str, bytes]
    folder: str = "/agent"

    @classmethod
    def nothing(cls) -> AgentScript:
        return cls(["true"], {})

    @classmethod
    def from_folder(cls, folder: Path, script: str, mount: str) -> AgentScript:
        files = {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()
        }
        return cls(["bash", f"{mount}/{script}"], files, mount)


def run_episode(
    client: Any,
    image: str,
    tests_dir: Path,
    agent: AgentScript,
    limits: PhaseLimits,
    warm: WarmBoxes | None = None,
) -> Episode:
    """Run `agent` on a fresh copy of the task's workdir, then the verifier; never raises for
    what the package does (only SandboxUnavailable when Docker itself fails). With `warm`,
    the containers are reset and reused instead of created (screening; see WarmBoxes)."""
    phase = AgentPhase(client, image, limits, warm, (agent.folder, agent.files))
    try:
        started = time.monotonic()
        code, out = phase.run(agent.command, limits.agent_timeout_s)
        phase.episode.agent_exit, phase.episode.agent_output = code, out
        if code in (124, 137) and time.monotonic() - started >= limits.agent_timeout_s:
            phase.episode.error = "agent-timeout"
            phase.episode.detail = f"{limits.agent_timeout_s:g} s"
        elif code == 137:  # killed early: the memory limit (tmpfs files count toward it)
            phase.episode.error = "agent-killed"
            phase.episode.detail = f"killed before its time limit (memory_mb {limits.memory_mb})"
        return phase.finish(tests_dir)
    finally:
        phase.close()


class AgentPhase:
    """An agent phase driven step by step (a script is one step; the LLM agent's shell tool
    takes many), then `finish` runs the verifier. Every step ends with every process of the
    agent user killed, so nothing runs between steps or into the verifier phase. `files`
    (folder, {name: bytes}) are placed where only root writes (/agent): the agent reads them."""

    def __init__(
        self,
        client: Any,
        image: str,
        limits: PhaseLimits,
        warm: WarmBoxes | None = None,
        files: tuple[str, dict[str, bytes]] = ("/agent", {}),
    ) -> None:
        self.client, self.image, self.limits, self.warm = client, image, limits, warm
        self.episode = Episode()
        self._files = files
        self._pending: bytes | None = None  # a reused box's reset, done by its first exec
        if warm is not None:
            self.box, self._pending = warm.agent_box(*files)
        else:
            self.box = _start(client, image, limits)
            try:
                _untar(self.box, files[0], tar_of(files[1]), user=ROOT_USER)
            except BaseException:
                _remove(self.box)
                raise
        self._finished = False

    def run(self, command: list[str], timeout_s: float) -> tuple[int | None, str]:
        """One step as the agent user: (exit code, output tail); 124/137 = killed at timeout_s."""
        reset, self._pending = self._pending, None
        try:
            step = _exec(self.box, command, timeout_s, reset=reset)
        except _ResetFailed:
            assert self.warm is not None
            self.box = self.warm.replace("agent", *self._files)
            step = _exec(self.box, command, timeout_s)
        return step.code, step.output

    def finish(self, tests_dir: Path) -> Episode:
        """Run the verifier on what the agent left, and read the reward (once)."""
        if self._finished:
            return self.episode
        self._finished = True
        if self._pending is not None:  # no step ran: the reused box still needs its reset
            self.run(["true"], 10)
        tests = tar_of(folder_files(tests_dir))
        if self.limits.shared:
            _untar(self.box, "/tests", tests, user=ROOT_USER)
            _verify(self.box, self.limits, self.episode)
            return self.episode
        snapshot = _tar_out(self.box, WORKDIR, self.limits.disk_mb)
        if self.warm is not None:
            box, pending = self.warm.verifier_box(snapshot, tests)
            try:
                _verify(box, self.limits, self.episode, reset=pending)
            except _ResetFailed:
                box = self.warm.replace("verifier", "/tests", tests, snapshot)
                _verify(box, self.limits, self.episode)
            return self.episode
        _remove(self.box)
        verifier = _start(self.client, self.image, self.limits, pristine=False)
        try:
            _untar(verifier, WORKDIR, snapshot, user=AGENT_USER)
            _untar(verifier, "/tests", tests, user=ROOT_USER)
            _verify(verifier, self.limits, self.episode)
        finally:
            _remove(verifier)
        return self.episode

    def close(self) -> None:
        if self.warm is None:
            _remove(self.box)


# A reused box's reset, run as the agent at the start of its next exec (no exec of its own):
# no agent process left (`kill -9 -1` spares the caller), the writable mounts emptied and
# checked, then the new workdir extracted from stdin. Root has no capabilities here, so only
# the owner can clear /app. A failure prints the exec's nonce, and the box is replaced.
_RESET_AGENT = """
kill -9 -1 2>/dev/null
chmod -R u+rwX /app /tmp /logs /dev/shm 2>/dev/null
find /app /tmp /logs /dev/shm -mindepth 1 -delete 2>/dev/null
if [ -n "$(find /app /tmp /logs /dev/shm -mindepth 1 2>/dev/null | head -1)" ] ||
   ! mkdir -p /logs/verifier || ! {fill}; then
  echo "{nonce} reset-failed"; exit 3
fi
"""
_FILL = "tar -x --no-same-owner -m -C /app -f -"
# The folders only root writes, emptied, then the phase's files (tar on stdin) put into $1.
_RESET_ROOT = """
find /agent /tests /solution -mindepth 1 -delete 2>/dev/null
tar -x --no-same-owner -m -C "$1" -f -
"""


class _ResetFailed(Exception):
    """A reused box did not come back clean: it is replaced."""


class _BoxGone(Exception):
    """The container stopped (its PID 1 was killed) or was removed."""


class WarmBoxes:
    """The containers of one task image, reused across screening episodes: before each one
    they are reset (every agent process killed, the writable mounts emptied, the workdir
    refilled) instead of recreated. A box that does not come back clean is replaced. Only
    screening uses them: a hit is confirmed in fresh containers."""

    def __init__(self, client: Any, image: str, limits: PhaseLimits) -> None:
        self.client, self.image, self.limits = client, image, limits
        self._boxes: dict[str, Any] = {}
        self._loaded: dict[str, tuple[str, bytes]] = {}  # role -> (folder, tar) root placed
        self.resets = 0
        self.replaced = 0

    def agent_box(self, folder: str, files: dict[str, bytes]) -> tuple[Any, bytes | None]:
        """The agent's box and, when reused, the workdir its first exec must reset to."""
        workdir = pristine_workdir(self.client, self.image)
        return self._claim("agent", folder, tar_of(files), workdir)

    def verifier_box(self, snapshot: bytes, tests: bytes) -> tuple[Any, bytes | None]:
        """The verifier's box (tests/ in /tests) and, when reused, the workdir to reset to."""
        return self._claim("verifier", "/tests", tests, snapshot)

    def replace(self, role: str, folder: str, files: dict | bytes, workdir: bytes = b"") -> Any:
        """A new box for `role`, its workdir and root's folder filled (the old one is gone)."""
        _remove(self._boxes.pop(role, None))
        content = files if isinstance(files, bytes) else tar_of(files)
        if role == "agent":
            workdir = pristine_workdir(self.client, self.image)
        box = self._boxes[role] = _start(self.client, self.image, self.limits, pristine=False)
        _untar(box, WORKDIR, workdir, user=AGENT_USER)
        _untar(box, folder, content, user=ROOT_USER)
        self._loaded[role] = (folder, content)
        return box

    def close(self) -> None:
        for box in self._boxes.values():
            _remove(box)
        self._boxes.clear()

    def _claim(
        self, role: str, folder: str, content: bytes, workdir: bytes
    ) -> tuple[Any, bytes | None]:
        box = self._boxes.get(role)
        if box is None:
            return self.replace(role, folder, content, workdir), None
        # root's folders are unwritable to the agent and the verifier: unchanged content stays
        if self._loaded.get(role) != (folder, content) and not _refill(box, folder, content):
            self.replaced += 1
            return self.replace(role, folder, content, workdir), None
        self._loaded[role] = (folder, content)
        self.resets += 1
        return box, workdir


def _refill(box: Any, folder: str, files: bytes) -> bool:
    """Empty root's folders of a used box and put `files` (a tar) into `folder`."""
    command = ["timeout", "-s", "KILL", "30", "sh", "-c", _RESET_ROOT, "reset", folder]
    try:
        code, _ = _exec_io(box, command, user=ROOT_USER, stdin=files or _EMPTY_TAR)
    except Exception:  # noqa: BLE001 - a dead or unreachable container is replaced
        return False
    return code == 0


def folder_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _verify(box: Any, limits: PhaseLimits, episode: Episode, *, reset: bytes | None = None) -> None:
    """Run tests/test.sh (already in /tests) and read the reward it left, in one exec."""
    timeout_s = limits.verifier_timeout_s
    step = _exec(box, ["bash", "/tests/test.sh"], timeout_s, reset=reset, reward=True)
    episode.verifier_exit, episode.verifier_output = step.code, step.output
    if step.code in (124, 137):
        episode.error = episode.error or "verifier-timeout"
        episode.detail = episode.detail or f"{timeout_s:g} s"
    reward, problem = reward_from_files(step.reward_files)
    episode.reward = reward
    if problem and episode.error is None:
        episode.error, episode.detail = "no-reward", problem


def reward_from_files(files: dict[str, bytes]) -> tuple[float | None, str]:
    """The reward in the files the verifier left, parsed on the trusted side, or (None, what
    is wrong)."""
    text = files.get("reward.txt")
    if text is not None:
        return parse_reward(text.decode("utf-8", "replace"), "reward.txt")
    raw = files.get("reward.json")
    if raw is not None:
        return parse_reward_json(raw.decode("utf-8", "replace"))
    return None, f"the verifier wrote neither {REWARD_DIR}/reward.txt nor reward.json"


def parse_reward(text: str, name: str) -> tuple[float | None, str]:
    try:
        value = float(text.strip())
    except ValueError:
        return None, f"{name} holds {text.strip()[:40]!r}, not one number"
    if not math.isfinite(value):
        return None, f"{name} holds {value}, not a finite number"
    return value, ""


def parse_reward_json(text: str) -> tuple[float | None, str]:
    import json

    try:
        value = json.loads(text)
    except ValueError:
        return None, "reward.json is not valid JSON"
    if isinstance(value, dict):  # Harbor: {"reward": x, ...other metrics}
        value = value.get("reward", next(iter(value.values()), None) if len(value) == 1 else None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, 'reward.json must hold a number or {"reward": number}'
    return parse_reward(str(value), "reward.json")


def _start(client: Any, image: str, limits: PhaseLimits, *, pristine: bool = True) -> Any:
    """A running, hardened container of `image`, its workdir filled from the image."""
    import docker.errors
    from docker.types import LogConfig, Ulimit

    disk = f"size={limits.disk_mb}m,nr_inodes={_inodes(limits.disk_mb)}"
    # tmpfs pages count toward the memory cgroup: the disk quota (/app, /tmp, /logs) is added,
    # so filling the disk cannot starve the processes (or kill PID 1) by itself
    memory = f"{limits.memory_mb + 2 * limits.disk_mb + 16}m"
    try:
        box = client.containers.run(
            image,
            ["sleep", "infinity"],
            entrypoint=[],
            user=ROOT_USER,  # root without capabilities: only so the agent cannot kill PID 1
            working_dir=WORKDIR,
            environment={"PATH": PATH, "HOME": "/tmp", "LANG": "C.UTF-8"},
            detach=True,
            network_mode="none",
            read_only=True,
            tmpfs={
                # exec: agents build and run programs in the workdir, and tests/solution may
                # call their own scripts (Docker's tmpfs default is noexec)
                WORKDIR: f"rw,exec,nosuid,nodev,{disk},uid=10001,gid=10001,mode=0755",
                "/tmp": f"rw,exec,nosuid,nodev,{disk},mode=1777",
                "/logs": "rw,noexec,nosuid,nodev,size=16m,uid=10001,gid=10001,mode=0755",
                "/agent": "rw,exec,nosuid,nodev,size=16m,mode=0755",
                "/solution": "rw,exec,nosuid,nodev,size=16m,mode=0755",
                "/tests": "rw,exec,nosuid,nodev,size=64m,mode=0755",
            },
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
        _untar(box, WORKDIR, pristine_workdir(client, image), user=AGENT_USER)
    box.exec_run(["mkdir", "-p", REWARD_DIR], user=AGENT_USER)
    return box


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
            _remove(holder)
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


_EMPTY_TAR = b"\0" * 1024  # tar's end-of-archive marker: a valid empty archive


def _untar(box: Any, folder: str, data: bytes, *, user: str) -> None:
    """Extract a tar stream into `folder` as `user`, through the container's own tar."""
    if data:
        command = ["tar", "-x", "--no-same-owner", "-m", "-C", folder, "-f", "-"]
        _exec_io(box, command, user=user, stdin=data)


def _exec_io(
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
        raise _BoxGone(str(exc)) from exc
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


def _tar_out(box: Any, folder: str, cap_mb: int) -> bytes:
    # a full tmpfs fits: its bytes, plus a header and padding per possible file
    cap = (cap_mb << 20) + _inodes(cap_mb) * 1536 + (1 << 20)
    command = [
        "sh",
        "-c",
        f'kill -9 -1 2>/dev/null; tar -c -C "{folder}" . 2>/dev/null | head -c {cap + 1}',
    ]
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
class _Step:
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


def _exec(
    box: Any,
    command: list[str],
    timeout_s: float,
    *,
    reset: bytes | None = None,
    reward: bool = False,
) -> _Step:
    """Run a phase as the agent user; at its deadline every process of that user dies (a
    background child holding the output open cannot keep the phase alive), and only the tail
    of its output crosses to the host. The container's own PID 1 is root's, so it survives.
    `reset` (a reused box): reset first, to that workdir; `reward`: read the reward after."""
    import secrets
    import threading

    nonce = f"GX-{secrets.token_hex(8)}"
    limit = f"{max(timeout_s, 1):g}"
    prologue = ""
    if reset is not None:
        prologue = _RESET_AGENT.format(nonce=nonce, fill=_FILL if reset else "true")
    epilogue = _REWARD_EPILOGUE.format(nonce=nonce, folder=REWARD_DIR) if reward else ""
    # first, kill what an earlier step left running (it may have killed its own wrapper)
    script = (
        f"kill -9 -1 2>/dev/null\n{prologue}\n"
        f'timeout -s KILL {limit} "$@" > {PHASE_OUTPUT} 2>&1 < /dev/null; code=$?; '
        f"kill -9 -1 2>/dev/null; tail -c {OUTPUT_CAP} {PHASE_OUTPUT} 2>/dev/null\n"
        f"{epilogue}\nexit $code"
    )
    wrapped = ["bash", "-c", script, "phase", *command]
    # the host's own deadline, should the container stop answering: kill it, the stream ends
    watchdog = threading.Timer(max(timeout_s, 1) + HOST_GRACE_S, _kill, (box,))
    watchdog.daemon = True
    watchdog.start()
    try:
        code, raw = _exec_io(box, wrapped, user=AGENT_USER, stdin=reset or None, workdir=WORKDIR)
    except _BoxGone as exc:
        if reset is not None:
            raise _ResetFailed(str(exc)) from exc
        return _Step(None, "the container stopped during the phase (out of memory, or killed)")
    finally:
        watchdog.cancel()
    text = raw.decode("utf-8", "replace")
    if reset is not None and code == 3 and f"{nonce} reset-failed" in text:
        raise _ResetFailed(text[-200:])
    step = _Step(code, text[-OUTPUT_CAP:])
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


def _kill(container: Any) -> None:
    try:
        container.kill()
    except Exception:  # noqa: BLE001 - already stopped
        pass


def _remove(container: Any) -> None:
    if container is None:
        return
    try:
        container.remove(force=True)
    except Exception:  # noqa: BLE001 - already gone
        pass
