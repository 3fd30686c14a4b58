"""The multi-turn Harbor export under the REAL harbor release (its own venv, .ci/setup-peers):
harbor loads every task folder of the exported mt-analyst template; the task's verifier gives
every reference, negative and silent conversation exactly the reward Gauntlet's verification
gives, and the oracle's conversation (solution/solve.sh) the ceiling; the agent's tool command
prints the tool results Gauntlet's replay produced; harbor's own oracle trial in Docker scores
the reference conversation 1 and a negative 0. A package with a scripted user is refused with
the reason. Skips locally without the peer venv (or Docker); fails on CI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support.multiturn_peers import gauntlet_episodes, multiturn_cases
from support.peers import peer_python, pinned_version, run_probe
from support.services import need, sandbox_image_available
from test_interop_harbor_real import _harbor_oracle_run, _negative_copy, _with_local_image

from app.envpack.interop import export_harbor
from app.envpack.interop.harbor_export import folder_name, solve_script
from app.envpack.interop.harbor_multiturn import TRAJECTORY_FILE
from app.envpack.loader import load_envpack
from app.errors import UserError

PROBE = Path(__file__).with_name("peer_harbor_multiturn_probe.py")


@pytest.mark.peers
def test_real_harbor_loads_the_multiturn_export_and_grades_like_gauntlet(
    template, runtime, tmp_path
):
    python = peer_python("harbor")
    pack = load_envpack(template("mt-analyst")).pack
    out = tmp_path / "out"
    names = export_harbor(pack.root, out, runtime)
    cases = multiturn_cases(pack)
    gauntlet = gauntlet_episodes(pack, cases)
    request = {
        "folder": str(out),
        "cases": [{"task": folder_name(c["task_id"]), "turns": c["turns"]} for c in cases],
        "work": str(tmp_path / "work"),
    }
    result = run_probe(python, PROBE, request, tmp_path)

    assert result["version"] == pinned_version("harbor", "harbor")
    assert sorted(result["tasks"]) == sorted(names) == sorted(t.id for t in pack.tasks)
    for folder, task in result["tasks"].items():
        assert task["instruction"] == (out / folder / "instruction.md").read_text()
        assert (task["solve"], task["test"]) == ("solve.sh", "test.sh")
        assert task["metadata"]["gauntlet_task_id"] == folder
    rewards = [g["reward"] for g in gauntlet]
    assert result["rewards"] == rewards
    kinds = [c["kind"] for c in cases]
    assert {r for r, k in zip(rewards, kinds, strict=True) if k == "reference"} == {1.0}
    assert max(r for r, k in zip(rewards, kinds, strict=True) if k != "reference") == 0.0
    assert result["oracle"] == dict.fromkeys(names, 1.0)
    for case, graded in zip(cases, gauntlet, strict=True):
        if case["kind"] == "reference":
            replayed = [m["content"] for m in graded["messages"] if m["role"] == "tool"]
            assert result["tool_outputs"][folder_name(case["task_id"])] == replayed


def test_harbor_export_refuses_a_scripted_user(template, runtime, tmp_path):
    with pytest.raises(UserError, match="scripted user") as caught:
        export_harbor(template("mt-intake"), tmp_path / "out", runtime)
    assert "--to verifiers" in caught.value.hint
    assert not (tmp_path / "out").exists()


def test_real_harbor_oracle_trial_in_docker_grades_the_conversation(template, runtime, tmp_path):
    """harbor's own trial (`harbor run -a oracle`: build, the oracle writes the reference
    conversation, tests/test.sh replays and grades it) on the first mt-analyst task and on a
    copy whose solution is that task's first negative."""
    python = peer_python("harbor")
    need("the sandbox image", sandbox_image_available(), "run .ci/start-services")
    folder = _with_local_image(template("mt-analyst"))
    pack = load_envpack(folder).pack
    export_harbor(folder, tmp_path / "out", runtime)
    task = pack.tasks[0]
    run = tmp_path / "run"
    run.mkdir()
    exported = tmp_path / "out" / folder_name(task.id)
    shutil.copytree(exported, run / "analyst")
    negative = next(
        n for n in pack.negatives if n.task_id == task.id and n.turns[0].get("tool_calls")
    )
    solve = solve_script(json.dumps({"turns": negative.turns}), TRAJECTORY_FILE)
    _negative_copy(exported, run / "analyst--negative", solve)

    results = _harbor_oracle_run(python, run, tmp_path / "jobs")

    assert results == {"analyst": (1.0, None), "analyst--negative": (0.0, None)}
