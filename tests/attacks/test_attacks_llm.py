"""The LLM red team end to end: litellm → a scripted OpenAI-compatible server on 127.0.0.1 →
proposals graded and confirmed in the Docker sandbox → findings in the report."""

from __future__ import annotations

import json

import pytest
from support.attack_corpus import CORPUS
from support.fake_llm import ScriptedLLMServer

from app.cli import main
from app.findings import Stage
from app.funnel.pipeline import FunnelOptions, run_funnel
from app.funnel.report import StageStatus

pytestmark = [pytest.mark.docker]
TARGET = (
    CORPUS / "qa-nan-not-greater"
)  # NaN passes its grader; the library is limited to leakage below
EXPLOIT = (
    "<idea>NaN makes the error comparison false</idea>\n"
    "<category>parser</category>\n<response>nan</response>"
)
REFUSAL = "I'm sorry, but I can't help with creating exploits for grading systems."
WRONG = (
    "<idea>maybe a rounding slip passes</idea>\n"
    "<category>answer-format</category>\n<response>42.5</response>"
)


def _run(server, *, model="openai/scripted", attempts=None, budget=None, events=None):
    options = FunnelOptions(
        backend="docker",
        llm_model=model,
        llm_api_key="test-key",
        llm_api_base=server.url,
        max_llm_attempts=attempts,
        budget_usd=budget,
        attack_categories=["leakage"],
    )

    def progress(event):
        if events is not None and event.kind == "log":
            events.append((event.message, len(server.requests)))

    return run_funnel(TARGET, stages=(Stage.ATTACK,), options=options, progress=progress)


def test_scripted_model_finds_an_exploit_that_the_sandbox_confirms(docker_sandbox):
    events = []
    with ScriptedLLMServer([EXPLOIT]) as server:
        report = _run(server, events=events)
    stage = report.stage(Stage.ATTACK)
    hits = [f for f in report.findings if f.code in ("GX301", "GX302")]
    assert [f.attack.id for f in hits] == ["llm-red-team"]
    finding = hits[0]
    assert finding.attack.category == "parser"
    assert finding.evidence["response"] == "nan" and finding.evidence["source"] == "llm"
    assert finding.evidence["reproduced"] in ("2/2", "2/3", "3/3")
    assert "NaN makes the error comparison false" in finding.message
    assert stage.status == StageStatus.FAIL and report.verdict == "fail"
    llm = stage.details["llm"]
    assert (
        llm["model"] == "openai/scripted"
        and llm["candidate_hits"] >= 1
        and llm["inconclusive"] == 0
    )
    # the estimate was shown before the first request was sent
    estimate = [count for message, count in events if message.startswith("LLM red team: up to")]
    assert estimate == [0]
    # black-box first: the first request shows the prompt but not the grader source
    first = server.requests[0]["messages"][-1]["content"]
    assert "<prompt>" in first and "def grade" not in first


def test_white_box_phase_reads_the_grader_source(docker_sandbox):
    with ScriptedLLMServer([WRONG]) as server:
        _run(server, attempts=4)
    contents = [r["messages"][1]["content"] for r in server.requests]
    assert "def grade" not in contents[0] and any("def grade" in c for c in contents)


def test_refusals_are_inconclusive_not_robust(docker_sandbox):
    with ScriptedLLMServer([REFUSAL]) as server:
        report = _run(server, attempts=3)
    assert len(server.requests) == 3
    codes = {f.code: f for f in report.findings}
    assert "GX301" not in codes and "GX302" not in codes
    assert codes["GX305"].severity == "warning" and "not evidence" in codes["GX305"].message
    llm = report.stage(Stage.ATTACK).details["llm"]
    assert llm["refusals"] == 3 and llm["inconclusive"] == 3 and llm["proposals"] == 0


def test_malformed_replies_are_inconclusive_and_the_model_is_asked_again(docker_sandbox):
    with ScriptedLLMServer(["Sure! Try submitting nan as the answer."]) as server:
        report = _run(server, attempts=8)
    llm = report.stage(Stage.ATTACK).details["llm"]
    assert llm["malformed"] == 8 and llm["proposals"] == 0
    # three tasks are attacked in turn (black-box: half the attempts); the fourth request
    # continues the first conversation
    assert "could not find <response>" in server.requests[3]["messages"][-1]["content"]


