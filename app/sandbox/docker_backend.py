"""The Docker backend: one warm, hardened container per batch.

The contract it implements: docs/engineering.md, "Sandbox contract".

Hardening is not optional: no network, read-only root filesystem, a small noexec tmpfs for
/tmp, an unprivileged user, every capability dropped, no-new-privileges, a pids limit, the
package's memory and CPU limits, no logs kept by the engine, the package and the runner mounted
read-only, an empty environment, no Docker socket. The container is killed at the batch deadline
and always removed, also on cancel or when the app crashes mid-run (leftovers are removed by
the next run, see `containers`).

All calls are blocking (the Docker SDK); callers run them in worker threads.
"""

from __future__ import annotations

import logging
import select
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from app.envpack.model import EnvPack
from app.sandbox import containers
from app.sandbox.base import BackendInfo, SandboxBase, SandboxUnavailable
from app.sandbox.batch_run import Channel, RunnerConfig
from app.sandbox.judge import JudgeGrader
from app.sandbox.limits import SandboxLimits

log = logging.getLogger(__name__)

RUNNER_DIR = Path(__file__).resolve().parent / "runner"
RUNNER_MOUNT = "/opt/gauntlet/runner"
PACK_MOUNT = "/pack"
SANDBOX_USER = "10001:10001"
LAUNCH = "import sys; sys.path.insert(0, '/opt/gauntlet'); from runner.server import main; main()"
TMPFS_MB = 128
PIDS_LIMIT = 128


class DockerBackend(SandboxBase):
    def __init__(
        self, client: Any, image: str, *, judge: JudgeGrader, build_package_dockerfile: bool = False
    ) -> None:
        super().__init__(judge)
        self.client = client
        self.image = image
        # only for the user's own packages, or when the operator allows it (get_backend)
        self.build_package_dockerfile = build_package_dockerfile
        self.info = BackendInfo(
            name="docker",
            weak=False,
            description=f"Docker container from {image}: no network, read-only, unprivileged",
        )

    def _prepare(self, pack: EnvPack) -> BatchImage:
        from app.sandbox.images import image_env_names, image_for_pack

        tag = image_for_pack(
            self.client, pack, self.image, build_dockerfile=self.build_package_dockerfile
        )
        return BatchImage(tag, image_env_names(self.client, tag))

    def _start_channel(
        self, prepared: BatchImage, snapshot: Path | None, limits: SandboxLimits
    ) -> tuple[DockerChannel, RunnerConfig]:
        channel = DockerChannel.start(self.client, prepared.tag, snapshot, limits, prepared.env)
        return channel, RunnerConfig(
            pack_dir=PACK_MOUNT if snapshot is not None else None,
            scratch="/tmp/gx",
            private_tmp=True,
        )


class BatchImage(NamedTuple):
    """The image a batch's containers run: its tag and the variables its ENV sets."""

    tag: str
    env: list[str]


def container_options(
    image: str, pack_root: Path | None, limits: SandboxLimits, image_env: Iterable[str] = ()
) -> dict[str, Any]:
    """Everything that makes the container safe to run untrusted code in. `image_env`: the
    variables the image's ENV sets; each is overridden (emptied), so an image cannot hand the
    grader settings such as LD_PRELOAD."""
    from docker.types import LogConfig, Ulimit

    volumes = {str(RUNNER_DIR): {"bind": RUNNER_MOUNT, "mode": "ro"}}
    if pack_root is not None:
        volumes[str(Path(pack_root).resolve())] = {"bind": PACK_MOUNT, "mode": "ro"}
    memory = f"{limits.memory_mb}m"
    return {
        "image": image,
        "command": ["python3", "-I", "-B", "-c", LAUNCH],
        "entrypoint": [],
        "user": SANDBOX_USER,
        "working_dir": "/tmp",
        "environment": {
            **dict.fromkeys(image_env, ""),
            "LANG": "C.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
        },
        "stdin_open": True,
        "tty": False,
        "detach": True,
        "network_mode": "none",
        "read_only": True,
        "tmpfs": {"/tmp": f"rw,noexec,nosuid,nodev,size={TMPFS_MB}m,mode=1777"},
        "shm_size": "16m",
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "pids_limit": PIDS_LIMIT,
        "mem_limit": memory,
        "memswap_limit": memory,  # no swap: the limit is the limit
        "nano_cpus": int(limits.cpus * 1e9),
        "ulimits": [
            Ulimit(name="nofile", soft=1024, hard=1024),
            Ulimit(name="core", soft=0, hard=0),
        ],
        "log_config": LogConfig(type="none"),  # a flood of output never reaches the host's disk
        "ipc_mode": "private",
        "volumes": volumes,
        "labels": containers.owner_labels(),
        "hostname": "sandbox",
        "init": False,  # the runner is PID 1: children cannot kill it, orphans come back to it
    }


