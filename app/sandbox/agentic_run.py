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
from dataclasses import dataclass
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
        folder, content = files
        if warm is not None:
            self.box: Any = warm.agent_box(folder, content)
        else:
            self.box = _start(client, image, limits)
            try:
                _untar(self.box, folder, tar_of(content), user=ROOT_USER)
            except BaseException:
                _remove(self.box)
                raise
        self._finished = False

    def run(self, command: list[str], timeout_s: float) -> tuple[int | None, str]:
        """One step as the agent user: (exit code, output tail); 124/137 = killed at timeout_s."""
        return _exec(self.box, command, timeout_s)

    def finish(self, tests_dir: Path) -> Episode:
        """Run the verifier on what the agent left, and read the reward (once)."""
        if self._finished:
            return self.episode
        self._finished = True
        tests = tar_of(folder_files(tests_dir))
        if self.limits.shared:
            _untar(self.box, "/tests", tests, user=ROOT_USER)
            _verify(self.box, self.limits, self.episode)
            return self.episode
        snapshot = _tar_out(self.box, WORKDIR, self.limits.disk_mb)
        if self.warm is not None:
            _verify(self.warm.verifier_box(snapshot, tests), self.limits, self.episode)
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


# Reset between screening episodes, in one exec fed the new workdir as a tar: no agent process
# left, the writable mounts empty (checked), then the workdir refilled. Runs as the agent: root
# has no capabilities here, so only the owner can clear /app. `kill -9 -1` spares the caller.
_RESET_AGENT = """
kill -9 -1 2>/dev/null
chmod -R u+rwX /app /tmp /logs /dev/shm 2>/dev/null
find /app /tmp /logs /dev/shm -mindepth 1 -delete 2>/dev/null
[ -z "$(find /app /tmp /logs /dev/shm -mindepth 1 2>/dev/null | head -1)" ] || exit 3
mkdir -p /logs/verifier || exit 3
if [ "$1" = fill ]; then tar -x --no-same-owner -m -C /app -f -; else cat > /dev/null; fi
"""
# The same for the folders only root writes, then the phase's files (tar on stdin) into $1.
_RESET_ROOT = """
find /agent /tests /solution -mindepth 1 -delete 2>/dev/null
tar -x --no-same-owner -m -C "$1" -f -
"""


class WarmBoxes:
    """The containers of one task image, reused across screening episodes: after each one they
    are reset (every agent process killed, the writable mounts emptied, the workdir refilled
    from the image) instead of recreated. A box that does not come back clean is replaced.
    Only screening uses them: a hit is confirmed in fresh containers."""

    def __init__(self, client: Any, image: str, limits: PhaseLimits) -> None:
        self.client, self.image, self.limits = client, image, limits
        self._boxes: dict[str, Any] = {}
        self._loaded: dict[str, tuple[str, bytes]] = {}  # role -> (folder, tar) root placed
        self.resets = 0
        self.replaced = 0

    def agent_box(self, folder: str, files: dict[str, bytes]) -> Any:
        """The agent's box: the image's workdir, and `files` under `folder` (root's)."""
        return self._ready("agent", pristine_workdir(self.client, self.image), folder, files)

    def verifier_box(self, snapshot: bytes, tests: bytes) -> Any:
        """The verifier's box: the agent's workdir `snapshot`, and `tests` (tars) in /tests."""
        return self._ready("verifier", snapshot, "/tests", tests)

    def close(self) -> None:
        for box in self._boxes.values():
            _remove(box)
        self._boxes.clear()

    def _ready(self, role: str, workdir: bytes, folder: str, files: dict | bytes) -> Any:
        content = files if isinstance(files, bytes) else tar_of(files)
        # root's folders are unwritable to the agent and the verifier: unchanged content stays
        refill = None if self._loaded.get(role) == (folder, content) else (folder, content)
        box = self._boxes.pop(role, None)
        if box is not None:
            if _reset(box, workdir, refill):
                self.resets += 1
            else:
                self.replaced += 1
                _remove(box)
                box = None
        if box is None:
            box = self._boxes[role] = _start(self.client, self.image, self.limits, pristine=False)
            _untar(box, WORKDIR, workdir, user=AGENT_USER)
            _untar(box, folder, content, user=ROOT_USER)
        self._boxes[role] = box  # kept (and removed by close) whatever happens next
        self._loaded[role] = (folder, content)
        return box


def _reset(box: Any, workdir: bytes, refill: tuple[str, bytes] | None) -> bool:
    """Empty a used box, then refill its workdir and, given `refill` (folder, tar), that
    root-owned folder; False when the box is gone or does not come back clean."""
    try:
        fill = "fill" if workdir else "-"
        code, _ = _feed(box, ["sh", "-c", _RESET_AGENT, "reset", fill], workdir, user=AGENT_USER)
        if code != 0 or refill is None:
            return code == 0
        folder, files = refill
        command = ["timeout", "-s", "KILL", "30", "sh", "-c", _RESET_ROOT, "reset", folder]
        code, _ = _feed(box, command, files or _EMPTY_TAR, user=ROOT_USER)
    except Exception:  # noqa: BLE001 - a dead or unreachable container is replaced
        return False
    return code == 0


