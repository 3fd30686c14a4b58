"""`gauntlet calibrate` end to end: litellm → the scripted OpenAI-compatible server on 127.0.0.1
→ every sample graded by the package's own grader in the Docker sandbox → the pack card.

Personas (the server answers by the model asked and the task's prompt, from the template's own
references and negatives): `strong` answers right except on alkene-1, `weak` is right on
alcohol-1, right on its first sample of alcohol-2 and wrong on its second, and wrong elsewhere.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections import Counter
from pathlib import Path

import pytest
from support.fake_llm import ScriptedLLMServer
from support.services import docker_available, need, sandbox_image_available

from app.cli import main
from app.resources import resource_path

pytestmark = [pytest.mark.docker]
TEMPLATE = resource_path("templates", "qa-exact")
MODELS = ["openai/strong", "openai/weak"]


def _jsonl(name: str) -> list[dict]:
    lines = (TEMPLATE / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


PROMPTS = {t["prompt"]: t["id"] for t in _jsonl("tasks.jsonl")}
RIGHT = {s["task_id"]: s["response"] for s in reversed(_jsonl("solutions.jsonl"))}
WRONG = {n["task_id"]: n["response"] for n in reversed(_jsonl("negatives.jsonl"))}


class Personas:
    """The scripted server's answers; counts requests per (model, task)."""

    def __init__(self) -> None:
        self.seen: Counter = Counter()
        self.lock = threading.Lock()

    def __call__(self, request: dict) -> str:
        model, task = request["model"], PROMPTS[request["messages"][-1]["content"]]
        with self.lock:
            self.seen[model, task] += 1
            nth = self.seen[model, task]
        if model == "strong":
            return WRONG[task] if task == "alkene-1" else RIGHT[task]
        right = task == "alcohol-1" or (task == "alcohol-2" and nth == 1)
        return RIGHT[task] if right else WRONG[task]


@pytest.fixture
def package(tmp_path, monkeypatch) -> Path:
    need(
        "docker sandbox",
        docker_available() and sandbox_image_available(),
        "needs a running Docker engine and the sandbox image",
    )
    monkeypatch.setenv("GAUNTLET_HOME", str(tmp_path / "home"))  # a fresh completion cache
    monkeypatch.setenv("GAUNTLET_LLM_API_KEY", "test-key")
    return Path(shutil.copytree(TEMPLATE, tmp_path / "pack"))


def _calibrate(package: Path, server, *extra: str) -> int:
    models = [a for m in MODELS for a in ("--model", m)]
    return main(
        [
            "calibrate",
            str(package),
            *models,
            "--samples",
            "2",
            "--llm-api-base",
            server.url,
            "--backend",
            "docker",
            *extra,
        ]
    )


