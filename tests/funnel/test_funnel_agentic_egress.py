"""The agent phase's network allowlist in the funnel: stage 2 runs the package's phases with the
manifest's allowlist (through Docker's own `bridge`, as in production) and says what it blocked
when the oracle fails; stage 3 shows a cheating agent's blocked requests as evidence."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.agentic_packages import TASK, agentic_files, put, sub
from support.envpack_packages import write_files
from support.services import need, sandbox_image_available

from app.attacks.cheating_agents import AGENTS
from app.envpack.loader import load_envpack
from app.finding_codes import FindingSink
from app.findings import Stage
from app.funnel.agentic_attack import CheatResult, TaskAttack, judge_task
from app.funnel.agentic_verify import phase_limits
from app.funnel.pipeline import FunnelOptions, run_funnel
from app.sandbox.agentic_run import Episode

ALLOWLIST = sub("env.toml", 'network = "none"', 'network = "allowlist"\nhosts = ["pypi.org"]')
# data.example.org is not listed: the proxy refuses it before any name is resolved, so this
# needs no internet
FETCHING_ORACLE = """#!/bin/bash
python3 -c "import urllib.request; urllib.request.urlopen('http://data.example.org/b.txt')" \
  || echo "fetch failed"
"""
DENIED = {
    "method": "CONNECT",
    "host": "evil.example",
    "port": 443,
    "allowed": False,
    "status": 403,
    "reason": "evil.example is not on the allowlist",
}


def _pack(tmp_path: Path, *changes):
    files = agentic_files()
    for change in changes:
        change(files)
    return write_files(tmp_path / "pack", files)


def test_the_manifest_allowlist_reaches_the_phase_limits(tmp_path: Path) -> None:
    offline = load_envpack(_pack(tmp_path / "a")).pack
    online = load_envpack(_pack(tmp_path / "b", ALLOWLIST)).pack
    assert offline is not None and online is not None
    assert phase_limits(offline).egress is None
    policy = phase_limits(online).egress
    assert policy is not None and policy.hosts == ("pypi.org",) and policy.upstream == "bridge"


@pytest.mark.docker
def test_stage_2_says_what_the_allowlist_blocked_a_failing_oracle(tmp_path: Path) -> None:
    need("docker", sandbox_image_available(), "the sandbox image is not built")
    root = _pack(tmp_path, ALLOWLIST, put(f"{TASK}/solution/solve.sh", FETCHING_ORACLE))
    report = run_funnel(root, (Stage.STRUCTURE, Stage.VERIFY), FunnelOptions(own_package=True))
    assert [f.code for f in report.findings if f.stage == Stage.STRUCTURE] == ["GX169"]
    failed = [f for f in report.findings if f.code == "GX220"]
    assert failed, [f"{f.code}: {f.message}" for f in report.findings]
    assert (
        "The network allowlist blocked: data.example.org:80 "
        "(data.example.org is not on the allowlist)." in failed[0].message
    )


def test_stage_3_shows_a_cheating_agents_blocked_requests(tmp_path: Path) -> None:
    pack = load_envpack(_pack(tmp_path, ALLOWLIST)).pack
    assert pack is not None
    allowed = {**DENIED, "host": "pypi.org", "allowed": True, "status": 200}
    allowed.pop("reason")
    screen = Episode(reward=1.0, egress=[allowed, DENIED, DENIED])
    hit = CheatResult(AGENTS[0], screen, [Episode(reward=1.0), Episode(reward=1.0)])
    sink = FindingSink(Stage.ATTACK)
    judge_task(pack, TaskAttack(pack.agentic_tasks[0], [hit]), sink)
    [finding] = sink.findings
    assert finding.message.endswith(
        "The network allowlist blocked it from: evil.example:443 "
        "(evil.example is not on the allowlist)"
    )
    assert finding.evidence["blocked_requests"] == [DENIED, DENIED]
