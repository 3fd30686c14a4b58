"""Multi-turn episodes replayed in the sandbox (DESIGN §4.2): tools run with per-episode state,
tool errors come back to the assistant as text, the scripted user speaks after each turn that
does not call tools, max_turns holds, the grader gets the whole trajectory; and stage 2's
replay gates (GX216, GX217) and the persona user played by a model on the host."""

from __future__ import annotations

import json

import pytest
from support.fake_llm import ScriptedLLMServer
from support.multiturn_packages import add_turn, copy_template, counter_package, write_jsonl
from support.sandbox_packages import load

from app.envpack.trajectory import encode_turns, normalise_turns
from app.findings import Stage
from app.funnel.pipeline import FunnelOptions, run_funnel
from app.sandbox.base import GradingItem
from app.sandbox.judge import JudgeGrader


def item(pack, key, task_id, turns, **extra):
    canonical, errors, _ = normalise_turns(turns)
    assert not errors
    return GradingItem(key, pack.task(task_id).record | extra, encode_turns(canonical))


def verify(root):
    report = run_funnel(
        root, stages=(Stage.STRUCTURE, Stage.VERIFY), options=FunnelOptions(backend="docker")
    )
    return report, sorted({f.code for f in report.findings})


@pytest.fixture(params=["docker", "process"])
def backend(request):
    return request.getfixturevalue(f"{request.param}_backend")


