"""`gauntlet calibrate --contamination` on a ladder of four personas (tests/support/
llm_personas.py) through litellm, the scripted server and the Docker sandbox: the probes are in
the estimate, only the persona that memorised the tasks is flagged (GX404), and with four models
the item-response fit orders the models and the tasks as their skill implies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support.fake_llm import ScriptedLLMServer
from support.llm_personas import LadderPersonas
from support.services import docker_available, need, sandbox_image_available

from app.cli import main
from app.envpack.loader import load_envpack
from app.resources import resource_path

pytestmark = [pytest.mark.docker]
SKILL = {
    "right": lambda task, nth: True,
    "memo": lambda task, nth: True,
    "wrong": lambda task, nth: False,
    # right on alcohol-1, on its first sample of alcohol-2, and nowhere else
    "subset": lambda task, nth: task == "alcohol-1" or (task == "alcohol-2" and nth == 1),
}


@pytest.fixture
def package(tmp_path, monkeypatch) -> Path:
    need(
        "docker sandbox",
        docker_available() and sandbox_image_available(),
        "needs a running Docker engine and the sandbox image",
    )
    monkeypatch.setenv("GAUNTLET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GAUNTLET_LLM_API_KEY", "test-key")
    return Path(shutil.copytree(resource_path("templates", "qa-exact"), tmp_path / "pack"))


def test_only_the_memorised_persona_is_flagged_and_the_fit_ranks_the_ladder(
    package, capsys
) -> None:
    personas = LadderPersonas(load_envpack(package).pack, SKILL, memorised={"memo"})
    models = [a for m in SKILL for a in ("--model", f"openai/{m}")]
    argv = ["calibrate", str(package), *models, "--samples", "2", "--contamination"]
    with ScriptedLLMServer([personas]) as server:
        argv += ["--llm-api-base", server.url, "--backend", "docker"]
        assert main(argv) == 0
        asked = len(server.requests)
        text, err = capsys.readouterr()
        assert main([*argv, "--json"]) == 0 and len(server.requests) == asked  # probes cached
    out = capsys.readouterr().out
    # 4 models × 5 tasks × (2 samples + an answer probe + a prefix probe)
    assert asked == 80 and "80 requests to make (0 cached)" in err
    assert "contamination probe: 5 of 5 probed tasks flagged (GX404)" in text
    assert "ability (logits): openai/right" in text and "difficulty" in text
    card = json.loads((package / ".gauntlet" / "card.json").read_text(encoding="utf-8"))
    assert json.loads(out) == card  # the second run's --json
    assert card["requests"]["probes"] == 40 and card["requests"]["cache_hits"] == 80
    probes = card["contamination"]
    assert probes["probed"] and probes["tasks_probed"] == probes["tasks_flagged"] == 5
    gx404 = [f for f in card["findings"] if f["code"] == "GX404"]
    assert len(gx404) == 5 and all("openai/memo" in f["message"] for f in gx404)
    for model in ("right", "wrong", "subset"):
        assert not any(f"openai/{model} " in f["message"] for f in gx404)
        entry = probes["tasks"]["acid-1"][f"openai/{model}"]
        assert not entry["answer"]["reproduced"] and entry["prefix"]["similarity"] < 0.9
    # The probes are not graded: the pass rates are the samples'.
    assert card["per_model"]["openai/memo"]["samples"] == 10
    assert card["per_model"]["openai/subset"]["passed"] == 3
    difficulty = card["difficulty"]
    assert difficulty["fitted"] and set(difficulty["fit"]["aic"]) == {"1PL", "2PL"}
    ability = {m.removeprefix("openai/"): v["ability"] for m, v in difficulty["ability"].items()}
    assert ability["wrong"] < ability["subset"] < ability["right"]
    tasks = difficulty["tasks"]
    assert tasks["alcohol-1"]["difficulty"] < tasks["alcohol-2"]["difficulty"]
    assert tasks["alcohol-2"]["difficulty"] < tasks["acid-1"]["difficulty"]
    assert tasks["acid-1"]["extreme"] is None and tasks["alcohol-2"]["extreme"] is None
