"""Calibrating a multi-turn package from the app: the same Calibration as the CLI plays each
conversation (scripted OpenAI-compatible server, Docker sandbox); the cost confirmation shows the
upper-bound estimate, and "Why did this fail?" shows the conversation and each criterion."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support.fake_llm import ScriptedLLMServer
from support.services import docker_available, need, sandbox_image_available

from app.resources import resource_path
from app.ui.app_settings import AppSettings
from app.ui.funnel.calibration_run import CalibrationRequest
from app.ui.funnel.calibration_view import CalibrateContext, CalibrationView, why_html

pytestmark = [pytest.mark.docker]


def test_a_multi_turn_package_is_calibrated_from_the_app(qtbot, tmp_path, monkeypatch, job_runner):
    need("docker sandbox", docker_available() and sandbox_image_available(), "needs Docker")
    monkeypatch.setenv("GAUNTLET_HOME", str(tmp_path / "home"))  # a fresh completion cache
    package = Path(shutil.copytree(resource_path("templates", "mt-analyst"), tmp_path / "pack"))
    lines = (package / "tasks.jsonl").read_text().splitlines()
    tasks = {t["prompt"]: t for t in (json.loads(line) for line in lines if line.strip())}

    def persona(request: dict) -> dict:
        task = tasks[next(m["content"] for m in request["messages"] if m["role"] == "user")]
        if request["model"] == "careful" and request["messages"][-1]["role"] == "user":
            return {
                "tool_calls": [{"name": "query_orders", "arguments": {"region": task["region"]}}]
            }
        return {"content": f"Answer: {task['answer']:.2f}"}

    asked: list[str] = []

    def confirm(_parent, _title: str, text: str) -> bool:
        asked.append(text)
        return True

    with ScriptedLLMServer([persona]) as server:
        settings = AppSettings(tmp_path / "app.ini")
        models = [{"model": f"openai/{m}", "api_base": server.url} for m in ("careful", "hasty")]
        settings.set_llm_models(models)
        settings.sandbox_backend = "docker"
        view = CalibrationView()
        qtbot.addWidget(view)
        view.set_calibrate_context(CalibrateContext(package, settings, None, job_runner, confirm))
        request = CalibrationRequest(package, models, samples=1, budget_usd=1.0, backend="docker")
        with qtbot.waitSignal(view.calibrated, timeout=240_000):
            view.start_calibration(request)
        assert len(server.requests) == 4 * 2 + 4
    assert "8 conversations to play" in asked[0] and "upper bound" in asked[0]
    assert view.card["per_model"]["openai/careful"]["pass_at_1"] == 1.0
    assert view.card["per_model"]["openai/hasty"]["pass_at_1"] == 0.0
    row = next(r for r in view.rows if r.id == "north-march")
    shown = why_html(row)
    assert "assistant: Answer: 200.00" in shown and "used-the-data 0.00" in shown
