"""Stage 3 does not attack agentic tasks yet: it must say so, never pass having checked nothing
(a "verdict: pass" would tell an author an unattacked package is sound)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.agentic_packages import agentic_files
from support.envpack_packages import write_files
from support.services import need, sandbox_image_available

from app.findings import Stage
from app.funnel.pipeline import AGENTIC_NOT_YET, run_funnel
from app.funnel.report import StageStatus, Verdict

ROOT = Path(__file__).resolve().parents[2]


def test_stage_3_says_it_cannot_attack_an_agentic_package_yet(tmp_path: Path) -> None:
    root = write_files(tmp_path / "pack", agentic_files())
    report = run_funnel(root, stages=(Stage.STRUCTURE, Stage.ATTACK))
    assert report.stage(Stage.STRUCTURE).status == StageStatus.PASS
    result = report.stage(Stage.ATTACK)
    assert result.status == StageStatus.ERROR
    assert result.details["reason"] == AGENTIC_NOT_YET
    assert report.verdict == Verdict.ERROR


@pytest.mark.docker
def test_the_cli_runs_the_gates_then_says_why_stage_3_did_not_run(tmp_path: Path) -> None:
    need("docker", sandbox_image_available(), "the sandbox image is not built")
    root = write_files(tmp_path / "pack", agentic_files())
    done = subprocess.run(
        [sys.executable, "-m", "app", "run", str(root), "--allow-package-dockerfile"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode != 0, done.stdout
    assert "verify: pass" in done.stdout
    assert "attack: error" in done.stdout and "not in this version" in done.stdout
    assert "verdict: error" in done.stdout
    assert "Traceback" not in done.stderr
