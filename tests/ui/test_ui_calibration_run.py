"""Calibrating from the app: "Calibrate…" in the calibration view runs the same code as
`gauntlet calibrate` in worker threads, only after the cost confirmation. Against the scripted
OpenAI-compatible server (a persona answering with the references, one with the negatives) and
the Docker sandbox: declining sends nothing; confirming writes card.json and card.html and
shows the card."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from support.agentic_packages import agentic_files
from support.envpack_packages import write_files
from support.fake_llm import ScriptedLLMServer
from support.services import docker_available, need, sandbox_image_available

from app.envpack.provenance import record_created
from app.resources import resource_path
from app.ui.app_settings import AppSettings
from app.ui.funnel.calibration_run import CalibrationRequest
from app.ui.funnel.calibration_view import CalibrateContext, CalibrationView

pytestmark = [pytest.mark.docker]
TEMPLATE = resource_path("templates", "qa-exact")


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_calibrate_from_the_app_only_after_the_cost_is_confirmed(
    qtbot, tmp_path, monkeypatch, job_runner
):
    need("docker sandbox", docker_available() and sandbox_image_available(), "needs Docker")
    monkeypatch.setenv("GAUNTLET_HOME", str(tmp_path / "home"))  # a fresh completion cache
    package = Path(shutil.copytree(TEMPLATE, tmp_path / "pack"))
    prompts = {t["prompt"]: t["id"] for t in _jsonl(package / "tasks.jsonl")}
    right = {s["task_id"]: s["response"] for s in _jsonl(package / "solutions.jsonl")}
    wrong = {n["task_id"]: n["response"] for n in _jsonl(package / "negatives.jsonl")}

    def persona(request: dict) -> str:
        task = prompts[request["messages"][-1]["content"]]
        return right[task] if request["model"] == "right" else wrong[task]

    asked: list[str] = []
    answers = [False, True]

    def confirm(_parent, _title: str, text: str) -> bool:
        asked.append(text)
        return answers.pop(0)

    with ScriptedLLMServer([persona]) as server:
        settings = AppSettings(tmp_path / "app.ini")
        models = [{"model": f"openai/{m}", "api_base": server.url} for m in ("right", "wrong")]
        settings.set_llm_models(models)
        settings.sandbox_backend = "docker"
        view = CalibrationView()
        qtbot.addWidget(view)
        view.set_calibrate_context(CalibrateContext(package, settings, None, job_runner, confirm))
        assert view.calibrate_button.isVisibleTo(view)
        request = CalibrationRequest(package, models, samples=1, budget_usd=1.0, backend="docker")

        view.start_calibration(request)
        qtbot.waitUntil(lambda: "nothing was sent" in view.summary.text(), timeout=30_000)
        assert server.requests == [] and not (package / ".gauntlet" / "card.json").exists()
        assert "10 requests to make (0 cached)" in asked[0] and "hard cap $1.00" in asked[0]

        with qtbot.waitSignal(view.calibrated, timeout=240_000):
            view.start_calibration(request)
        assert len(server.requests) == 10  # 2 models × 5 tasks × 1 sample
    card = json.loads((package / ".gauntlet" / "card.json").read_text())
    assert card["per_model"]["openai/right"]["pass_at_1"] == 1.0
    assert card["per_model"]["openai/wrong"]["pass_at_1"] == 0.0
    assert (package / ".gauntlet" / "card.html").read_text().startswith("<!DOCTYPE html>")
    assert view.table.rowCount() == 5 and view.card == card
    assert view.calibrate_button.isEnabled()


def test_an_agentic_package_calibrates_from_the_app_and_cancel_keeps_what_is_done(
    qtbot, tmp_path, monkeypatch, job_runner
):
    """Three honest agent runs; the second and third wait for the model until Cancel is
    pressed, so exactly one run is finished (and cached) when it is; calibrating again asks
    only for the other two."""
    need("docker sandbox", docker_available() and sandbox_image_available(), "needs Docker")
    monkeypatch.setenv("GAUNTLET_HOME", str(tmp_path / "home"))
    package = write_files(tmp_path / "pack", agentic_files())
    record_created(package)  # the user's own package: its Dockerfile is built
    cancelled, first_turns = threading.Event(), []

    def persona(request: dict) -> dict | str:
        if request["messages"][-1]["role"] == "tool":
            return "Done."
        first_turns.append(1)
        if len(first_turns) > 1:
            cancelled.wait(60)  # a slow model: still thinking when Cancel is pressed
        call = {"name": "shell", "arguments": {"command": "echo 12 > /app/total.txt"}}
        return {"content": "", "tool_calls": [call]}

    asked: list[str] = []

    def confirm(_parent, _title: str, text: str) -> bool:
        asked.append(text)
        return True

    with ScriptedLLMServer([persona]) as server:
        settings = AppSettings(tmp_path / "app.ini")
        models = [{"model": "openai/right", "api_base": server.url}]
        settings.set_llm_models(models)
        view = CalibrationView()
        qtbot.addWidget(view)
        view.set_calibrate_context(CalibrateContext(package, settings, None, job_runner, confirm))
        request = CalibrationRequest(package, models, samples=3, budget_usd=1.0, backend="docker")
        view.start_calibration(request)
        qtbot.waitUntil(lambda: "1 of 3 agent runs" in view.summary.text(), timeout=120_000)
        assert view.cancel_button.isVisibleTo(view)
        view.cancel_button.click()
        cancelled.set()
        qtbot.waitUntil(lambda: "Calibration cancelled" in view.summary.text(), timeout=120_000)
        assert "1 finished sample(s) are cached" in view.summary.text()
        assert not (package / ".gauntlet" / "card.json").exists()
        assert "will each run the agent" in asked[0] and "3 agent runs to make" in asked[0]
        before = len(server.requests)
        with qtbot.waitSignal(view.calibrated, timeout=240_000):
            view.start_calibration(request)
        assert "2 agent runs to make (1 cached)" in asked[1]
        assert len(server.requests) - before == 4  # the two missing runs, two turns each
    card = json.loads((package / ".gauntlet" / "card.json").read_text())
    assert card["complete"] and card["per_model"]["openai/right"]["passed"] == 3
    assert card["requests"]["cache_hits"] == 1 and view.table.rowCount() == 1
    assert not view.cancel_button.isVisibleTo(view)
