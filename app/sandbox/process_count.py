"""The process-count limit of the process backend (RLIMIT_NPROC), which counts per user.

The kernel counts every process of the runner's user against RLIMIT_NPROC, not just the
sandbox's. So the limit is the processes that user already has plus a budget for the batch:
a fork bomb stops after the budget instead of filling the machine's process table. Inside
bubblewrap's own user namespace (Linux 5.14 and later count per namespace) the sandbox starts
from zero, so the budget alone is the limit.
"""

from __future__ import annotations

import os
import platform
import subprocess

# Processes a whole batch may add (the runner, its gradings and whatever they start).
PROCESS_BUDGET = 256


def process_limit(uid: int, *, own_user_namespace: bool) -> int | None:
    """RLIMIT_NPROC for a runner counted as `uid`, or None when the count cannot be known."""
    if own_user_namespace and _kernel_counts_per_namespace():
        return PROCESS_BUDGET
    already = processes_of(uid)
    return None if already is None else already + PROCESS_BUDGET


def processes_of(uid: int) -> int | None:
    """How many processes have real user id `uid` now (None: cannot tell on this system)."""
    if os.path.isdir("/proc/self"):
        count = 0
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/status", encoding="ascii", errors="replace") as handle:
                    for line in handle:
                        if line.startswith("Uid:"):
                            count += int(line.split()[1]) == uid
                            break
            except (OSError, ValueError, IndexError):
                continue  # it ended meanwhile
        return count
    try:  # macOS: no /proc
        out = subprocess.run(
            ["ps", "-A", "-o", "ruid="], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return sum(1 for word in out.split() if word.isdigit() and int(word) == uid)


def _kernel_counts_per_namespace() -> bool:
    if platform.system() != "Linux":
        return False
    try:
        major, minor = (int(p) for p in platform.release().split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= (5, 14)