def folder_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _verify(box: Any, limits: PhaseLimits, episode: Episode) -> None:
    """Run tests/test.sh (already in /tests) and read the reward it left."""
    code, out = _exec(box, ["bash", "/tests/test.sh"], limits.verifier_timeout_s)
    episode.verifier_exit, episode.verifier_output = code, out
    if code in (124, 137):
        episode.error = episode.error or "verifier-timeout"
        episode.detail = episode.detail or f"{limits.verifier_timeout_s:g} s"
    reward, problem = read_reward(box)
    episode.reward = reward
    if problem and episode.error is None:
        episode.error, episode.detail = "no-reward", problem


def read_reward(box: Any) -> tuple[float | None, str]:
    """The reward the verifier wrote, parsed on the trusted side, or (None, what is wrong)."""
    data = _tar_out(box, REWARD_DIR, 1)
    files = _read_tar(data)
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
    memory = f"{limits.memory_mb}m"
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
        _feed(box, ["tar", "-x", "--no-same-owner", "-m", "-C", folder, "-f", "-"], data, user=user)


def _feed(box: Any, command: list[str], data: bytes, *, user: str) -> tuple[int | None, bytes]:
    """Run `command` in the box with `data` on its stdin: (exit code, what it printed)."""
    api = box.client.api
    exec_id = api.exec_create(box.id, command, stdin=True, user=user, workdir="/")["Id"]
    sock = api.exec_start(exec_id, socket=True)
    raw = getattr(sock, "_sock", sock)
    output = []
    try:
        if data:
            raw.sendall(data)
        raw.shutdown(1)
        while chunk := raw.recv(65536):
            output.append(chunk)
    finally:
        sock.close()
    return api.exec_inspect(exec_id).get("ExitCode"), b"".join(output)


def _inodes(disk_mb: int) -> int:
    return max(disk_mb * 64, 4096)


def _tar_out(box: Any, folder: str, cap_mb: int) -> bytes:
    # a full tmpfs fits: its bytes, plus a header and padding per possible file
    cap = (cap_mb << 20) + _inodes(cap_mb) * 1536 + (1 << 20)
    command = ["sh", "-c", f'tar -c -C "{folder}" . 2>/dev/null | head -c {cap + 1}']
    api = box.client.api
    exec_id = api.exec_create(  # from "/": the agent may have made its workdir unenterable
        box.id, command, stdout=True, stderr=False, user=AGENT_USER, workdir="/"
    )["Id"]
    chunks: list[bytes] = []  # joined once: exec_run's demux grows one bytes object (quadratic)
    for chunk in api.exec_start(exec_id, stream=True):
        chunks.append(chunk)
    data = b"".join(chunks)
    if len(data) > cap:
        raise SandboxUnavailable(f"{folder} holds more than {cap_mb} MB; it was not copied")
    return data


def _read_tar(data: bytes) -> dict[str, bytes]:
    if not data:
        return {}
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            for member in archive.getmembers():
                if member.isfile() and member.size <= 4096:
                    handle = archive.extractfile(member)
                    if handle is not None:
                        files[member.name.removeprefix("./")] = handle.read()
    except (tarfile.TarError, EOFError, OSError):
        return {}  # the phase left something unreadable there: no reward
    return files


def _exec(box: Any, command: list[str], timeout_s: float) -> tuple[int | None, str]:
    """Run a phase as the agent user; at its deadline every process of that user dies (a
    background child holding the output open cannot keep the phase alive), and only the tail
    of its output crosses to the host. The container's own PID 1 is root's, so it survives."""
    import threading

    limit = f"{max(timeout_s, 1):g}"
    script = (
        f'timeout -s KILL {limit} "$@" > {PHASE_OUTPUT} 2>&1; code=$?; '
        f"kill -9 -1 2>/dev/null; tail -c {OUTPUT_CAP} {PHASE_OUTPUT} 2>/dev/null; exit $code"
    )
    wrapped = ["bash", "-c", script, "phase", *command]
    # the host's own deadline, should the container stop answering: kill it, the stream ends
    watchdog = threading.Timer(max(timeout_s, 1) + HOST_GRACE_S, _kill, (box,))
    watchdog.daemon = True
    watchdog.start()
    try:
        result = box.exec_run(wrapped, user=AGENT_USER, workdir=WORKDIR, demux=False)
    finally:
        watchdog.cancel()
    output = (result.output or b"")[-OUTPUT_CAP:].decode("utf-8", "replace")
    return result.exit_code, output


def _kill(container: Any) -> None:
    try:
        container.kill()
    except Exception:  # noqa: BLE001 - already stopped
        pass


def _remove(container: Any) -> None:
    try:
        container.remove(force=True)
    except Exception:  # noqa: BLE001 - already gone
        pass
