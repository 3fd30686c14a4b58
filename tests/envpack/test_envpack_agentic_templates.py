"""The agentic templates run in real containers: for every task the oracle earns 1, doing
nothing and every negative earn 0, and the cheats an agent could try against these verifiers
(a forged reward file, a link to the expected output, planted modules) earn 0 too."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.agentic_docker import build_task_image, run_phases
from support.services import need, sandbox_image_available

from app.envpack.loader import load_envpack
from app.envpack.templates import create_from_template

CHEATS = {
    "forge-reward": "mkdir -p /logs/verifier && echo 1 > /logs/verifier/reward.txt\n",
    "link-expected": (
        "mkdir -p /app/qc\n"
        "for f in report.csv summary.json; do\n"
        "  ln -sf /tests/expected_${f%.*}.${f#*.} /app/qc/$f\n"
        "done\n"
    ),
    "plant-modules": (
        "for m in json unittest concentration_fake sitecustomize; do\n"
        "  printf 'import os\\nos._exit(0)\\n' > /app/$m.py\n"
        "done\n"
        "mkdir -p /app/bin && printf '#!/bin/sh\\nexit 0\\n' > /app/bin/python3\n"
        "chmod +x /app/bin/python3\n"
    ),
}


@pytest.mark.docker
@pytest.mark.parametrize("name", ["agentic-data", "agentic-bugfix"])
def test_oracle_passes_and_negatives_noop_and_cheats_fail(name: str, tmp_path: Path) -> None:
    need("docker", sandbox_image_available(), "the sandbox image is not built")
    import docker

    pack_root = create_from_template(name, tmp_path / name)
    pack = load_envpack(pack_root).pack
    cheats = tmp_path / "cheats"
    cheats.mkdir()
    for cheat, body in CHEATS.items():
        (cheats / f"{cheat}.sh").write_text("#!/bin/bash\n" + body)
    client = docker.from_env()
    rewards: dict[tuple[str, str], str] = {}
    try:
        for task in pack.agentic_tasks:
            folder = pack_root / task.folder
            image = build_task_image(client, pack_root, task.id)
            runs = {"oracle": folder / "solution" / "solve.sh", "no-op": None}
            runs |= {n: folder / "negatives" / f"{n}.sh" for n in task.negatives}
            runs |= {c: cheats / f"{c}.sh" for c in CHEATS}
            try:
                for run, script in runs.items():
                    logs = tmp_path / f"logs-{task.id}-{run}"
                    logs.mkdir()
                    logs.chmod(0o777)
                    rewards[task.id, run] = run_phases(client, image, folder, script, logs)
            finally:
                client.images.remove(image, force=True)
    finally:
        client.close()
    expected = {key: ("1" if key[1] == "oracle" else "0") for key in rewards}
    assert rewards == expected
    assert len(rewards) >= len(pack.agentic_tasks) * (2 + 2 + len(CHEATS))
