"""Multi-turn packages in stage 1 (DESIGN §4.2): trajectories made canonical, tool schemas read
from tools.py without running it, and each structural code triggered by the mistake it names."""

from __future__ import annotations

import json

import pytest
from support.multiturn_packages import (
    MULTITURN_TRIGGERED,
    add_turn,
    copy_template,
    counter_package,
    write_jsonl,
)

from app.envpack.checks import run_checks
from app.envpack.loader import load_envpack
from app.envpack.tool_schemas import fitting_problem, read_tools
from app.envpack.trajectory import decode_response, encode_turns, normalise_turns


def codes(root) -> list[str]:
    result = load_envpack(root)
    return sorted({f.code for f in [*result.findings, *run_checks(result)]})


def test_short_tool_calls_become_openai_calls_with_json_arguments():
    turns, errors, notes = normalise_turns(
        [
            {"role": "assistant", "tool_calls": [{"name": "add", "arguments": {"amount": 2}}]},
            {"role": "tool", "content": "2"},
            {"role": "user", "content": "thanks"},
            {"role": "assistant", "content": "2"},
        ]
    )
    assert errors == []
    assert len(notes) == 1 and 'role "tool"' in notes[0]
    call = turns[0]["tool_calls"][0]
    assert call == {
        "id": "call_1",
        "type": "function",
        "function": {"name": "add", "arguments": '{"amount": 2}'},
    }
    assert [t["role"] for t in turns] == ["assistant", "user", "assistant"]
    # already-canonical calls are kept as written, ids included
    again, errors, _ = normalise_turns(turns)
    assert again == turns and errors == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("hello", "must be a list"),
        ([{"role": "robot", "content": "x"}], 'role "robot"'),
        ([{"role": "assistant"}], 'needs "content" or "tool_calls"'),
        ([{"role": "assistant", "tool_calls": [{"arguments": {}}]}], 'no tool "name"'),
        (
            [{"role": "assistant", "tool_calls": [{"name": "f", "arguments": "{x"}]}],
            "not valid JSON",
        ),
        ([{"role": "assistant", "tool_calls": [{"name": "f", "arguments": [1]}]}], "JSON object"),
        ([{"role": "user", "content": "only the user"}], "no assistant turn"),
    ],
)
def test_malformed_turns_say_what_is_wrong(value, problem):
    _turns, errors, _notes = normalise_turns(value)
    assert errors and problem in errors[0]


def test_a_response_decodes_to_its_turns_and_plain_text_is_one_message():
    turns, _, _ = normalise_turns([{"role": "assistant", "content": "hi"}])
    assert decode_response(encode_turns(turns)) == turns
    assert decode_response("just text") == [{"role": "assistant", "content": "just text"}]
    assert json.loads(encode_turns(turns, ["u1"]))["user_turns"] == ["u1"]


TOOLS = '''
from typing import Literal, Optional

def search(query: str, limit: int = 5, kind: Literal["a", "b"] = "a") -> list:
    """Search the notes.

    Args:
        query: words to look for
        limit: how many results
    """

def tag(names: list[str], extra: Optional[dict] = None, *, strict: bool) -> str:
    """Tag things."""

def untyped(x):
    """No types."""

def _private():
    pass

def setup(task):
    pass
'''


def test_tool_schemas_come_from_types_defaults_and_docstrings():
    tools = read_tools(TOOLS)
    assert [t.name for t in tools.tools] == ["search", "tag", "untyped"]
    search = tools.get("search").openai()["function"]
    assert search["description"] == "Search the notes."
    assert search["parameters"]["properties"] == {
        "query": {"type": "string", "description": "words to look for"},
        "limit": {"type": "integer", "description": "how many results"},
        "kind": {"enum": ["a", "b"], "type": "string"},
    }
    assert search["parameters"]["required"] == ["query"]
    tag = tools.get("tag")
    assert tag.openai()["function"]["parameters"]["properties"]["names"] == {
        "type": "array",
        "items": {"type": "string"},
    }
    assert [p.name for p in tag.params if p.required] == ["names", "strict"]
    assert fitting_problem(tag, {"names": []}) == "missing strict"
    assert (
        fitting_problem(tag, {"names": [], "strict": True, "nope": 1}) == "no parameter named nope"
    )
    assert tools.get("untyped").signature() == "untyped(x: any)"


