"""Labels on every sandbox container, and the clean-up of leftovers from dead processes.

Several test runs and app windows may share one Docker engine, so clean-up removes only
containers whose owner process (same host, same pid, same start time) is gone — never those of
a process that is still alive.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any

log = logging.getLogger(__name__)

LABEL = "gauntlet.sandbox"
LABEL_PID = "gauntlet.owner.pid"
LABEL_START = "gauntlet.owner.start"
LABEL_HOST = "gauntlet.owner.host"
LABEL_CREATED = "gauntlet.created"
# A container from another machine sharing this engine is only removed when it is this old.
FOREIGN_MAX_AGE_S = 24 * 3600


def owner_labels() -> dict[str, str]:
    return {
        LABEL: "1",
        LABEL_PID: str(os.getpid()),
        LABEL_START: process_start_marker(os.getpid()),
        LABEL_HOST: socket.gethostname(),
        LABEL_CREATED: str(int(time.time())),
    }


def process_start_marker(pid: int) -> str:
    """The process's start time (clock ticks since boot) on Linux: tells a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
        return data[data.rfind(b")") + 2 :].split()[19].decode()
    except (OSError, IndexError):
        return ""


def owner_alive(labels: dict[str, str]) -> bool:
    if labels.get(LABEL_HOST) != socket.gethostname():
        created = int(labels.get(LABEL_CREATED, "0") or 0)
        return time.time() - created < FOREIGN_MAX_AGE_S
    try:
        pid = int(labels.get(LABEL_PID, ""))
    except ValueError:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    marker = labels.get(LABEL_START, "")
    return not marker or marker == process_start_marker(pid)


def remove_leftovers(client: Any) -> int:
    """Remove sandbox containers whose owner process is dead, then such networks (an agent
    phase's allowlist network, app.sandbox.egress); returns how many containers were removed."""
    removed = 0
    try:
        containers = client.containers.list(all=True, filters={"label": f"{LABEL}=1"})
    except Exception as exc:  # noqa: BLE001 - clean-up must never stop a run
        log.debug("listing leftover sandboxes failed: %s", exc)
        return 0
    for container in containers:
        labels = container.labels or {}
        if owner_alive(labels):
            continue
        try:
            container.remove(force=True)
            removed += 1
        except Exception as exc:  # noqa: BLE001 - already gone, or being removed by someone else
            log.debug("could not remove leftover sandbox %s: %s", container.short_id, exc)
    _remove_leftover_networks(client)
    return removed


def _remove_leftover_networks(client: Any) -> None:
    try:
        networks = client.networks.list(filters={"label": f"{LABEL}=1"})
    except Exception as exc:  # noqa: BLE001 - clean-up must never stop a run
        log.debug("listing leftover networks failed: %s", exc)
        return
    for network in networks:
        if owner_alive(network.attrs.get("Labels") or {}):
            continue
        try:
            network.remove()  # its containers were leftovers too, removed above
        except Exception as exc:  # noqa: BLE001 - in use, or removed by someone else
            log.debug("could not remove leftover network %s: %s", network.name, exc)