def test_the_card_says_what_the_personas_imply_and_a_rerun_asks_nothing(package, capsys) -> None:
    with ScriptedLLMServer([Personas()]) as server:
        assert _calibrate(package, server) == 0
        out = capsys.readouterr()
        assert len(server.requests) == 20  # 2 models × 5 tasks × 2 samples
        assert _calibrate(package, server, "--json") == 0
        assert len(server.requests) == 20  # the re-run was served from the cache
    assert "signal share: 0.20" in out.out and "GX401" in out.out and "GX402" in out.out
    assert "20 requests to make (0 cached)" in out.err
    card = json.loads(capsys.readouterr().out)
    assert card == json.loads((package / ".gauntlet" / "card.json").read_text())
    assert card["schema"] == "gauntlet-card/1" and card["models"] == MODELS
    assert card["requests"] == {
        "total": 20,
        "probes": 0,
        "made": 0,
        "cache_hits": 20,
        "not_sampled": 0,
        "rate_limit_retries": 0,
    }
    assert card["complete"] and card["cost"]["unpriced_models"] == []  # nothing asked this time
    strong, weak = (card["per_model"][m] for m in MODELS)
    assert (strong["passed"], strong["samples"], weak["passed"], weak["samples"]) == (8, 10, 3, 10)
    assert card["signal_share"] == pytest.approx(0.2)
    tasks = {t["id"]: t for t in card["tasks"]}
    mixed = tasks["alcohol-2"]["per_model"]["openai/weak"]
    assert (mixed["pass_at_1"], mixed["pass_at_k"], mixed["k"]) == (0.5, 1.0, 2)
    assert tasks["alcohol-2"]["signal"] and not tasks["acid-1"]["signal"]
    assert tasks["alkene-1"]["reference_passes"] is True
    assert tasks["alkene-1"]["failures"][0]["response"] == WRONG["alkene-1"]
    codes = sorted((f["code"], f["task_id"]) for f in card["findings"])
    assert codes == [("GX401", "alcohol-1"), ("GX402", "alkene-1")]
    # Two models: a 1PL fit. alcohol-1 (both always right) is the easiest, alkene-1 (both always
    # wrong) the hardest, and strong is abler than weak.
    difficulty = card["difficulty"]
    assert difficulty["fitted"] and difficulty["model"] == "1PL"
    ranked = sorted(difficulty["tasks"], key=lambda t: difficulty["tasks"][t]["difficulty"])
    assert ranked[0] == "alcohol-1" and ranked[-1] == "alkene-1"
    assert (
        difficulty["ability"]["openai/strong"]["ability"]
        > difficulty["ability"]["openai/weak"]["ability"]
    )
    assert card["contamination"] == {"probed": False}