class DockerChannel(Channel):
    """The runner's stdin/stdout through the engine's attach socket (multiplexed frames)."""

    def __init__(self, client: Any, container: Any, sock: Any) -> None:
        super().__init__()
        self.client = client
        self.container = container
        self.sock = sock
        self.raw = getattr(sock, "_sock", sock)
        self.pending = bytearray()  # undemuxed bytes
        self.eof = False

    @classmethod
    def start(
        cls,
        client: Any,
        image: str,
        pack_root: Path | None,
        limits: SandboxLimits,
        image_env: Iterable[str] = (),
    ) -> DockerChannel:
        import docker.errors

        try:
            container = client.containers.create(
                **container_options(image, pack_root, limits, image_env)
            )
        except docker.errors.ImageNotFound as exc:
            raise SandboxUnavailable(
                f"the sandbox image {image} is not on this machine",
                "build it with `gauntlet sandbox image` (or `--from-debian` without internet)",
            ) from exc
        except docker.errors.DockerException as exc:
            raise SandboxUnavailable(
                f"Docker could not create the sandbox: {exc}", "run `gauntlet sandbox doctor`"
            ) from exc
        try:
            sock = client.api.attach_socket(
                container.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            channel = cls(client, container, sock)
            container.start()
        except Exception as exc:
            _remove(container)
            raise SandboxUnavailable(
                f"Docker could not start the sandbox: {exc}", "run `gauntlet sandbox doctor`"
            ) from exc
        return channel

    def send(self, data: bytes) -> None:
        if self.closed:
            raise OSError("the sandbox is closed")
        self.raw.sendall(data)

    def recv(self, timeout: float) -> bytes | None:
        while True:
            frame = self._take_frame()
            if frame is not None:
                stream, payload = frame
                if stream == 2:
                    self._keep_stderr(payload)
                    continue
                return payload
            if self.eof or self.closed:
                return b""
            try:
                ready, _, _ = select.select([self.raw], [], [], max(0.0, timeout))
            except (OSError, ValueError):
                self.eof = True
                return b""
            if not ready:
                return None
            try:
                chunk = self.raw.recv(1 << 16)
            except (OSError, ValueError):
                chunk = b""
            if not chunk:
                self.eof = True
                if not self.pending:
                    return b""
                continue
            self.pending.extend(chunk)
            timeout = 0.0

    def _take_frame(self) -> tuple[int, bytes] | None:
        if len(self.pending) < 8:
            return None
        size = int.from_bytes(self.pending[4:8], "big")
        if len(self.pending) < 8 + size:
            return None
        stream = self.pending[0]
        payload = bytes(self.pending[8 : 8 + size])
        del self.pending[: 8 + size]
        return stream, payload

    def kill(self) -> None:
        try:
            self.container.kill()
        except Exception:  # noqa: BLE001 - already stopped
            pass

    def _remove_sandbox(self) -> None:
        try:
            self.raw.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        _remove(self.container)


def _remove(container: Any) -> None:
    try:
        container.remove(force=True)
    except Exception as exc:  # noqa: BLE001 - already removed (e.g. by a concurrent clean-up)
        log.debug("removing sandbox %s: %s", getattr(container, "short_id", "?"), exc)


def docker_client(timeout: int = 60) -> Any:
    """A client for the local engine, or SandboxUnavailable with advice."""
    try:
        import docker  # noqa: F401 - a missing SDK gets its own message
    except ImportError as exc:  # pragma: no cover - docker is a hard dependency
        raise SandboxUnavailable(
            "the Docker SDK for Python is missing", "reinstall Gauntlet Studio"
        ) from exc
    try:
        from app.sandbox.docker_engine import engine_client

        client = engine_client(timeout=timeout)
        client.ping()
        return client
    except Exception as exc:  # noqa: BLE001
        from app.sandbox.doctor import docker_advice

        raise SandboxUnavailable(
            f"cannot reach the Docker engine: {_short(exc)}", docker_advice()
        ) from exc


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "…"
