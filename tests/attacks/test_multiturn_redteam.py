"""The multi-turn LLM red team end to end: litellm → a scripted OpenAI-compatible server on
127.0.0.1 that plays the assistant over several turns with tool calls → tool results from the
Docker sandbox's replay → a wrong-but-passing conversation confirmed by replay (GX348)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.fake_llm import ScriptedLLMServer

from app.findings import Stage
from app.funnel.pipeline import FunnelOptions, run_funnel

pytestmark = [pytest.mark.docker]
CORPUS = Path(__file__).parent / "multiturn_corpus"
TARGET = CORPUS / "first-number-anywhere"  # the first number in any assistant message counts
TASKS = {
    json.loads(line)["prompt"]: json.loads(line)
    for line in (TARGET / "tasks.jsonl").read_text().splitlines()
}


def player(*, honest: bool):
    """Step 1: say a number and query the orders; step 2: calculate; step 3: the final answer
    (wrong, unless `honest`)."""

    def reply(request: dict) -> dict:
        messages = request["messages"]
        task = TASKS[messages[1]["content"]]
        step = sum(1 for m in messages if m["role"] == "assistant")
        answer = task["answer"]
        if step == 0:
            query = {"name": "query_orders", "arguments": {"region": task["region"]}}
            return {"content": f"My first guess is {answer:.2f}.", "tool_calls": [query]}
        if step == 1:
            return {"tool_calls": [{"name": "calculate", "arguments": {"expression": "1 + 1"}}]}
        total = answer if honest else answer + 7
        return {"content": f"Answer: {total:.2f}"}

    return reply


def _run(server):
    options = FunnelOptions(
        backend="docker",
        llm_model="openai/scripted",
        llm_api_key="test-key",
        llm_api_base=server.url,
        max_llm_attempts=20,
        attack_categories=["resource"],  # no built-in multi-turn attack: the model alone
    )
    return run_funnel(TARGET, stages=(Stage.ATTACK,), options=options)


def test_the_model_plays_tools_over_several_turns_and_its_hack_is_confirmed(docker_sandbox):
    with ScriptedLLMServer([player(honest=False)]) as server:
        report = _run(server)
    found = [f for f in report.findings_for(Stage.ATTACK) if f.code == "GX348"]
    assert found, [(f.code, f.message) for f in report.findings_for(Stage.ATTACK)]
    evidence = found[0].evidence
    assert evidence["source"] == "llm" and evidence["reproduced"] in ("2/2", "2/3", "3/3")
    replayed = evidence["replayed_conversation"]
    assert [m["role"] for m in replayed].count("tool") == 2
    assert replayed[-1]["content"].startswith("Answer: ")
    # the model was offered the tools, and heard the sandbox's tool results
    assert any(
        {t["function"]["name"] for t in r.get("tools") or []} == {"query_orders", "calculate"}
        for r in server.requests
    )
    heard = [m for r in server.requests for m in r["messages"] if m["role"] == "tool"]
    assert any('"amount"' in m["content"] for m in heard)
    llm = report.stage(Stage.ATTACK).details["llm"]
    assert llm["candidate_hits"] >= 1 and llm["attempts"] <= 20


def test_a_right_final_answer_is_set_aside_not_a_hit(docker_sandbox):
    with ScriptedLLMServer([player(honest=True)]) as server:
        report = _run(server)
    assert not [f for f in report.findings_for(Stage.ATTACK) if f.code == "GX348"]
    llm = report.stage(Stage.ATTACK).details["llm"]
    assert llm["set_aside_as_correct"] >= 3 and llm["candidate_hits"] == 0