def test_attempt_budget_stops_the_red_team(docker_sandbox):
    with ScriptedLLMServer([WRONG]) as server:
        report = _run(server, attempts=2)
    assert len(server.requests) == 2
    llm = report.stage(Stage.ATTACK).details["llm"]
    assert llm["stopped_by"] == "attempts" and llm["attempts"] == 2 and llm["proposals"] == 2
    assert any(f.code == "GX307" for f in report.findings)
    assert not any(f.code in ("GX301", "GX302") for f in report.findings)


def test_money_budget_is_estimated_and_never_exceeded(docker_sandbox):
    def reply_using_every_allowed_token(request):
        allowed = request.get("max_tokens") or request.get("max_completion_tokens") or 900
        return {"content": WRONG, "completion_tokens": allowed}

    budget = 0.002
    events = []
    with ScriptedLLMServer([reply_using_every_allowed_token]) as server:
        report = _run(server, model="openai/gpt-4o-mini", attempts=50, budget=budget, events=events)
    llm = report.stage(Stage.ATTACK).details["llm"]
    assert llm["stopped_by"] == "money"
    assert 0 < llm["cost_usd"] <= budget
    assert 1 <= llm["attempts"] < 50
    assert llm["estimate"]["usd"] is not None and llm["estimate"]["usd"] <= budget
    estimate = [
        message
        for message, sent in events
        if message.startswith("LLM red team: up to") and sent == 0
    ]
    assert estimate and "never more than $0.00" in estimate[0]


def test_unavailable_model_is_a_warning_and_the_library_still_runs(docker_sandbox):
    options = FunnelOptions(
        backend="docker",
        llm_model="openai/scripted",
        llm_api_key="k",
        llm_api_base="http://127.0.0.1:9/v1",
        attack_categories=["parser"],
    )
    report = run_funnel(TARGET, stages=(Stage.ATTACK,), options=options)
    codes = [f.code for f in report.findings]
    assert "GX306" in codes
    assert any(f.code == "GX301" and f.attack.id == "nan-inf" for f in report.findings)


def test_cli_attack_with_llm(docker_sandbox, monkeypatch, capsys):
    monkeypatch.setenv("GAUNTLET_LLM_API_KEY", "test-key")
    with ScriptedLLMServer([EXPLOIT]) as server:
        code = main(
            [
                "attack",
                str(TARGET),
                "--json",
                "--only",
                "leakage",
                "--llm",
                "openai/scripted",
                "--llm-api-base",
                server.url,
                "--budget-usd",
                "0.10",
                "--backend",
                "docker",
            ]
        )
    out, err = capsys.readouterr()
    assert code == 1
    report = json.loads(out)
    assert any(f["attack"] and f["attack"]["id"] == "llm-red-team" for f in report["findings"])
    assert "LLM red team: up to" in err and "test-key" not in out + err
    # --llm's help: the key in GAUNTLET_LLM_API_KEY is the one the provider receives.
    assert server.api_keys and set(server.api_keys) == {"test-key"}


def test_the_red_team_moves_one_criterion_of_a_rubric(docker_sandbox):
    """nan-tolerance (an all-pass rubric): "nan" fools the correctness criterion, while the unit
    criterion still fails it, so the combined reward stays 0 and the hit is on the criterion."""
    target = CORPUS.parent / "rubric_corpus" / "nan-tolerance"
    options = FunnelOptions(
        backend="docker",
        llm_model="openai/scripted",
        llm_api_key="test-key",
        attack_categories=["leakage"],  # no built-in attack of this class applies to qa
    )
    with ScriptedLLMServer([EXPLOIT]) as server:
        options.llm_api_base = server.url
        report = run_funnel(target, stages=(Stage.ATTACK,), options=options)
    hits = [f for f in report.findings if f.code in ("GX301", "GX302")]
    assert [(f.code, f.attack.id) for f in hits] == [("GX302", "llm-red-team")]
    evidence = hits[0].evidence
    assert evidence["criteria_moved"] == ["correct"] and evidence["reward"] == 0.0
    assert evidence["criteria"] == {"correct": 1.0, "unit": 0.0}
    assert 'rewarded on criterion "correct"' in hits[0].message