def test_the_budget_cap_stops_the_run_and_the_card_says_how_far_it_got(package, capsys) -> None:
    out = package.parent / "card.json"
    with ScriptedLLMServer([{"content": "ethanol", "completion_tokens": 100}]) as server:
        code = main(
            [
                "calibrate",
                str(package),
                "--model",
                "openai/gpt-4o-mini",
                "--samples",
                "2",
                "--llm-api-base",
                server.url,
                "--backend",
                "docker",
                "--max-tokens",
                "100",
                "--concurrency",
                "1",
                "--budget-usd",
                "0.0001",
                "--out",
                str(out),
            ]
        )
        asked = len(server.requests)
    err = capsys.readouterr().err
    assert code == 1 and "stopped at the budget cap ($0.00)" in err
    card = json.loads(out.read_text())
    assert card["cost"]["stopped_by_budget"] and not card["complete"]
    assert card["cost"]["spent_usd"] <= 0.0001
    assert card["requests"]["made"] == asked and 0 < asked < 10
    assert card["requests"]["not_sampled"] == 10 - asked


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--samples", "2"], "no model to calibrate with"),
        (["--model", "openai/x", "--samples", "0"], "--samples must be 1 or more"),
        (["--model", "openai/x", "--model", "openai/x"], "a --model is given twice"),
        (["--model", "openai/x", "--budget-usd", "-1"], "--budget-usd must be 0 or more"),
    ],
)
def test_bad_input_is_a_clear_error(package, capsys, argv, message) -> None:
    assert main(["calibrate", str(package), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_an_unreachable_server_is_a_clear_error(package, capsys) -> None:
    with ScriptedLLMServer(["unused"]) as server:
        url = server.url
    assert main(["calibrate", str(package), "--model", "openai/x", "--llm-api-base", url]) == 2
    err = capsys.readouterr().err
    assert "could not reach the provider" in err and "run the same command again" in err
    assert "Traceback" not in err


def test_not_a_package_is_a_clear_error(tmp_path, capsys) -> None:
    assert main(["calibrate", str(tmp_path), "--model", "openai/x"]) == 2
    assert "has no env.toml" in capsys.readouterr().err


def test_an_agentic_package_gets_an_agent_run_estimate(tmp_path, capsys) -> None:
    root = Path(shutil.copytree(resource_path("templates", "agentic-data"), tmp_path / "ag"))
    argv = ["calibrate", str(root), "--model", "openai/gpt-4o-mini", "--samples", "3"]
    assert main([*argv, "--estimate-only"]) == 0
    err = capsys.readouterr().err
    assert "6 agent runs to make (0 cached), each up to 20 commands" in err
    assert "An estimate of the worst case" in err and "hard cap $5.00" in err
    assert main([*argv, "--contamination"]) == 2
    err = capsys.readouterr().err
    assert "--contamination does not apply to an agentic package" in err
    assert "Traceback" not in err


def _template(name: str, tmp_path: Path) -> tuple[Path, dict, dict, dict]:
    root = resource_path("templates", name)

    def lines(file: str) -> list[dict]:
        text = (root / file).read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    prompts = {t["prompt"]: t["id"] for t in lines("tasks.jsonl")}
    right = {s["task_id"]: s["response"] for s in reversed(lines("solutions.jsonl"))}
    wrong = {n["task_id"]: n["response"] for n in reversed(lines("negatives.jsonl"))}
    return Path(shutil.copytree(root, tmp_path / name)), prompts, right, wrong


def test_answers_in_the_wrong_form_are_flagged_gx403(package, tmp_path, capsys) -> None:
    pack, prompts, right, _ = _template("qa-numeric", tmp_path)

    def personas(request: dict) -> str:
        task = prompts[request["messages"][-1]["content"]]
        if request["model"] == "right":
            return right[task]
        return f"The answer is {right[task]}, as the formula shows."  # right, wrong form

    with ScriptedLLMServer([personas]) as server:
        code = main(
            [
                "calibrate",
                str(pack),
                "--model",
                "openai/right",
                "--model",
                "openai/wordy",
                "--samples",
                "2",
                "--llm-api-base",
                server.url,
                "--backend",
                "docker",
                "--json",
            ]
        )
    card = json.loads(capsys.readouterr().out)
    assert code == 0 and card["format_checked"]
    flagged = {f["task_id"] for f in card["findings"] if f["code"] == "GX403"}
    assert flagged == set(prompts.values())
    assert all(t["format_failures"] == t["failures_total"] == 2 for t in card["tasks"])
    assert not [f for f in card["findings"] if f["code"] != "GX403"]


def test_a_code_package_is_calibrated_the_same_way(package, tmp_path, capsys) -> None:
    pack, prompts, right, wrong = _template("code-tests", tmp_path)

    def personas(request: dict) -> str:
        task = prompts[request["messages"][-1]["content"]]
        return right[task] if request["model"] == "right" else wrong[task]

    with ScriptedLLMServer([personas]) as server:
        code = main(
            [
                "calibrate",
                str(pack),
                "--model",
                "openai/right",
                "--model",
                "openai/wrong",
                "--samples",
                "1",
                "--llm-api-base",
                server.url,
                "--backend",
                "docker",
                "--json",
            ]
        )
    card = json.loads(capsys.readouterr().out)
    assert code == 0 and card["package"]["kind"] == "code" and not card["format_checked"]
    right_stats, wrong_stats = (card["per_model"][m] for m in ("openai/right", "openai/wrong"))
    assert right_stats["pass_at_1"] == 1.0 and wrong_stats["pass_at_1"] == 0.0
    assert card["signal_share"] == 0.0 and card["findings"] == []
    assert all(t["format_failures"] is None for t in card["tasks"])


def test_a_run_cut_short_by_the_provider_resumes_without_asking_again(package, capsys) -> None:
    personas = Personas()
    answered = {"n": 0}

    def failing_after_six(request: dict):
        answered["n"] += 1
        return personas(request) if answered["n"] <= 6 else {"status": 503, "content": "down"}

    with ScriptedLLMServer([failing_after_six]) as server:
        assert _calibrate(package, server, "--concurrency", "1") == 2
    err = capsys.readouterr().err
    assert "(6 of 20 samples are cached)" in err and "run the same command again" in err
    assert "Traceback" not in err
    with ScriptedLLMServer([personas]) as server:
        assert _calibrate(package, server, "--json") == 0
        asked = len(server.requests)
    card = json.loads(capsys.readouterr().out)
    assert asked == 14 and card["requests"]["cache_hits"] == 6 and card["requests"]["made"] == 14
    assert card["complete"] and card["signal_share"] == pytest.approx(0.2)
