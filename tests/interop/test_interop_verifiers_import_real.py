"""Importing foreign verifiers environments (tests/interop/foreign_verifiers/, written as a
verifiers user would, not by our exporter) as rubric packages: the import passes `gauntlet
check`, and Gauntlet's own grading of a set of replies gives what verifiers gives. For the
current API the comparison is with the REAL verifiers 0.4 (its peer venv: the environment's
own load_environment() and Task.score); verifiers 0.4 no longer runs the classic API, so the
classic environment is compared with the classic Rubric's rule written out (the weighted sum
of its reward functions). verifiers adds weighted rewards up and Gauntlet takes the weighted
mean: verifiers' reward is Gauntlet's times the total weight."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from support.interop_checks import errors_of
from support.peers import gauntlet_grading, peer_python

from app.envpack.interop import export_harbor, export_verifiers, import_harbor, import_verifiers
from app.envpack.loader import load_envpack
from app.errors import UserError

FOREIGN = Path(__file__).parent / "foreign_verifiers"
PROBE = Path(__file__).with_name("peer_verifiers_foreign_probe.py")

# (environment, total weight, [(task index, reply)]): right, wrong, badly formatted, empty
CURRENT = {
    "dose_check": (
        1.0,
        [(0, "Dose: 500 mg"), (1, "Dose: 200 mg"), (2, "1000 mg"), (2, "Dose: 1000 mg"), (0, "")],
    ),
    "unit_answers": (
        3.0,
        [(0, "1050 mg"), (0, "1051 mg"), (0, "1050 g"), (1, "2500"), (1, "2.5 L"), (1, "")],
    ),
}


def _import(name: str, tmp_path: Path):
    out = tmp_path / "packs" / name
    import_verifiers(FOREIGN / name, out)
    assert errors_of(out) == []
    return load_envpack(out).pack


def _cases(pack, replies):
    return [{"task_id": pack.tasks[i].id, "response": reply} for i, reply in replies]


@pytest.mark.peers
def test_current_api_environments_grade_like_the_real_verifiers(tmp_path):
    python = peer_python("verifiers")
    request, expected = [], []
    for name, (total, replies) in CURRENT.items():
        pack = _import(name, tmp_path)
        assert pack.grader.is_rubric and len(pack.grader.criteria) == 2
        expected.append((total, gauntlet_grading(pack, _cases(pack, replies))))
        cases = [{"index": i, "response": reply} for i, reply in replies]
        request.append({"module": name, "cases": cases})
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(FOREIGN / name) for name in CURRENT),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        [str(python), str(PROBE)],
        input=json.dumps({"modules": request}),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.splitlines()[-1])["results"]
    for name, (total, graded), got in zip(CURRENT, expected, results, strict=True):
        rewards = [reward for reward, _ in graded]
        assert max(rewards) == 1.0 and min(rewards) == 0.0 and len(set(rewards)) > 2, name
        for (reward, criteria), real in zip(graded, got["rewards"], strict=True):
            assert real["reward"] == pytest.approx(reward * total), (name, real, criteria)
            assert real["rewards"] == criteria, name  # each reward is its criterion's score


def test_a_classic_environment_grades_like_its_weighted_rewards(tmp_path):
    pack = _import("capitals_classic", tmp_path)
    weights = {c.name: c.weight for c in pack.grader.criteria}
    assert weights == {"exact_capital": 0.8, "short_reply": 0.2}
    replies = [(0, "Canberra"), (0, "Sydney"), (1, "It is Ottawa, of course."), (1, "ottawa ")]
    # the classic Rubric's reward: 0.8 * exact_capital + 0.2 * short_reply
    classic = [1.0, 0.2, 0.0, 1.0]
    graded = gauntlet_grading(pack, _cases(pack, replies))
    assert [reward * sum(weights.values()) for reward, _ in graded] == pytest.approx(classic)
    # the references are the dataset's answers, and they pass
    refs = [{"task_id": r.task_id, "response": r.response} for r in pack.solutions]
    assert [reward for reward, _ in gauntlet_grading(pack, refs)] == [1.0, 1.0]


def test_an_imported_rubric_keeps_the_reward_code_and_says_how_it_maps(tmp_path):
    pack = _import("unit_answers", tmp_path)
    grader = (pack.root / "grader.py").read_text()
    assert "def number_and_unit(text):" in grader and "import verifiers" not in grader
    assert [c.function for c in pack.grader.criteria] == [
        "criterion_value",
        "criterion_unit_named",
    ]
    readme = (pack.root / "README.md").read_text()
    assert "total weight (3)" in readme
    # the task data verifiers' rewards read travels with each task, defaults included
    assert pack.tasks[0].record["vf_data"]["tolerance"] == 0.01


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("import verifiers.v1 as vf\n\ndef helper():\n    pass\n", "no load_environment"),
        (
            "import verifiers.v1 as vf\nclass T(vf.Task):\n    @classmethod\n"
            "    def toolsets(cls, config):\n        return []\n"
            "    @vf.reward\n    def r(self, trace):\n        return 1.0\n"
            "ROWS = [{'question': 'q', 'answer': 'a'}]\ndef load_environment():\n    pass\n",
            "tools or its own harness",
        ),
    ],
)
def test_what_is_not_a_single_turn_environment_is_refused(source, reason, tmp_path):
    (tmp_path / "env.py").write_text(source)
    with pytest.raises(UserError, match="env.py cannot be converted") as caught:
        import_verifiers(tmp_path / "env.py", tmp_path / "pack")
    assert reason in caught.value.message
    assert not (tmp_path / "pack").exists()


@pytest.mark.parametrize("target", ["verifiers", "harbor"])
def test_an_exported_rubric_comes_back_whole(target, template, runtime, tmp_path):
    folder = template("qa-rubric")
    original = load_envpack(folder).pack
    if target == "verifiers":
        export_verifiers(folder, tmp_path / "out", runtime)
        import_verifiers(tmp_path / "out", tmp_path / "back")
    else:
        export_harbor(folder, tmp_path / "out", runtime)
        import_harbor(tmp_path / "out", tmp_path / "back")
    assert errors_of(tmp_path / "back") == []
    again = load_envpack(tmp_path / "back").pack
    assert again.grader.to_dict() == original.grader.to_dict()
    assert (tmp_path / "back" / "grader.py").read_text() == (folder / "grader.py").read_text()
