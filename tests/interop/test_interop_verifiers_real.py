"""The verifiers export under the REAL verifiers release (.ci/peers/verifiers.txt), run in its
own venv (.ci/setup-peers; GAUNTLET_PEER_VERIFIERS_PYTHON): verifiers' loader finds the
exported taskset, and verifiers' own `Task.score` and `vf-validate` grade every reference 1.0
and every negative 0.0, as the funnel does. Skips locally without the peer venv; fails on CI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from support.interop_checks import errors_of
from support.interop_templates import HARBOR_TEMPLATES
from support.peers import cases_of, gauntlet_rewards, peer_python, pinned_version

from app.envpack.interop import export_verifiers, import_verifiers
from app.envpack.loader import load_envpack

pytestmark = pytest.mark.peers

PROBE = Path(__file__).with_name("peer_verifiers_probe.py")


def run_peer(python: Path, args: list[str], env_folder: Path, cwd: Path, stdin: str = ""):
    # The export is put on the path (as `pip install` would make it importable); the peer venv
    # itself stays untouched, so one cached venv serves every run.
    env = {**os.environ, "PYTHONPATH": str(env_folder), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [str(python), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize("name", HARBOR_TEMPLATES)
def test_real_verifiers_loads_the_export_and_scores_like_the_funnel(
    name, template, runtime, tmp_path
):
    python = peer_python("verifiers")
    pack = load_envpack(template(name)).pack
    out = tmp_path / "env"
    module = export_verifiers(pack.root, out, runtime)
    cases = cases_of(pack)
    stdout = run_peer(python, [str(PROBE), module], out, tmp_path, json.dumps({"cases": cases}))
    result = json.loads(stdout.strip().splitlines()[-1])

    assert result["version"] == pinned_version("verifiers", "verifiers")
    assert result["taskset"] == "GauntletTaskset"
    assert result["tasks"] == [t.id for t in pack.tasks]
    # Gauntlet's own grading of the same responses: references 1, negatives and "" 0
    low = pack.grader.reward_range[0]
    expected = [r if r is not None else low for r in gauntlet_rewards(pack, cases)]
    assert expected == [1.0] * len(pack.solutions) + [0.0] * (len(pack.negatives) + 1)
    for case, want, got in zip(cases, expected, result["scores"], strict=True):
        assert got == {"task_id": case["task_id"], "reward": want, "rewards": {"gauntlet": want}}
    # vf-validate's gold check: every task with a reference validates
    with_reference = {r.task_id for r in pack.solutions}
    assert result["gold"] == {t.id: (True if t.id in with_reference else None) for t in pack.tasks}

    assert result["judges"] == []

    back = tmp_path / "back"
    import_verifiers(out, back)
    assert errors_of(back) == []
    assert [t.record for t in load_envpack(back).pack.tasks] == [t.record for t in pack.tasks]


def test_real_verifiers_loads_a_judge_export_with_its_rubric_judge(template, runtime, tmp_path):
    python = peer_python("verifiers")
    pack = load_envpack(template("qa-judge")).pack
    out = tmp_path / "env"
    module = export_verifiers(pack.root, out, runtime)
    # scoring a judge needs a model: load and build the judge only, and no gold check
    stdout = run_peer(python, [str(PROBE), module], out, tmp_path, json.dumps({"cases": []}))
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["tasks"] == [t.id for t in pack.tasks]
    assert result["judges"] == ["RubricJudge"]
    assert set(result["gold"].values()) == {None}


def test_vf_validate_runs_the_gold_and_noop_checks_with_no_model(template, runtime, tmp_path):
    python = peer_python("verifiers")
    pack = load_envpack(template("code-tests")).pack
    out = tmp_path / "env"
    module = export_verifiers(pack.root, out, runtime)
    cli = python.parent / "vf-validate"
    args = [module, "--runtime.type", "subprocess", "-o", str(tmp_path / "runs")]
    run_peer(python, [str(cli), *args], out, tmp_path)
    (summary_file,) = (tmp_path / "runs").glob("*/summary.json")  # one run directory
    summary = json.loads(summary_file.read_text())
    n = len(pack.tasks)
    assert summary["total"] == n and summary["outcomes"]["valid"] == n, summary
    # gold: the references score 1; noop: an untouched rollout (no reply) does not pass
    assert summary["checks"]["gold"]["valid"] == n
    assert summary["checks"]["noop"]["valid"] == n
