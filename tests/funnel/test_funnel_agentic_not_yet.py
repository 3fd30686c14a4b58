"""Stages 2 and 3 do not run agentic tasks yet: they must say so, never pass having checked
nothing (a "verdict: pass" here would tell an author an unverified package is sound)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.agentic_packages import agentic_files
from support.envpack_packages import write_files

from app.findings import Stage
from app.funnel.pipeline import AGENTIC_NOT_YET, run_funnel
from app.funnel.report import StageStatus, Verdict

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stage", [Stage.VERIFY, Stage.ATTACK], ids=str)
def test_an_agentic_package_is_not_passed_by_stages_that_cannot_run_it(
    tmp_path: Path, stage: Stage
) -> None:
    root = write_files(tmp_path / "pack", agentic_files())
    report = run_funnel(root, stages=(Stage.STRUCTURE, stage))
    assert report.stage(Stage.STRUCTURE).status == StageStatus.PASS
    result = report.stage(stage)
    assert result.status == StageStatus.ERROR
    assert result.details["reason"] == AGENTIC_NOT_YET
    assert report.verdict == Verdict.ERROR


def test_the_cli_says_why_and_exits_non_zero(tmp_path: Path) -> None:
    root = write_files(tmp_path / "pack", agentic_files())
    done = subprocess.run(
        [sys.executable, "-m", "app", "verify", str(root)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode != 0
    assert "not in this version" in done.stdout and "verdict: error" in done.stdout
    assert "Traceback" not in done.stderr
