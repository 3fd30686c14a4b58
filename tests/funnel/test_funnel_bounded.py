"""A grader that never answers, or crashes on every call, stops the stage early with one clear
finding (GX214) in the real Docker sandbox, through the CLI as an author runs it. The
timeout_s = 600 case of the never-answering grader runs on a simulated clock in
tests/sandbox/test_sandbox_guard.py; a crash needs no waiting, so it runs here for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from support.bounded_packages import CRASHES, NEVER_ANSWERS, write_package
from support.services import docker_available, need, sandbox_image_available

pytestmark = pytest.mark.docker


@pytest.fixture(autouse=True)
def _docker():
    need("docker", docker_available(), "no Docker engine reachable (start dockerd)")
    need("sandbox image", sandbox_image_available(), "gauntlet sandbox image --from-debian")


def _gauntlet(*args: str) -> tuple[int, dict]:
    done = subprocess.run(
        [sys.executable, "-m", "app", *args, "--backend", "docker", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ),
    )
    return done.returncode, json.loads(done.stdout)


def _only_finding(report: dict, stage: str) -> dict:
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert [f["code"] for f in errors] == ["GX214"], errors
    (finding,) = errors
    assert finding["stage"] == stage and "does not answer" in finding["message"]
    assert finding["file"] == "env.toml"
    return finding


@pytest.mark.parametrize(
    ("grader", "timeout_s"),
    [(NEVER_ANSWERS, 10), (CRASHES, 10), (CRASHES, 600)],
    ids=["never-answers-10", "crashes-10", "crashes-600"],
)
def test_verify_stops_early_with_one_finding(tmp_path, grader, timeout_s):
    package = write_package(tmp_path / "pkg", grader, timeout_s=timeout_s, tasks=3)
    code, report = _gauntlet("verify", str(package))
    assert code == 1 and report["verdict"] == "fail"
    finding = _only_finding(report, "verify")
    verify = next(s for s in report["stages"] if s["name"] == "verify")
    budget = verify["details"]["budget"]
    assert budget["stopped"] == "unanswered" and budget["timeout_s"] == timeout_s
    assert budget["budget_s"] > 0 and budget["used_s"] <= budget["budget_s"]
    # Stopped after K gradings in a row: the second run (flakiness) never started.
    assert verify["details"]["flakiness_checked"] is False
    # K in a row, plus those already under way beside them when the stage decided to stop.
    shown = len(finding["evidence"]["gradings"])
    stop_after = budget["stop_after_unanswered"]
    assert stop_after <= shown < stop_after + budget["parallel"], (shown, budget)
    if grader is NEVER_ANSWERS:
        assert budget["skipped"] > 0  # stopped inside the first run
    # (quick crashes are re-run alone first, so the first run finishes; the second never starts)
    kinds = {g["error"] for g in finding["evidence"]["gradings"]}
    assert kinds == ({"timeout"} if grader is NEVER_ANSWERS else {"crash"})


def test_attack_stage_stops_early_with_one_finding(tmp_path):
    package = write_package(tmp_path / "pkg", CRASHES, timeout_s=600, tasks=3)
    code, report = _gauntlet("attack", str(package))
    assert code == 1
    _only_finding(report, "attack")
    attack = next(s for s in report["stages"] if s["name"] == "attack")
    assert attack["details"]["budget"]["stopped"] == "unanswered"
