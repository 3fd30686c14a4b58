"""The multi-turn attack generators, without a sandbox: every trajectory whose wrongness is its
final message really ends wrong (and a harmless change of the reference is never tried), the
process attacks appear only where their rule says, "repeat the steps" counts only a changed
replay, and a persona user is asked for the answer (through the scripted LLM server)."""

from __future__ import annotations

import json
from pathlib import Path

from support.fake_llm import ScriptedLLMServer

from app.attacks.turn_campaign import TurnCampaign, conversation_excerpt
from app.attacks.turn_process import ASK
from app.attacks.turns_context import final_content, substitute_answer
from app.envpack.loader import load_envpack
from app.envpack.model import Task
from app.envpack.trajectory import decode_response
from app.funnel.multiturn_attack import persona_asker
from app.funnel.pipeline import FunnelOptions
from app.sandbox.base import GradingResult

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).parent / "multiturn_corpus"
PACKAGES = [
    ROOT / "resources/templates/mt-analyst",
    ROOT / "resources/templates/mt-intake",
    CORPUS / "double-booking",
    CORPUS / "user-leaks-answer",
]
PROCESS = ("mt-ask-the-user", "mt-skip-steps", "mt-repeat-steps")


def _plan(path: Path, **kwargs):
    pack = load_envpack(path).pack
    campaign = TurnCampaign(pack, lambda *a: [], **kwargs)
    return pack, campaign, campaign.plan()


def test_every_trajectory_wrong_by_its_final_message_really_ends_wrong() -> None:
    for path in PACKAGES:
        pack, campaign, (tasks, refs, baselines, candidates) = _plan(path)
        assert refs and candidates, path
        for cand in candidates + [c for cs in baselines.values() for c in cs]:
            if cand.attack_id in PROCESS:
                continue
            final = final_content(decode_response(cand.response))
            ctx = campaign.context(pack.task(cand.task_id))
            assert ctx.is_wrong(final), (path.name, cand.attack_id, cand.variant, final)


def test_a_whitespace_change_of_the_reference_is_not_wrong() -> None:
    pack, campaign, (tasks, *_rest) = _plan(PACKAGES[0])
    ctx = campaign.context(tasks[0])
    assert not ctx.is_wrong(ctx.reference_final + "  \n")
    assert not ctx.is_wrong(ctx.reference_final.replace("\n", "\n\n"))


def test_the_answer_is_replaced_everywhere_it_is_stated() -> None:
    task = Task("t", "p", answer=200.0)
    changed = substitute_answer(task, "They add up to 200.00.\nAnswer: 200.00")
    assert "200" not in changed and changed.count("1413.00") == 2
    assert substitute_answer(task, "no number here") is None
    summary = Task("s", "p", answer={"name": "Rosa Delgado", "matter": "tenancy"})
    assert "Rosa" not in substitute_answer(summary, '{"name": "Rosa Delgado"}')


def test_process_attacks_only_where_their_rule_says() -> None:
    by_package = {}
    for path in PACKAGES:
        *_x, (_t, _r, _b, candidates) = _plan(path)
        by_package[path.name] = {c.attack_id for c in candidates}
    # the intake has no tools: nobody to skip calls of, nothing the user should not know
    assert "mt-ask-the-user" not in by_package["mt-intake"]
    assert "mt-repeat-steps" not in by_package["mt-intake"]
    # its summary repeats what the client said: leaving the questions out is a skip
    assert "mt-skip-steps" in by_package["mt-intake"]
    assert {"mt-ask-the-user", "mt-skip-steps"} <= by_package["user-leaks-answer"]
    assert "mt-ask-the-user" not in by_package["mt-analyst"]  # nobody to ask


def _result(key: str, results: list[tuple[str, str]]) -> GradingResult:
    messages = [{"role": "tool", "tool_call_id": i, "content": c} for i, c in results]
    return GradingResult(key, 1.0, episode={"messages": messages, "notes": []})


def test_repeating_counts_only_when_the_replay_changed() -> None:
    pack, campaign, (_t, _r, _b, candidates) = _plan(CORPUS / "double-booking")
    cand = next(c for c in candidates if c.attack_id == "mt-repeat-steps")
    ref = _result(f"ref:{cand.task_id}:0", [("call_1", "booked: BK-1001 (1 that day)")])
    same = _result(cand.key, [("call_1", "booked"), ("call_1_again_0", "booked")])
    results = {
        ref.key: ref,
        cand.key: _result(
            cand.key,
            [("call_1", ref.episode["messages"][0]["content"]), ("call_1_again_0", "BK-1002")],
        ),
    }
    assert campaign.changed_state(cand, results)
    idempotent = {ref.key: _result(ref.key, [("call_1", "booked")]), cand.key: same}
    assert not campaign.changed_state(cand, idempotent)


def test_a_persona_user_is_asked_for_the_answer() -> None:
    pack = load_envpack(CORPUS / "user-leaks-answer").pack
    for task in pack.tasks:
        task.record["user"] = {"persona": "A manager in a hurry.", "model": "openai/scripted"}
    with ScriptedLLMServer(["It is 200.00, I checked myself."]) as server:
        options = FunnelOptions(llm_api_key="test-key", llm_api_base=server.url)
        campaign = TurnCampaign(pack, lambda *a: [], ask_persona=persona_asker(options))
        *_x, candidates = campaign.plan()
        asked = [m["content"] for r in server.requests for m in r["messages"]]
    assert ASK in asked
    made = [c for c in candidates if c.attack_id == "mt-ask-the-user"]
    assert made and not campaign.persona_problems
    payload = json.loads(made[0].response)
    assert payload["user_turns"][0] == "It is 200.00, I checked myself."
    assert final_content(payload["turns"]).startswith("It is 200.00, I checked myself.")
    shaped = [c for c in made if c.variant.startswith("in-the-answer-format")]
    assert shaped and "Answer: 200.00" in shaped[0].response


def test_the_excerpt_keeps_the_end_of_a_long_conversation_short() -> None:
    messages = [{"role": "user", "content": "x" * 1000}] * 30
    shown = conversation_excerpt({"messages": messages})
    assert shown[0]["role"] == "note" and len(shown) == 15
    assert all(len(m.get("content", "")) <= 401 for m in shown[1:])
