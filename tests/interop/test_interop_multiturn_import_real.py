"""Importing a foreign verifiers 0.4 environment with tools (tests/interop/foreign/
unit-converter-v1: a Toolset, two weighted @vf.reward methods, a .jsonl dataset, written as a
verifiers user writes one, not by our exporter) as a multi-turn package: the tools, tasks and
rewards map, and the package passes Gauntlet's checks once references are added. With the REAL
verifiers (its own venv, .ci/setup-peers): for a few conversations, verifiers' own scoring of
the original environment and whole verifiers episodes (its Toolset as a per-rollout MCP server,
the `null` chat program, an in-process model replaying the turns) give exactly the reward
Gauntlet's grading of the imported package gives, and the tools answer the same. Unsupported
constructs are refused with what to change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support.multiturn_peers import gauntlet_episodes
from support.peers import peer_python
from test_interop_multiturn_verifiers_real import run_probe

from app.envpack.checks import run_checks
from app.envpack.interop import import_verifiers
from app.envpack.loader import load_envpack
from app.errors import UserError

FOREIGN = Path(__file__).parent / "foreign" / "unit-converter-v1"


def call(name: str, arguments: dict, number: int) -> dict:
    function = {"name": name, "arguments": json.dumps(arguments)}
    return {"id": f"call_{number}", "type": "function", "function": function}


def calls(*made: tuple[str, dict]) -> list[dict]:
    return [
        {"role": "assistant", "content": None, "tool_calls": [call(n, a, i)]}
        for i, (n, a) in enumerate(made, 1)
    ]


def say(text: str) -> dict:
    return {"role": "assistant", "content": text}


MILES = ("units_convert", {"value": 42.195, "unit_from": "km", "unit_to": "mi"})
CASES = [  # (task, turns, note)
    ("marathon", [*calls(MILES), say("A marathon is 26.2188 miles.")], "reference"),
    ("marathon", [say("About 26.2188 miles.")], "right number, no tool"),
    ("marathon", [*calls(MILES), say("It is 26.22 miles.")], "tool, rounded wrong"),
    (
        "tower",
        [
            *calls(("units_factor", {"unit": "ft"}), ("units_looked_up", {})),
            *calls(("units_convert", {"value": 1083, "unit_from": "ft", "unit_to": "m"})),
            say("330.0984"),
        ],
        "reference, with the per-rollout lookup history",
    ),
    ("tower", [*calls(("units_factor", {"unit": "yard"})), say("330.0984")], "tool error"),
]


def imported_pack(tmp_path: Path):
    """The foreign environment imported, with CASES' references and negatives added."""
    out = tmp_path / "imported"
    import_verifiers(FOREIGN, out)
    lines = {"solutions.jsonl": [], "negatives.jsonl": []}
    for task_id, turns, note in CASES:
        record = {"task_id": task_id, "turns": turns}
        if note.startswith("reference"):
            lines["solutions.jsonl"].append(record)
        else:
            lines["negatives.jsonl"].append(record | {"note": note})
    for name, records in lines.items():
        (out / name).write_text("".join(json.dumps(r) + "\n" for r in records))
    return out


def test_import_maps_tools_tasks_and_rewards(tmp_path):
    out = imported_pack(tmp_path)
    loaded = load_envpack(out)
    assert [f for f in loaded.findings + run_checks(loaded) if f.is_error] == []
    pack = loaded.pack
    assert pack.is_multi_turn and [t.id for t in pack.tasks] == ["marathon", "tower"]
    assert pack.tasks[0].record["answer"] == 26.2188 and pack.tasks[0].record["user"] == []
    criteria = [(c.name, c.weight) for c in pack.grader.criteria]
    assert criteria == [("correct_value", 0.75), ("used_a_tool", 0.25)]
    tools = (out / "tools.py").read_text()
    for name in ("def units_factor(unit", "def units_convert(value", "def units_looked_up()"):
        assert name in tools  # named as verifiers advertises them: <TOOL_PREFIX>_<name>
    assert "verifiers" not in tools.split('"""', 2)[2] and "self" not in tools
    rewards = [g["reward"] for g in gauntlet_episodes(pack, _cases(pack))]
    assert rewards == [1.0, 0.75, 0.25, 1.0, 0.75]


def _cases(pack) -> list[dict]:
    return [{"task_id": t, "turns": pack_turns} for t, pack_turns, _ in CASES]


@pytest.mark.peers
def test_real_verifiers_scores_the_foreign_environment_like_the_imported_package(tmp_path):
    python = peer_python("verifiers")
    pack = load_envpack(imported_pack(tmp_path)).pack
    cases = _cases(pack)
    gauntlet = gauntlet_episodes(pack, cases)
    for case, graded in zip(cases, gauntlet, strict=True):
        case["messages"] = graded["messages"]
    # whole episodes cost seconds each: the reference, the one using the lookup history
    # (per-rollout tool state) and the tool error; verifiers' scoring covers every case
    episodes = [0, 3, 4]
    request = {"cases": cases, "episodes": episodes, "seat": "agent"}
    result = run_probe(python, "unit_converter_v1", FOREIGN, request, tmp_path)

    assert (result["taskset"], result["env"]) == ("UnitConverterTaskset", "SingleAgentEnv")
    rewards = [g["reward"] for g in gauntlet]
    assert [s["reward"] for s in result["scored"]] == rewards
    for index in episodes:
        want, got = gauntlet[index], result["episodes"][str(index)]
        assert (got["ok"], got["errors"]) == (True, []), (index, got)
        assert got["reward"] == pytest.approx(want["reward"], abs=1e-12), index
        # the tools answer as tools.py does, in MCP's wording: an error raised by the tool is
        # worded by MCP, and a list comes back one item per line, where Gauntlet's replay
        # writes JSON (docs/interop.md, "Multi-turn packages")
        theirs = [m["content"] for m in got["trajectory"] if m["role"] == "tool"]
        ours = [m["content"] for m in want["messages"] if m["role"] == "tool"]
        assert len(theirs) == len(ours), index
        for mine, real in zip(ours, theirs, strict=True):
            if mine.startswith("Error"):
                assert "unknown unit 'yard'" in real, index
            elif mine.startswith("["):
                assert real == "\n".join(str(item) for item in json.loads(mine)), index
            else:
                assert real == mine, index


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("servers/tool.py", "lookups.append(unit)", "self.config and lookups.append(unit)"),
            "uses self",
        ),
        (("taskset.py", "weight=0.25", "weight=0.5"), "1.25 in all"),
        (
            (
                "taskset.py",
                "async def used_a_tool(self, trace",
                "async def used_a_tool(self, runtime",
            ),
            "takes",
        ),
    ],
)
def test_import_refuses_what_does_not_map(edit, message, tmp_path):
    source = tmp_path / "env"
    shutil.copytree(FOREIGN, source)
    path = source / "unit_converter_v1" / edit[0]
    path.write_text(path.read_text().replace(edit[1], edit[2]))
    with pytest.raises(UserError, match=message) as caught:
        import_verifiers(source, tmp_path / "out")
    assert caught.value.hint
    assert not (tmp_path / "out").exists()
