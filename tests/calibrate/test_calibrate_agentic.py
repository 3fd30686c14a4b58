"""`gauntlet calibrate` on an agentic package, end to end: litellm → the scripted OpenAI-compatible
server on 127.0.0.1 (tool calls) → each command in the task's hardened container → the task's
verifier → the pack card. Cached runs are re-graded by replaying their commands in a fresh
container: the server's request count shows that no model is asked again.

Personas: `right` writes the right total (12) to /app/total.txt, `wrong` writes 3; each says
"Done." once its command has run. One run is two model turns.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.agentic_packages import TASK, TEST_SH, agentic_files, put
from support.envpack_packages import write_files
from support.fake_llm import ScriptedLLMServer
from support.services import docker_available, need, sandbox_image_available

from app import llm
from app.cli import main

pytestmark = [pytest.mark.docker]
PRICED = "openai/gpt-4o-mini"  # litellm prices it; the scripted server stands in for it


def persona(request: dict) -> dict | str:
    if request["messages"][-1]["role"] == "tool":
        return {"content": "Done.", "prompt_tokens": 1000, "completion_tokens": 100}
    total = "3" if request["model"] == "wrong" else "12"
    call = {"name": "shell", "arguments": {"command": f"echo {total} > /app/total.txt"}}
    return {"content": "", "tool_calls": [call], "prompt_tokens": 1000, "completion_tokens": 100}


@pytest.fixture
def package(tmp_path, monkeypatch) -> Path:
    need(
        "docker sandbox",
        docker_available() and sandbox_image_available(),
        "needs a running Docker engine and the sandbox image",
    )
    monkeypatch.setenv("GAUNTLET_HOME", str(tmp_path / "home"))  # a fresh run cache
    monkeypatch.setenv("GAUNTLET_LLM_API_KEY", "test-key")
    return write_files(tmp_path / "pack", agentic_files())


def _calibrate(package: Path, server, models: list[str], *extra: str) -> int:
    argv = ["calibrate", str(package), "--llm-api-base", server.url, "--backend", "docker"]
    argv += [a for m in models for a in ("--model", m)]
    return main([*argv, "--allow-package-dockerfile", "--json", *extra])


def test_the_card_says_what_the_personas_imply_and_a_changed_verifier_asks_nothing(
    package, capsys
) -> None:
    models = ["openai/right", "openai/wrong"]
    with ScriptedLLMServer([persona]) as server:
        assert _calibrate(package, server, models, "--samples", "2") == 0
        asked = len(server.requests)
        out = capsys.readouterr()
        assert asked == 8  # 2 models × 2 samples × 2 turns
        assert "4 agent runs to make (0 cached), each up to 20 commands" in out.err
        assert "An estimate of the worst case" in out.err
        card = json.loads(out.out)
        # the verifier now wants the other total: the cached runs are replayed and re-graded
        put(f"{TASK}/tests/test.sh", TEST_SH.replace('"12"', '"3"'))(_files := {})
        (package / TASK / "tests" / "test.sh").write_text(_files[f"{TASK}/tests/test.sh"])
        assert _calibrate(package, server, models, "--samples", "2") == 0
        assert len(server.requests) == asked  # no model was asked again
        regraded = json.loads(capsys.readouterr().out)
    assert card["package"]["kind"] == "agentic" and card["package"]["tasks"] == 1
    assert card["sampling"]["max_steps"] == 20 and "honest run" in card["sampling"]["prompt"]
    assert card["requests"]["made"] == 4 and card["requests"]["agent_turns"] == 8
    right, wrong = (card["per_model"][m] for m in models)
    assert (right["passed"], right["samples"], wrong["passed"], wrong["samples"]) == (2, 2, 0, 2)
    task = card["tasks"][0]
    assert task["id"] == "sum-b" and task["reference_passes"] is True
    assert not task["signal"]  # every model always passes or always fails: no pass rate between
    failure = task["failures"][0]
    assert failure["response"] == "(1 steps; stopped: done)\n$ echo 3 > /app/total.txt"
    assert failure["model"] == "openai/wrong" and failure["reward"] == 0.0
    assert task["format_failures"] is None and "not applicable" in card["format_note"]
    assert card["findings"] == [] and card["signal_share"] == 0.0 and card["complete"]
    page = (package / ".gauntlet" / "card.html").read_text()
    assert "2 honest agent runs per task and model (at most 20 commands each)" in page
    assert "Format failures" in page and "(0 model turns)" in page  # the re-run's page
    assert regraded["requests"]["cache_hits"] == 4 and regraded["requests"]["made"] == 0
    right, wrong = (regraded["per_model"][m] for m in models)
    assert (right["passed"], wrong["passed"]) == (0, 2)  # the new verifier's verdicts
    assert regraded["tasks"][0]["reference_passes"] is False  # the oracle still writes 12


def test_the_cap_stops_a_run_exactly_and_the_next_run_resumes_without_asking_again(
    package, capsys
) -> None:
    cap = 0.0012  # two full runs (4 turns of $0.00021) cannot fit under the turns' reservations
    with ScriptedLLMServer([persona]) as server:
        extra = ("--samples", "3", "--concurrency", "1")
        assert _calibrate(package, server, [PRICED], *extra, "--budget-usd", str(cap)) == 1
        first = len(server.requests)
        out = capsys.readouterr()
        card = json.loads(out.out)
        assert "stopped at the budget cap" in out.err
        made = card["requests"]["made"]
        assert _calibrate(package, server, [PRICED], *extra, "--budget-usd", "1") == 0
        resumed = len(server.requests) - first
        done = json.loads(capsys.readouterr().out)
    cost = card["cost"]
    assert cost["stopped_by_budget"] and not card["complete"] and 0 < made < 3
    assert card["requests"]["not_sampled"] == 3 - made
    assert 0 < cost["spent_usd"] <= cap
    # it did not stop early either: what is left is less than one turn's worst case (these
    # prompts stay far below 4000 tokens)
    assert cap - cost["spent_usd"] < llm.estimate_cost(PRICED, 4000, 1024)
    # the finished runs came from the cache: only the missing ones were asked (2 turns each)
    assert resumed == 2 * (3 - made)
    assert done["requests"]["cache_hits"] == made and done["complete"]
    assert done["per_model"][PRICED]["passed"] == 3
    assert [f["code"] for f in done["findings"]] == ["GX401"]
    assert done["findings"][0]["file"] == f"{TASK}/instruction.md"


def test_an_interrupted_run_keeps_its_finished_runs_and_resumes_without_asking_again(
    package,
) -> None:
    from app.calibrate.run import Calibration
    from app.calibrate.sampling import SamplingSettings
    from app.envpack.loader import load_envpack
    from app.funnel.pipeline import FunnelOptions

    pack = load_envpack(package).pack

    def calibration(url: str) -> Calibration:
        sampling = SamplingSettings(concurrency=1, api_base=url, api_keys={"openai/right": "k"})
        options = FunnelOptions(backend="docker", own_package=True)
        return Calibration(pack, ["openai/right"], 3, sampling, options)

    def interrupt(done: int, _total: int, _sample) -> None:
        raise KeyboardInterrupt  # Ctrl-C, as the first run is finished

    with ScriptedLLMServer([persona]) as server:
        with pytest.raises(KeyboardInterrupt):
            calibration(server.url).sample(interrupt)
        assert len(server.requests) == 2  # one run (two turns); nothing started after it
        resumed = calibration(server.url)
        assert "2 agent runs to make (1 cached)" in resumed.estimate().describe(1.0)
        outcome = resumed.sample()
        assert len(server.requests) == 2 + 4  # only the two missing runs were asked for
    assert outcome.cache_hits == 1 and outcome.not_sampled == 0 and outcome.requests_made == 2
