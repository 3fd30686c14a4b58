"""The Harbor export under the REAL harbor release (.ci/peers/harbor.txt, Python >= 3.12), run in
its own venv (.ci/setup-peers; GAUNTLET_PEER_HARBOR_PYTHON). One peer process takes every
template: harbor's dataset loader finds each exported task folder and its `Task` loads it; for
qa and code templates every reference, negative and the oracle's answer (solution/solve.sh)
goes through the task's verifier script and harbor's own reward parsing, and the rewards equal
Gauntlet Studio's own grading. No container is started (harbor's docker environment needs the
compose plugin and registry images; see docs/interop.md). Skips locally; fails on CI."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.interop_templates import HARBOR_TEMPLATES
from support.peers import cases_of, gauntlet_rewards, peer_python, pinned_version, run_probe

from app.envpack.interop import export_harbor
from app.envpack.interop.harbor_export import folder_name
from app.envpack.loader import load_envpack

pytestmark = pytest.mark.peers

PROBE = Path(__file__).with_name("peer_harbor_probe.py")
AGENTIC_TEMPLATES = ("agentic-bugfix", "agentic-data")


def _task_names(pack) -> list[str]:
    info = pack.manifest.package
    ids = [t.id for t in pack.agentic_tasks] if pack.agentic_tasks else [t.id for t in pack.tasks]
    return [f"{info.name}.{task_id}" for task_id in ids]


def test_real_harbor_loads_every_template_and_grades_like_gauntlet(template, runtime, tmp_path):
    python = peer_python("harbor")
    sets, packs, expected = [], [], []
    for name in (*HARBOR_TEMPLATES, *AGENTIC_TEMPLATES):
        pack = load_envpack(template(name)).pack
        out = tmp_path / "out" / name
        export_harbor(pack.root, out, runtime)
        cases = [] if pack.agentic_tasks else cases_of(pack)
        low = pack.grader.reward_range[0] if not pack.agentic_tasks else 0.0
        rewards = [r if r is not None else low for r in gauntlet_rewards(pack, cases)]
        expected.append(rewards)
        packs.append(pack)
        sets.append(
            {
                "folder": str(out),
                "cases": [{"task": folder_name(c["task_id"]), **c} for c in cases],
            }
        )
    result = run_probe(python, PROBE, {"sets": sets, "work": str(tmp_path / "work")}, tmp_path)

    assert result["version"] == pinned_version("harbor", "harbor")
    for pack, spec, rewards, got in zip(packs, sets, expected, result["sets"], strict=True):
        where = pack.manifest.package.name
        loaded = got["tasks"]
        assert sorted(t["name"] for t in loaded.values()) == sorted(_task_names(pack)), where
        for folder, task in loaded.items():
            instruction = (Path(spec["folder"]) / folder / "instruction.md").read_text()
            assert task["instruction"] == instruction, (where, folder)
            assert (task["solve"], task["test"], task["dockerfile"]) == (
                "solve.sh",
                "test.sh",
                True,
            )
            assert task["metadata"]["gauntlet_package"] == where
            assert task["verifier_timeout"] > 0 and task["agent_timeout"] > 0
        assert got["rewards"] == rewards, where
        if pack.agentic_tasks:
            continue
        n_refs = len(pack.solutions)
        assert set(rewards[:n_refs]) == {1.0} and max(rewards[n_refs:]) < 1.0, where
        # harbor's oracle writes solve.sh's answer: every task's verifier gives it the ceiling
        assert got["oracle"] == {folder_name(t.id): 1.0 for t in pack.tasks}, where
