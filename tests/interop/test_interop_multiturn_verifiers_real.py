"""The multi-turn verifiers export under the REAL verifiers release (its own venv,
.ci/setup-peers): verifiers' loaders find the exported taskset and the env it ships (the
scripted user); vf-validate's gold check passes every reference with no model; verifiers' own
`Task.score` gives every reference, negative and silent reply exactly the reward Gauntlet's
verification gives; and whole verifiers episodes (interception server, verifiers' `null` chat
program, tools.py as a per-rollout MCP server, the scripted user, max_turns, scoring) with an
in-process model replaying a case's turns end with that same reward, after the very
conversation Gauntlet replays. The episodes cost seconds each (a chat program is started per
user turn), so CI plays the first task's reference and negatives per template;
GAUNTLET_PEER_ALL_EPISODES=1 plays every case.
Skips locally without the peer venv; fails on CI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from support.multiturn_peers import gauntlet_episodes, multiturn_cases
from support.peers import peer_python, pinned_version

from app.envpack.interop import export_verifiers
from app.envpack.loader import load_envpack

pytestmark = pytest.mark.peers

HERE = Path(__file__).parent
PROBE = HERE / "peer_verifiers_multiturn_probe.py"
TEMPLATES = ("mt-analyst", "mt-intake")


def run_probe(python: Path, module: str, export: Path, request: dict, cwd: Path) -> dict:
    # the export on the path (as `pip install` would make it importable) and the test harness
    # (peer_verifiers_chat_harness.py); the tool servers and chat programs inherit both
    path = os.pathsep.join([str(export), str(HERE)])
    env = {**os.environ, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [str(python), str(PROBE), module],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def shown(messages: list[dict]) -> list[dict]:
    """A conversation as both sides record it: role, text, tool calls as [name, arguments]
    (an empty reply is "" in Gauntlet's trajectory and null in verifiers' trace)."""
    out = []
    for m in messages:
        item = {"role": m["role"], "content": m.get("content") or ""}
        if m.get("tool_calls"):
            calls = m["tool_calls"]
            item["tool_calls"] = [
                c if isinstance(c, list) else [c["function"]["name"], c["function"]["arguments"]]
                for c in calls
            ]
        out.append(item)
    return out


@pytest.mark.parametrize("name", TEMPLATES)
def test_real_verifiers_plays_and_scores_the_multiturn_export_like_gauntlet(
    name, template, runtime, tmp_path
):
    python = peer_python("verifiers")
    pack = load_envpack(template(name)).pack
    out = tmp_path / "env"
    module = export_verifiers(pack.root, out, runtime)
    cases = multiturn_cases(pack)
    first = pack.tasks[0].id
    limit = pack.tasks[0].record.get("max_turns", 6)
    if name == "mt-analyst":  # more tool calls than max_turns: both sides stop at the limit
        lookup = {"name": "list_regions", "arguments": "{}"}
        turns = [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": f"call_{i}", "type": "function", "function": lookup}],
            }
            for i in range(limit + 1)
        ]
        cases.append({"task_id": first, "turns": turns, "kind": "too-long"})
    gauntlet = gauntlet_episodes(pack, cases)
    for case, graded in zip(cases, gauntlet, strict=True):
        case["messages"] = graded["messages"]
    every = os.environ.get("GAUNTLET_PEER_ALL_EPISODES") == "1"
    episodes = [
        i
        for i, c in enumerate(cases)
        if every or (c["task_id"] == first and c["kind"] != "silent")  # silence: scored below
    ]
    request = {"cases": cases, "episodes": episodes}
    result = run_probe(python, module, out, request, tmp_path)

    assert result["version"] == pinned_version("verifiers", "verifiers")
    assert (result["taskset"], result["env"]) == ("GauntletTaskset", "GauntletConversation")
    assert result["tasks"] == [t.id for t in pack.tasks]
    with_reference = {r.task_id for r in pack.solutions}
    assert result["gold"] == {t.id: (True if t.id in with_reference else None) for t in pack.tasks}
    rewards = [g["reward"] for g in gauntlet]
    kinds = [c["kind"] for c in cases]
    # the comparison means something: references pass, negatives and silence do not
    assert {r for r, k in zip(rewards, kinds, strict=True) if k == "reference"} == {1.0}
    assert max(r for r, k in zip(rewards, kinds, strict=True) if k != "reference") == 0.0
    # verifiers' Task.score on every conversation Gauntlet replayed
    assert [s["reward"] for s in result["scored"]] == rewards
    # whole verifiers episodes: the same reward, after the same conversation
    assert sorted(result["episodes"], key=int) == [str(i) for i in episodes]
    kinds_played = {kinds[i] for i in episodes}
    assert {"reference", "negative"} <= kinds_played
    for index in episodes:
        case, want, got = cases[index], gauntlet[index], result["episodes"][str(index)]
        assert (got["ok"], got["errors"]) == (True, []), (index, got)
        assert got["rewards"] == {"gauntlet": want["reward"]}, (index, case)
        played = sum(1 for t in case["turns"] if t["role"] == "assistant")
        if got["replies"] == played:  # the model was not asked beyond the case's turns
            assert shown(got["trajectory"]) == shown(want["messages"]), index
        if case["kind"] == "too-long":  # the task's @vf.stop: max_turns replies, then stop
            assert got["stop"] == "max_turns_reached", got
            replies = [m for m in got["trajectory"] if m["role"] == "assistant"]
            assert len(replies) == limit == got["replies"]


def test_vf_validate_checks_the_multiturn_references_with_no_model(template, runtime, tmp_path):
    python = peer_python("verifiers")
    pack = load_envpack(template("mt-analyst")).pack
    out = tmp_path / "env"
    module = export_verifiers(pack.root, out, runtime)
    cli = python.parent / "vf-validate"
    env = {**os.environ, "PYTHONPATH": str(out), "PYTHONDONTWRITEBYTECODE": "1"}
    args = [module, "--runtime.type", "subprocess", "-o", str(tmp_path / "runs")]
    done = subprocess.run(
        [str(cli), *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (summary_file,) = (tmp_path / "runs").glob("*/summary.json")
    summary = json.loads(summary_file.read_text())
    n = len(pack.tasks)
    # gold: each reference conversation replays to 1; noop: an untouched rollout does not pass
    assert summary["checks"]["gold"]["valid"] == n and summary["checks"]["noop"]["valid"] == n
