"""A rubric for an agentic package (DESIGN §4.3, every kind): tests/test.sh writes one score per
criterion to reward.json; the trusted side checks and combines them, stage 2 reports each
criterion and names the one the oracle fails (GX215), and stage 1 refuses code or judge
criteria there (GX183)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.agentic_packages import TASK, agentic_files, put, sub
from support.envpack_packages import write_files
from support.services import need, sandbox_image_available

from app.envpack.checks import run_checks
from app.envpack.loader import load_envpack
from app.envpack.model import CriterionSpec, GraderSpec
from app.findings import Stage
from app.funnel.pipeline import FunnelOptions, run_funnel
from app.sandbox.agentic_rubric import rubric_reward

RUBRIC = """[grader]
type = "rubric"
combine = "weighted-mean"
pass_threshold = 1.0

[[grader.criteria]]
name = "total"
weight = 0.75

[[grader.criteria]]
name = "tidy"
weight = 0.25
"""
TEST_SH = """#!/bin/bash
mkdir -p /logs/verifier
total=0; tidy=0
[ "$(cat /app/total.txt 2>/dev/null)" = "12" ] && total=1
[ "$(ls /app | wc -l)" -le 2 ] && tidy=1
[ -e /app/total.txt ] || tidy=0
printf '{"total": %s, "tidy": %s}' "$total" "$tidy" > /logs/verifier/reward.json
"""
SPEC = GraderSpec(
    type="rubric", criteria=[CriterionSpec("total", 0.75), CriterionSpec("tidy", 0.25)]
)


def rubric_files():
    files = agentic_files()
    sub("env.toml", '[grader]\ntype = "verifier"\n', RUBRIC)(files)
    put(f"{TASK}/tests/test.sh", TEST_SH)(files)
    return files


def test_reward_json_scores_are_checked_and_combined():
    reward, problem, criteria = rubric_reward(SPEC, {"reward.json": b'{"total": 1, "tidy": 0}'})
    assert (reward, problem) == (0.75, "")
    assert criteria["tidy"] == {"score": 0.0, "error": None, "detail": ""}
    reward, problem, criteria = rubric_reward(SPEC, {"reward.json": b'{"total": 1}'})
    assert reward is None and 'criterion "tidy"' in problem and 'no "tidy"' in problem
    reward, problem, _ = rubric_reward(SPEC, {"reward.json": b'{"total": 2, "tidy": 1}'})
    assert reward is None and "outside reward_range" in problem
    reward, problem, _ = rubric_reward(SPEC, {"reward.txt": b"1"})
    assert reward is None and "reward.json" in problem


def test_stage_1_accepts_key_criteria_and_refuses_code_or_judge_ones(tmp_path: Path):
    root = write_files(tmp_path / "ok", rubric_files())
    result = load_envpack(root)
    assert [f.code for f in [*result.findings, *run_checks(result)] if f.is_error] == []
    files = rubric_files()
    sub("env.toml", 'name = "tidy"\n', 'name = "tidy"\nfunction = "tidy"\n')(files)
    result = load_envpack(write_files(tmp_path / "bad", files))
    found = [f for f in run_checks(result) if f.code == "GX183"]
    assert found and '"tidy"' in found[0].message


@pytest.mark.docker
def test_stage_2_reports_each_criterion_and_names_the_one_the_oracle_fails(tmp_path: Path):
    need("docker", sandbox_image_available(), "the sandbox image is not built")
    files = rubric_files()
    # the oracle leaves a scratch file behind: right total, untidy
    put(f"{TASK}/solution/solve.sh", "#!/bin/bash\necho 12 > /app/total.txt\ntouch /app/x\n")(files)
    sub("env.toml", "pass_threshold = 1.0", "pass_threshold = 0.7")(files)
    root = write_files(tmp_path / "pack", files)
    report = run_funnel(root, (Stage.STRUCTURE, Stage.VERIFY), FunnelOptions(own_package=True))
    verify = report.stage(Stage.VERIFY)
    criteria = verify.details["criteria"]["sum-b"]
    assert criteria["oracle"] == {"total": 1.0, "tidy": 0.0}
    assert criteria["noop"] == {"total": 0.0, "tidy": 0.0}
    assert verify.details["task_rewards"]["sum-b"]["oracle"] == 0.75
    gx215 = [f for f in report.findings if f.code == "GX215"]
    assert gx215 and 'criterion "tidy" scores 0' in gx215[0].message
