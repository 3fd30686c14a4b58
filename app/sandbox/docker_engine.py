"""Connecting to the local Docker engine wherever it listens.

The Docker SDK looks only at DOCKER_HOST and /var/run/docker.sock. The `docker` command also
follows "contexts", which is how Colima, Docker Desktop for Linux, Rancher Desktop and
rootless Docker make themselves the default: their engines listen on a socket in the user's
home. A user who installed one of them sees `docker` work in a terminal; the app must then
find the same engine without asking them to set variables.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

SYSTEM_SOCKET = Path("/var/run/docker.sock")


def _candidate_sockets() -> list[Path]:
    home = Path.home()
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return [
        home / ".docker" / "run" / "docker.sock",  # Docker Desktop for Mac
        home / ".docker" / "desktop" / "docker.sock",  # Docker Desktop for Linux
        home / ".colima" / "default" / "docker.sock",  # Colima
        home / ".colima" / "docker.sock",
        home / ".rd" / "docker.sock",  # Rancher Desktop
        *([Path(runtime) / "docker.sock"] if runtime else []),  # rootless Docker
    ]


def engine_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the SDK should read: as given, plus DOCKER_HOST for a per-user engine
    when neither DOCKER_HOST nor the system socket is there."""
    env = dict(os.environ if environ is None else environ)
    if env.get("DOCKER_HOST") or os.name == "nt" or SYSTEM_SOCKET.exists():
        return env  # Windows: the SDK's named pipe is Docker Desktop's default
    for socket in _candidate_sockets():
        if socket.exists():
            env["DOCKER_HOST"] = f"unix://{socket}"
            break
    return env


def engine_client(timeout: int = 60) -> Any:
    """`docker.from_env` for the engine this user's `docker` command would use."""
    import docker

    return docker.from_env(timeout=timeout, environment=engine_environment())