def test_a_syntax_error_in_tools_is_reported_with_its_line():
    tools = read_tools("def f(:\n")
    assert tools.error.startswith("tools.py is not valid Python") and tools.error_line == 1


@pytest.mark.parametrize("template", ["mt-analyst", "mt-intake"])
def test_the_templates_have_no_findings(tmp_path, template):
    assert codes(copy_template(template, tmp_path)) == []


def _rewrite(path, change):
    records = [json.loads(line) for line in path.read_text().splitlines()]
    change(records)
    write_jsonl(path, records)


def test_each_multi_turn_code_is_triggered_by_its_mistake(tmp_path):
    pack = counter_package(tmp_path)
    assert codes(pack) == []

    def bad_trajectories(records):
        records[0]["turns"] = [
            {"role": "assistant", "tool_calls": [{"name": "multiply", "arguments": {"by": 2}}]},
            {"role": "tool", "content": "10"},
            {"role": "assistant", "tool_calls": [{"name": "add", "arguments": {"amt": 5}}]},
            {"role": "assistant", "content": "5"},
            {"role": "assistant", "content": "really 5"},
        ]
        records[1]["turns"] = "not a list"

    _rewrite(pack / "solutions.jsonl", bad_trajectories)

    def bad_tasks(records):
        records[1]["max_turns"] = 0
        records[1]["user"] = {"persona": ""}

    _rewrite(pack / "tasks.jsonl", bad_tasks)
    (pack / "tools.py").write_text("def add(amount) -> int:\n    return amount\n")
    found = codes(pack)
    for code in ("GX107", "GX108", "GX109", "GX117", "GX118", "GX119", "GX147"):
        assert code in found, (code, found)
    (pack / "tools.py").write_text("def add(:\n")
    assert "GX116" in codes(pack)
    # GX148: test_a_persona_conversation_without_recorded_replies_is_a_warning
    assert set(MULTITURN_TRIGGERED) == {*found, "GX116", "GX148"} & set(MULTITURN_TRIGGERED)


def test_a_persona_conversation_without_recorded_replies_is_a_warning(tmp_path):
    pack = counter_package(tmp_path)

    def persona(records):
        records[0]["user"] = {"persona": "A curious student.", "model": "openai/scripted"}

    _rewrite(pack / "tasks.jsonl", persona)

    def chatty(records):
        records[0]["turns"] = [
            {"role": "assistant", "content": "What number?"},
            add_turn(5),
            {"role": "assistant", "content": "5"},
        ]

    _rewrite(pack / "solutions.jsonl", chatty)
    assert "GX148" in codes(pack)

    def recorded(records):
        records[0]["turns"].insert(1, {"role": "user", "content": "Five, please."})

    _rewrite(pack / "solutions.jsonl", recorded)
    assert "GX148" not in codes(pack)


def test_a_judge_grader_does_not_fit_a_multi_turn_package(tmp_path):
    pack = counter_package(tmp_path)
    text = (pack / "env.toml").read_text().replace('type = "python"', 'type = "match"')
    (pack / "env.toml").write_text(text)
    assert "GX159" in codes(pack)


def test_a_missing_turns_field_names_the_field(tmp_path):
    pack = counter_package(tmp_path)
    write_jsonl(pack / "solutions.jsonl", [{"task_id": "five", "response": "5"}])
    result = load_envpack(pack)
    messages = [f.message for f in result.findings if f.code == "GX132"]
    assert messages and '"turns"' in messages[0]
