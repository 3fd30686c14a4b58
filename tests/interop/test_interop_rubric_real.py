"""Rubric packages (grader.type = "rubric") exported to the REAL verifiers, harbor and inspect-ai
releases (.ci/peers/*.txt, each in its own venv): the qa-rubric template (all-pass), the same
package combined by weighted mean, and a code package with a rubric of code criteria load in
each, and every reference, negative and an empty reply gets the reward Gauntlet Studio's own
grading gives, with each criterion's score where the peer keeps one. A rubric with a judge
criterion loads in verifiers with its rubric judge plugged (scoring it needs a model), and is
refused by Harbor and Inspect.
One peer process per peer. Skips locally without the peer venvs; fails on CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from support.peers import cases_of, gauntlet_grading, peer_python, run_probe
from test_interop_verifiers_real import PROBE as VERIFIERS_PROBE

from app.envpack.interop import export_harbor, export_inspect, export_verifiers
from app.envpack.interop.harbor_export import folder_name
from app.envpack.loader import load_envpack
from app.errors import UserError

pytestmark = pytest.mark.peers

HERE = Path(__file__).parent
CODE_RUBRIC = HERE.parent / "attacks" / "rubric_corpus" / "code-eq-compare"
JUDGE_CRITERION = """
[[grader.criteria]]
name = "plain-language"
weight = 0.5
judge = "Is the answer line written so a pharmacy student understands it?"
choices = ["no", "partly", "yes"]
"""


@pytest.fixture
def rubric_packs(template, tmp_path):
    """name -> folder: qa-rubric (all-pass), its weighted-mean twin, the code rubric."""
    qa = template("qa-rubric")
    weighted = qa.parent / "qa-rubric-weighted"
    shutil.copytree(qa, weighted)
    manifest = weighted / "env.toml"
    text = manifest.read_text().replace('combine = "all-pass"', 'combine = "weighted-mean"')
    # a name of its own: exports of the same name would share a module in one peer process
    text = text.replace("example/pharmacology-short-answer", "example/pharmacology-weighted")
    manifest.write_text(text)
    code = tmp_path / "packs" / "code-rubric"
    shutil.copytree(CODE_RUBRIC, code)
    return {"qa-rubric": qa, "weighted": weighted, "code-rubric": code}


def _with_judge_criterion(folder, dest):
    shutil.copytree(folder, dest)
    manifest = dest / "env.toml"
    text = manifest.read_text().replace("pharmacology-weighted", "pharmacology-judged")
    manifest.write_text(text + JUDGE_CRITERION)
    return dest


def _expected(folder):
    pack = load_envpack(folder).pack
    cases = cases_of(pack)
    graded = gauntlet_grading(pack, cases)
    rewards = [reward for reward, _ in graded]
    # the comparison means something: references pass, negatives do not all pass
    assert set(rewards[: len(pack.solutions)]) == {1.0}
    assert min(rewards[len(pack.solutions) :]) < 1.0
    return pack, cases, graded


def test_real_verifiers_scores_rubric_exports_like_gauntlet(rubric_packs, runtime, tmp_path):
    python = peer_python("verifiers")
    modules, folders, expected = [], [], []
    for name, folder in rubric_packs.items():
        pack, cases, graded = _expected(folder)
        out = tmp_path / "env" / name
        modules.append({"module": export_verifiers(folder, out, runtime), "cases": cases})
        folders.append(str(out))
        expected.append((pack, graded))
    # and the weighted rubric with a judge criterion: loaded, its judge built, not scored
    judged = _with_judge_criterion(rubric_packs["weighted"], tmp_path / "packs" / "judged")
    out = tmp_path / "env" / "judged"
    modules.append({"module": export_verifiers(judged, out, runtime), "cases": []})
    folders.append(str(out))
    judge = json.loads((out / modules[-1]["module"] / "data" / "judge.json").read_text())
    # the judge's share of the reward: its weight over the total (0.6 + 0.2 + 0.2 + 0.5)
    assert judge["weight"] == pytest.approx(0.5 / 1.5)
    assert judge["criteria"][0]["choices"] == ["no", "partly", "yes"]
    # one peer process for every export (importing verifiers takes seconds)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(folders)}
    done = subprocess.run(
        [str(python), str(VERIFIERS_PROBE), "--many"],
        input=json.dumps({"modules": modules}),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**environment, "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    *results, judged_result = json.loads(done.stdout.splitlines()[-1])["results"]
    assert judged_result["judges"] == ["RubricJudge"]
    assert set(judged_result["gold"].values()) == {None}  # no model-free check with a judge
    for name, (pack, graded), result in zip(rubric_packs, expected, results, strict=True):
        assert result["tasks"] == [t.id for t in pack.tasks], name
        weighted = pack.grader.combine == "weighted-mean"
        for (reward, criteria), got in zip(graded, result["scores"], strict=True):
            assert got["reward"] == pytest.approx(reward, abs=1e-9), (name, got)
            if weighted:  # one reward per criterion, its score as Gauntlet's
                want = {f"criterion_{k}": v for k, v in criteria.items()}
                assert got["rewards"] == pytest.approx(want), (name, got)
            else:  # the combination as one reward
                assert got["rewards"] == {"gauntlet": reward}, (name, got)
        assert set(result["gold"].values()) == {True}, name
        assert result["judges"] == [], name


def test_real_harbor_grades_rubric_exports_like_gauntlet(rubric_packs, runtime, tmp_path):
    python = peer_python("harbor")
    sets, expected = [], []
    for name, folder in rubric_packs.items():
        _, cases, graded = _expected(folder)
        out = tmp_path / "out" / name
        export_harbor(folder, out, runtime)
        cases = [{"task": folder_name(c["task_id"]), **c} for c in cases]
        sets.append({"folder": str(out), "cases": cases})
        expected.append(graded)
    result = run_probe(python, HARBOR_PROBE, {"sets": sets, "work": str(tmp_path / "w")}, tmp_path)
    for name, graded, got in zip(rubric_packs, expected, result["sets"], strict=True):
        assert got["rewards"] == pytest.approx([r for r, _ in graded]), name
        assert set(got["oracle"].values()) == {1.0}, name
        for (_, criteria), files in zip(graded, got["reward_files"], strict=True):
            extras = {k: v for k, v in files.items() if k != "reward"}
            # a failed rubric (a criterion raised) has no criterion scores, as in Gauntlet
            assert extras == {f"criterion_{k}": v for k, v in criteria.items()}, name


def test_real_inspect_scores_rubric_exports_like_gauntlet(rubric_packs, runtime, tmp_path):
    python = peer_python("inspect")
    exports, expected = [], []
    for name, folder in rubric_packs.items():
        _, cases, graded = _expected(folder)
        task = export_inspect(folder, tmp_path / "out" / name, runtime)
        exports.append({"folder": str(tmp_path / "out" / name), "task": task, "cases": cases})
        expected.append(graded)
    request = {"exports": exports, "log_dir": str(tmp_path / "logs")}
    result = run_probe(python, INSPECT_PROBE, request, tmp_path)
    for name, graded, got in zip(rubric_packs, expected, result["exports"], strict=True):
        assert got["errors"] == [], name
        for (reward, criteria), score in zip(graded, got["scores"], strict=True):
            assert score["reward"] == pytest.approx(reward), (name, score)
            if all(v is not None for v in criteria.values()):
                assert score["metadata"]["criteria"] == criteria, (name, score)


HARBOR_PROBE = HERE / "peer_harbor_probe.py"
INSPECT_PROBE = HERE / "peer_inspect_probe.py"


@pytest.mark.parametrize("target", ["harbor", "inspect"])
def test_a_rubric_with_judge_criteria_is_refused_offline(target, template, runtime, tmp_path):
    folder = template("qa-rubric")
    with (folder / "env.toml").open("a") as manifest:
        manifest.write(JUDGE_CRITERION)
    export = export_harbor if target == "harbor" else export_inspect
    with pytest.raises(UserError, match="plain-language") as caught:
        export(folder, tmp_path / "out", runtime)
    assert "--to verifiers" in caught.value.hint
    assert not (tmp_path / "out").exists()


def test_verifiers_refuses_judge_criteria_it_cannot_combine(template, runtime, tmp_path):
    folder = template("qa-rubric")  # all-pass: a judge's verdict is only added to the reward
    with (folder / "env.toml").open("a") as manifest:
        manifest.write(JUDGE_CRITERION)
    with pytest.raises(UserError, match='combines them with "all-pass"') as caught:
        export_verifiers(folder, tmp_path / "out", runtime)
    assert "weighted-mean" in caught.value.hint
    assert not (tmp_path / "out").exists()