def test_tools_run_per_episode_and_the_grader_sees_the_trajectory(tmp_path, backend):
    pack = load(counter_package(tmp_path))
    reference = [add_turn(2), add_turn(3), {"role": "assistant", "content": "5"}]
    results = backend.grade_batch(
        pack,
        [
            item(pack, "a", "five", reference),
            item(pack, "b", "five", reference),  # the counter starts at 0 again
            item(pack, "c", "five", [add_turn(9), {"role": "assistant", "content": "5"}]),
        ],
    )
    a, b, c = results
    assert (a.reward, b.reward, c.reward) == (1.0, 1.0, 0.0)
    assert a.metrics == {"count": 5, "seeded": ["five"]}  # setup(task) ran once, this episode
    assert c.metrics["count"] == 9
    tool_messages = [m for m in a.episode["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in tool_messages] == ["2", "5"]
    assert tool_messages[0]["tool_call_id"] == "call_1" and tool_messages[0]["name"] == "add"
    assert a.episode["messages"][0] == {"role": "user", "content": "Reach 5."}


def test_bad_tool_calls_come_back_as_error_messages(tmp_path, docker_backend):
    pack = load(counter_package(tmp_path))
    turns = [
        {
            "role": "assistant",
            "tool_calls": [
                {"name": "nope", "arguments": {}},
                {"name": "add", "arguments": {"amount": 1, "extra": 2}},
                {"name": "boom", "arguments": {}},
                {"name": "add", "arguments": {"amount": 5}},
            ],
        },
        {"role": "assistant", "content": "5"},
    ]
    (result,) = docker_backend.grade_batch(pack, [item(pack, "x", "five", turns)])
    replies = [m["content"] for m in result.episode["messages"] if m["role"] == "tool"]
    assert replies[0].startswith("Error: there is no tool named 'nope' (tools: add, boom)")
    assert replies[1].startswith("Error:") and "extra" in replies[1]
    assert replies[2] == "Error: RuntimeError: the boom tool failed"
    assert replies[3] == "5"
    assert result.reward == 1.0


def test_plain_text_and_raw_malformed_calls_do_not_crash_the_replay(tmp_path, docker_backend):
    pack = load(counter_package(tmp_path))
    hostile = json.dumps(
        {
            "turns": [
                {
                    "role": "assistant",
                    "tool_calls": [{"function": {"name": "add", "arguments": "{bad"}}, 7],
                }
            ]
        }
    )
    results = docker_backend.grade_batch(
        pack,
        [
            GradingItem("text", pack.task("five").record, "5"),
            GradingItem("hostile", pack.task("five").record, hostile),
        ],
    )
    assert results[0].error is None and results[0].reward == 0.0  # said 5, never added
    assert results[0].episode["messages"][-1] == {"role": "assistant", "content": "5"}
    replies = [m["content"] for m in results[1].episode["messages"] if m["role"] == "tool"]
    assert replies[0] == "Error: the arguments are not valid JSON"
    assert replies[1].startswith("Error: there is no tool named ''")


def test_the_scripted_user_and_max_turns_shape_the_conversation(tmp_path, docker_backend):
    pack = load(copy_template("mt-intake", tmp_path))
    task = pack.task("deposit")
    questions = ["Name?", "When?", "What happened?", "Anything else?", "Sure?", "Last?", "Over"]
    turns = [{"role": "assistant", "content": q} for q in questions]
    (long,) = docker_backend.grade_batch(pack, [item(pack, "long", "deposit", turns)])
    users = [m["content"] for m in long.episode["messages"] if m["role"] == "user"]
    assert users == ["Hi, I need some help with a problem.", *task.record["user"]]
    assert long.episode["messages"][0]["role"] == "system"
    assert any("user had nothing more to say" in note for note in long.episode["notes"])
    capped = {**task.record, "max_turns": 2, "user": ["a", "b", "c"]}
    (short,) = docker_backend.grade_batch(
        pack, [GradingItem("short", capped, encode_turns(normalise_turns(turns)[0]))]
    )
    assert sum(m["role"] == "assistant" for m in short.episode["messages"]) == 2
    assert short.episode["notes"] == ["max_turns (2) reached: 5 assistant turns left out"]


def test_a_grader_that_raises_still_returns_its_episode(tmp_path, docker_backend):
    grader = "def grade(task, trajectory):\n    raise KeyError('missing')\n"
    pack = load(counter_package(tmp_path, grader=grader))
    (result,) = docker_backend.grade_batch(pack, [item(pack, "x", "five", [add_turn(5)])])
    assert result.error == "exception" and "KeyError" in result.detail
    assert result.episode["messages"][-1]["role"] == "tool"


@pytest.mark.parametrize("template", ["mt-analyst", "mt-intake"])
def test_the_templates_pass_stage_2(tmp_path, template):
    report, found = verify(copy_template(template, tmp_path))
    assert found == []
    verify_stage = report.stage(Stage.VERIFY)
    assert verify_stage.details["replay"]["episodes"] == verify_stage.details["gradings"]
    if template == "mt-analyst":
        assert verify_stage.details["replay"]["tool_calls"] == 16
        names = {c["name"] for c in verify_stage.details["rubric"]["criteria"]}
        assert names == {"correct-total", "used-the-data"}


def test_tools_that_differ_between_replays_are_gx216(tmp_path):
    tools = "import os\n\ndef add(amount: int) -> str:\n    return os.urandom(4).hex()\n"
    _report, found = verify(counter_package(tmp_path, tools=tools))
    assert "GX216" in found


def test_a_reference_cut_short_is_gx217(tmp_path):
    root = counter_package(tmp_path)
    write_jsonl(
        root / "solutions.jsonl",
        [
            {"task_id": "five", "turns": [add_turn(5), {"role": "assistant", "content": "5"}]},
            {
                "task_id": "seven",
                "turns": [
                    {"role": "assistant", "content": "Working on it."},
                    add_turn(7),
                    {"role": "assistant", "content": "7"},
                ],
            },
        ],
    )
    _report, found = verify(root)
    assert "GX217" in found


def test_a_persona_user_is_played_by_the_model_and_heard_the_same_twice(tmp_path, docker_backend):
    root = copy_template("mt-intake", tmp_path)
    pack = load(root)
    replies = ["I am Rosa Delgado.", "2026-02-14.", "My landlord kept my deposit."]
    with ScriptedLLMServer(replies) as llm:
        task = pack.task("deposit").record | {
            "user": {"persona": "Rosa, a tenant.", "model": "openai/scripted"}
        }
        reference = pack.references_for("deposit")[0]
        judge = JudgeGrader(api_key="test", api_base=llm.url)
        docker_backend.judge, saved = judge, docker_backend.judge
        try:
            first = docker_backend.grade_batch(pack, [GradingItem("p", task, reference.response)])[
                0
            ]
            second = docker_backend.grade_batch(pack, [GradingItem("p", task, reference.response)])[
                0
            ]
        finally:
            docker_backend.judge = saved
        assert len(llm.requests) == 3  # the second replay heard the remembered replies
        persona_prompt = llm.requests[1]["messages"]
    said = [m["content"] for m in first.episode["messages"] if m["role"] == "user"][1:]
    assert said == replies
    assert first.episode == second.episode
    assert (
        persona_prompt[0]["role"] == "system" and "Rosa, a tenant." in persona_prompt[0]["content"]
    )
    # the persona sees the assistant's questions as the other side of its conversation
    assert persona_prompt[-1] == {
        "role": "user",
        "content": "Thank you. On what date did this happen?",
    }
    # the grader needs the scripted replies verbatim; the persona's differ, so it fails: the
    # point here is the conversation, not the reward
    assert first.reward == 0.0


def test_a_persona_without_a_model_is_a_clear_error(tmp_path, docker_backend):
    pack = load(copy_template("mt-intake", tmp_path))
    task = pack.task("deposit").record | {"user": {"persona": "Rosa"}}
    reference = pack.references_for("deposit")[0]
    (result,) = docker_backend.grade_batch(pack, [GradingItem("p", task, reference.response)])
    assert result.error == "judge-unavailable"
    assert "no model plays it" in result.detail


def test_a_judge_criterion_reads_the_replayed_conversation(tmp_path, docker_backend):
    import re

    root = copy_template("mt-analyst", tmp_path)
    text = (
        (root / "env.toml").read_text().replace('combine = "all-pass"', 'combine = "weighted-mean"')
    )
    text = text.replace("timeout_s = 5", 'timeout_s = 5\nmodel = "openai/scripted"')
    text += (
        '\n[[grader.criteria]]\nname = "explains"\nweight = 1.0\n'
        'judge = "Does the assistant say where its total came from?"\nchoices = ["no", "yes"]\n'
    )
    (root / "env.toml").write_text(text)
    pack = load(root)

    def reply(request):
        prompt = request["messages"][-1]["content"]
        nonce = re.search(r"<<<RESPONSE-([0-9a-f]+)>>>", prompt).group(1)
        score = 1.0 if "[tool query_orders returned]" in prompt else 0.0
        return json.dumps({"nonce": nonce, "score": score, "reason": "scripted"})

    reference = pack.references_for("north-march")[0]
    lazy = pack.negatives[0]  # the right number, no lookup
    with ScriptedLLMServer([], default=reply) as llm:
        docker_backend.judge, saved = (
            JudgeGrader(api_key="k", api_base=llm.url),
            docker_backend.judge,
        )
        try:
            good, bad = docker_backend.grade_batch(
                pack,
                [
                    GradingItem("ref", pack.task("north-march").record, reference.response),
                    GradingItem("neg", pack.task(lazy.task_id).record, lazy.response),
                ],
            )
        finally:
            docker_backend.judge = saved
        prompts = [request["messages"][-1]["content"] for request in llm.requests]
    assert len(prompts) == 2  # one judge criterion, two conversations
    # the two conversations are judged concurrently, so the requests come in either order
    looked_up = [p for p in prompts if "[assistant calls query_orders]" in p]
    assert len(looked_up) == 1 and "[tool query_orders returned]" in looked_up[0]
    assert good.criteria["explains"]["score"] == 1.0 and good.reward == 1.0
    assert bad.criteria == {
        "correct-total": {"score": 1.0, "error": None, "detail": ""},
        "used-the-data": {"score": 0.0, "error": None, "detail": ""},
        "explains": {"score": 0.0, "error": None, "detail": "graded by the LLM judge"},
    }
    assert bad.reward == pytest.approx(0.7 / 2.0)


def test_a_failing_reference_shows_the_replayed_conversation_in_the_report(tmp_path):
    from app.funnel.report_page import standalone_html

    root = copy_template("mt-analyst", tmp_path)
    solutions = (root / "solutions.jsonl").read_text().splitlines()
    solutions[0] = solutions[0].replace('"region": "north"', '"region": "south"')
    (root / "solutions.jsonl").write_text("\n".join(solutions) + "\n")
    report, found = verify(root)
    gx201 = next(f for f in report.findings if f.code == "GX201")
    conversation = gx201.evidence["conversation"]
    assert conversation[1]["tool_calls"] == [
        'query_orders({"region": "south", "month": "2026-03"})'
    ]
    assert conversation[2]["role"] == "tool" and '"region": "south"' in conversation[2]["content"]
    assert gx201.evidence["criteria"] == {"correct-total": 1.0, "used-the-data": 0.0}
    page = standalone_html(report)
    assert "The conversation (" in page and "query_orders" in page
