"""Stage 3 for agentic packages runs the cheating agents: a sound package passes all three
stages through the CLI, and a stage that cannot run says so (GX332), never passing having
checked nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.agentic_packages import agentic_files
from support.envpack_packages import write_files
from support.services import need, sandbox_image_available

from app.findings import Stage
from app.funnel.pipeline import FunnelOptions, run_funnel
from app.funnel.report import StageStatus, Verdict

ROOT = Path(__file__).resolve().parents[2]


def test_stage_3_refuses_the_process_backend_and_says_why(tmp_path: Path) -> None:
    root = write_files(tmp_path / "pack", agentic_files())
    report = run_funnel(
        root, stages=(Stage.STRUCTURE, Stage.ATTACK), options=FunnelOptions(backend="process")
    )
    assert report.stage(Stage.STRUCTURE).status == StageStatus.PASS
    result = report.stage(Stage.ATTACK)
    assert result.status == StageStatus.ERROR
    assert "only in Docker" in result.details["reason"]
    assert [f.code for f in report.findings if f.stage == Stage.ATTACK] == ["GX332"]
    assert report.verdict == Verdict.ERROR


@pytest.mark.docker
def test_the_cli_runs_gates_and_cheating_agents_on_a_sound_package(tmp_path: Path) -> None:
    need("docker", sandbox_image_available(), "the sandbox image is not built")
    root = write_files(tmp_path / "pack", agentic_files())
    done = subprocess.run(
        [sys.executable, "-m", "app", "run", str(root), "--allow-package-dockerfile"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verify: pass" in done.stdout
    assert "attack: pass" in done.stdout
    assert "verdict: pass" in done.stdout
    assert "Traceback" not in done.stderr
