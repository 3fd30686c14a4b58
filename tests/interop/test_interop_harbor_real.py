"""The Harbor export under the REAL harbor release (.ci/peers/harbor.txt, Python >= 3.12), run in
its own venv (.ci/setup-peers; GAUNTLET_PEER_HARBOR_PYTHON). The first test takes every template
in one peer process: harbor's dataset loader finds each exported task folder and its `Task`
loads it; for qa and code templates every reference, negative and the oracle's answer
(solution/solve.sh) goes through the task's verifier script and harbor's own reward parsing,
and the rewards equal Gauntlet Studio's own grading. The second runs harbor's own trial in
Docker (`harbor run -a oracle`) on the first task of every template and on one negative.
Skips locally without the peer venv (or Docker); fails on CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import tomlkit
from support.interop_templates import HARBOR_TEMPLATES
from support.peers import cases_of, gauntlet_rewards, peer_python, pinned_version, run_probe
from support.services import need, sandbox_image_available

from app.envpack.interop import export_harbor
from app.envpack.interop.harbor_export import ANSWER_FILE, CODE_FILE, folder_name, solve_script
from app.envpack.loader import load_envpack
from app.sandbox.containers import owner_labels
from app.sandbox.images import default_image

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


def _with_local_image(folder: Path) -> Path:
    """The package with the local sandbox image as its base (no registry here or on CI)."""
    manifest = tomlkit.parse((folder / "env.toml").read_text())
    manifest.setdefault("sandbox", tomlkit.table())["image"] = default_image()
    (folder / "env.toml").write_text(tomlkit.dumps(manifest))
    return folder


def _negative_copy(task_folder: Path, dest: Path, solve: str) -> None:
    """The task with `solve` as its solution: harbor's oracle then plays that negative."""
    shutil.copytree(task_folder, dest)
    (dest / "solution" / "solve.sh").write_text(solve)
    config = tomlkit.parse((dest / "task.toml").read_text())
    config["task"]["name"] = f"{config['task']['name']}-negative"  # one name per task
    (dest / "task.toml").write_text(tomlkit.dumps(config))


def _run_set(pack, exported: Path, run: Path) -> dict[str, float]:
    """Copy the export's first task into `run` (harbor's oracle plays its reference) and a copy
    whose solution is its first negative; {folder: the reward Gauntlet gives}. One task per
    template keeps the Docker run short: every reference and negative goes through the same
    verifier in the test above."""
    prefix = pack.manifest.package.name.partition("/")[2]
    if pack.agentic_tasks:
        expected = {}
        for task in pack.agentic_tasks[:1]:
            dest = f"{prefix}--{task.id}"
            shutil.copytree(exported / task.id, run / dest)
            expected[dest] = 1.0
            for script in sorted((exported / task.id / "negatives").glob("*.sh"))[:1]:
                # the agentic stage 2 gate: a negative scores the floor
                _negative_copy(exported / task.id, run / f"{dest}--negative", script.read_text())
                expected[f"{dest}--negative"] = 0.0
        return expected
    answer_file = CODE_FILE if pack.manifest.kind == "code" else ANSWER_FILE
    cases, dests = [], []
    for task in pack.tasks[:1]:
        name = folder_name(task.id)
        dest = f"{prefix}--{name}"
        shutil.copytree(exported / name, run / dest)
        cases.append({"task_id": task.id, "response": pack.references_for(task.id)[0].response})
        dests.append(dest)
        for negative in [n for n in pack.negatives if n.task_id == task.id][:1]:
            solve = solve_script(negative.response, answer_file)
            _negative_copy(exported / name, run / f"{dest}--negative", solve)
            cases.append({"task_id": task.id, "response": negative.response})
            dests.append(f"{dest}--negative")
    low = pack.grader.reward_range[0]
    rewards = gauntlet_rewards(pack, cases)
    return {d: (r if r is not None else low) for d, r in zip(dests, rewards, strict=True)}


def _harbor_oracle_run(python: Path, run: Path, jobs: Path) -> dict[str, tuple]:
    """`harbor run -a oracle` over `run` in Docker; {task folder: (reward, exception)}."""
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).parent),  # peer_harbor_env
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # harbor imports litellm: no price download
        "HARBOR_TELEMETRY": "0",  # harbor reports each run (PostHog) unless told not to
        "GAUNTLET_PEER_DOCKER_LABELS": json.dumps(owner_labels()),
    }
    command = [str(python.parent / "harbor"), "run", "-p", str(run), "-a", "oracle"]
    command += ["-e", "peer_harbor_env:DockerCli", "-o", str(jobs), "-n", "2", "-q", "-y"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    results = {}
    for path in jobs.glob("*/*/result.json"):
        trial = json.loads(path.read_text())
        verifier = trial["verifier_result"] or {}
        reward = verifier.get("rewards", {}).get("reward")
        results[Path(trial["config"]["task"]["path"]).name] = (reward, trial["exception_info"])
    return results


def test_real_harbor_oracle_and_verifier_run_in_docker_and_agree(template, runtime, tmp_path):
    """harbor's own trial (build, start, the oracle agent, the verifier, the reward files) on
    a plain-docker environment (tests/interop/peer_harbor_env.py), for every template."""
    python = peer_python("harbor")
    need("the sandbox image", sandbox_image_available(), "run .ci/start-services")
    run = tmp_path / "run"
    run.mkdir()
    expected: dict[str, float] = {}
    for name in (*HARBOR_TEMPLATES, *AGENTIC_TEMPLATES):
        folder = _with_local_image(template(name))
        export_harbor(folder, tmp_path / "out" / name, runtime)
        expected |= _run_set(load_envpack(folder).pack, tmp_path / "out" / name, run)

    results = _harbor_oracle_run(python, run, tmp_path / "jobs")

    assert {k: exception for k, (_, exception) in results.items()} == dict.fromkeys(expected)
    assert {k: reward for k, (reward, _) in results.items()} == expected
    references = {k: v for k, v in expected.items() if not k.endswith("--negative")}
    assert set(references.values()) == {1.0} and len(references) < len(expected)
    assert max(v for k, v in expected.items() if k.endswith("--negative")) < 1.0
