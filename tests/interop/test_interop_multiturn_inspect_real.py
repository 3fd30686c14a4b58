"""The multi-turn Inspect export under the REAL inspect-ai release (its own venv, .ci/setup-peers):
Inspect lists each exported template, and `inspect_ai.eval` with Inspect's mock model replaying
every reference and negative conversation (tool calls included) runs the export's solver (the
package's tools as Inspect tools, the scripted user) and scorer. Every score must be the reward
Gauntlet's own verification gives, and the conversation Inspect had must be the one Gauntlet
replays. Skips locally without the peer venv; fails on CI."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.multiturn_peers import gauntlet_episodes, multiturn_cases
from support.peers import peer_python, pinned_version, run_probe

from app.envpack.interop import export_inspect
from app.envpack.loader import load_envpack

PROBE = Path(__file__).with_name("peer_inspect_multiturn_probe.py")
TEMPLATES = ("mt-analyst", "mt-intake")


@pytest.mark.peers
def test_real_inspect_plays_and_scores_multiturn_templates_like_gauntlet(
    template, runtime, tmp_path
):
    python = peer_python("inspect")
    exports, expected = [], {}
    for name in TEMPLATES:
        pack = load_envpack(template(name)).pack
        task = export_inspect(pack.root, tmp_path / "out" / name, runtime)
        cases = multiturn_cases(pack)
        expected[name] = (task, cases, gauntlet_episodes(pack, cases))
        exports.append({"folder": str(tmp_path / "out" / name), "task": task, "cases": cases})
    request = {"exports": exports, "log_dir": str(tmp_path / "logs")}
    result = run_probe(python, PROBE, request, tmp_path)

    assert result["version"] == pinned_version("inspect", "inspect-ai")
    for name, got in zip(TEMPLATES, result["exports"], strict=True):
        task, cases, gauntlet = expected[name]
        assert got["errors"] == [], name
        assert got["listed"] == [task], name
        rewards = [g["reward"] for g in gauntlet]
        assert [s["reward"] for s in got["scores"]] == rewards, name
        kinds = [c["kind"] for c in cases]
        # the comparison means something: references pass, negatives and silence do not
        assert {r for r, k in zip(rewards, kinds, strict=True) if k == "reference"} == {1.0}
        assert max(r for r, k in zip(rewards, kinds, strict=True) if k != "reference") == 0.0
        compared = 0
        for case, want, score in zip(cases, gauntlet, got["scores"], strict=True):
            played = sum(1 for t in case["turns"] if t["role"] == "assistant")
            if score["replies"] == played:  # the mock model was not asked beyond the case
                assert score["trajectory"] == want["messages"], (name, case)
                compared += 1
        # only a case shorter than the user's script asks the mock model for more
        assert compared >= sum(1 for k in kinds if k == "reference") + 1, name
