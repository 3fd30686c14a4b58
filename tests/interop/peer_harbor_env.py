"""A harbor environment on the plain `docker` CLI, for `harbor run -e peer_harbor_env:DockerCli`
in the interop tests (imported by the harbor peer venv, never by pytest).

harbor's own `docker` environment drives Docker Compose, which a Debian docker.io install does
not have; its Apple `container` environment drives a CLI whose build / run / exec / stop / rm /
image rm commands are Docker's. This reuses the latter with the `docker` binary, translating
the two flags that differ (`run -c` is Docker's `--cpus`, `exec --uid` its `--user`) and copying
files in and out with `docker cp` / `tar` as root, as compose does, so every step of a trial
(build, start, the oracle agent, the verifier, the reward files) is harbor's own.
"""

import asyncio
import io
import json
import os
import shlex
import shutil
import subprocess
import tarfile
from pathlib import Path

from harbor.environments.apple_container import AppleContainerEnvironment
from harbor.environments.base import ExecResult, transfer_tar_filter
from harbor.environments.capabilities import EnvironmentCapabilities


class DockerCli(AppleContainerEnvironment):
    @classmethod
    def preflight(cls) -> None:
        if not shutil.which("docker"):
            raise SystemExit("the docker CLI is not on PATH")

    @property
    def capabilities(self) -> EnvironmentCapabilities:
        # enforced below (`docker run --network none`): tasks with allow_internet = false run
        return EnvironmentCapabilities(mounted=True, disable_internet=True)

    async def _run_container_command(self, args, check=True, timeout_sec=None, stdin_data=None):
        args = list(args)
        if args[:1] == ["run"] and "-c" in args:  # the first -c: the limit, not `sh -c`
            args[args.index("-c")] = "--cpus"
        if args[:1] == ["run"] and self._network_disabled:
            args = ["run", "--network", "none", *args[1:]]
        if args[:1] == ["run"]:  # the test's owner labels: its leak guard sees these containers
            labels = json.loads(os.environ.get("GAUNTLET_PEER_DOCKER_LABELS", "{}"))
            args = ["run", *[f"--label={k}={v}" for k, v in labels.items()], *args[1:]]
        if args[:1] == ["exec"]:
            args = ["--user" if a == "--uid" else a for a in args]
        if args[:1] == ["stop"]:  # `sleep infinity` as PID 1 ignores SIGTERM: no grace period
            args = ["stop", "-t", "0", *args[1:]]
        if args[:1] == ["build"]:
            args = ["build", "-q", *args[1:]]
        done = await asyncio.to_thread(
            subprocess.run,
            ["docker", *args],
            input=stdin_data,
            capture_output=True,
            timeout=timeout_sec,
        )
        result = ExecResult(
            stdout=done.stdout.decode(errors="replace"),
            stderr=done.stderr.decode(errors="replace"),
            return_code=done.returncode,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args[:3])} failed: {result.stderr[-2000:]}")
        return result

    async def _upload_tar(self, buf: io.BytesIO, target_dir: str) -> None:
        # `docker cp`, as harbor's compose environment copies: whatever the image's USER is
        await self.exec(f"mkdir -p {shlex.quote(target_dir)}", timeout_sec=10, user="root")
        await self._run_container_command(
            ["cp", "-", f"{self._container_name}:{target_dir}"], stdin_data=buf.getvalue()
        )

    async def _download_tar(self, tar_args, target_path: Path, description: str) -> None:
        target_path.mkdir(parents=True, exist_ok=True)
        command = ["docker", "exec", self._container_name, "tar", "cf", "-", *tar_args]
        done = await asyncio.to_thread(subprocess.run, command, capture_output=True)
        if done.returncode != 0:
            raise RuntimeError(f"could not download {description}: {done.stderr[-1000:]!r}")
        with tarfile.open(fileobj=io.BytesIO(done.stdout), mode="r") as tar:
            tar.extractall(path=str(target_path), filter=transfer_tar_filter)
