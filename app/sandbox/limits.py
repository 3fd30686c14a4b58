"""The resource limits of one sandbox, from the package's manifest (its `timeout_s`, `cpus`
and `memory_mb`) and the gradings it runs side by side."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from app.envpack.model import EnvPack

OUTPUT_CAP_BYTES = 1 << 20


@dataclass(slots=True)
class SandboxLimits:
    timeout_s: float
    memory_mb: int
    cpus: float
    jobs: int
    processes: int | None = None  # RLIMIT_NPROC, where no pids cgroup limits the sandbox

    def runner_limits(self) -> dict[str, Any]:
        limits = {
            "output_bytes": OUTPUT_CAP_BYTES,
            "file_bytes": 64 << 20,
            "open_files": 256,
            "cpu_s": int(math.ceil(self.timeout_s)) + 2,
            "address_space_bytes": (self.memory_mb + 768) << 20,
        }
        if self.processes is not None:
            limits["processes"] = self.processes
        return limits


def limits_for(pack: EnvPack, jobs: int | None) -> SandboxLimits:
    grader, sandbox = pack.manifest.grader, pack.manifest.sandbox
    timeout = float(grader.timeout_s) if grader.timeout_s and grader.timeout_s > 0 else 10.0
    cpus = float(sandbox.cpus) if sandbox.cpus and sandbox.cpus > 0 else 1.0
    memory = int(sandbox.memory_mb) if sandbox.memory_mb and sandbox.memory_mb > 0 else 512
    if jobs is None or jobs < 1:
        # Gradings mostly wait (start-up, I/O, sleeps); two per CPU keeps the fork server busy.
        jobs = max(2, min(8, int(math.ceil(cpus * 2))))
    return SandboxLimits(timeout_s=timeout, memory_mb=memory, cpus=cpus, jobs=int(jobs))
