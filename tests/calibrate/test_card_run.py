"""`gauntlet calibrate` writes the HTML card next to card.json, with the per-model cost (tokens,
dollars, cache hits) and each task's tags: litellm → the scripted server → the Docker sandbox.
Two personas on the `qa-exact` template: `right` answers every task with its reference, `terse`
with 7 completion tokens of a known-wrong answer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support.fake_llm import ScriptedLLMServer
from support.services import docker_available, need, sandbox_image_available

from app.cli import main
from app.resources import resource_path

pytestmark = [pytest.mark.docker]
TEMPLATE = resource_path("templates", "qa-exact")


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_calibrate_writes_the_html_card_with_costs_per_model_and_tags(tmp_path, monkeypatch):
    need("docker sandbox", docker_available() and sandbox_image_available(), "needs Docker")
    monkeypatch.setenv("GAUNTLET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GAUNTLET_LLM_API_KEY", "test-key")
    package = Path(shutil.copytree(TEMPLATE, tmp_path / "pack"))
    tasks = _jsonl(package / "tasks.jsonl")
    tasks[0]["tags"] = ["acids", "<b>bold</b>"]  # tags are kept in the record, shown as text
    (package / "tasks.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tasks))
    prompts = {t["prompt"]: t["id"] for t in tasks}
    right = {s["task_id"]: s["response"] for s in _jsonl(package / "solutions.jsonl")}
    wrong = {n["task_id"]: n["response"] for n in _jsonl(package / "negatives.jsonl")}

    def persona(request: dict) -> dict:
        task = prompts[request["messages"][-1]["content"]]
        if request["model"] == "right":
            return {"content": right[task], "prompt_tokens": 20, "completion_tokens": 3}
        return {"content": wrong[task], "prompt_tokens": 20, "completion_tokens": 7}

    _known_bounty(package)
    argv = ["calibrate", str(package), "--model", "openai/right", "--model", "openai/terse"]
    with ScriptedLLMServer([persona]) as server:
        argv += ["--samples", "2", "--llm-api-base", server.url, "--backend", "docker"]
        assert main(argv) == 0
        assert main(argv) == 0  # the second run is served from the cache
    card = json.loads((package / ".gauntlet" / "card.json").read_text())
    n = len(tasks) * 2
    assert card["cost"]["per_model"] == {
        "openai/right": {"samples": n, "cache_hits": n, "prompt_tokens": 20 * n,
                         "completion_tokens": 3 * n, "usd": 0.0, "spent_usd": 0.0},
        "openai/terse": {"samples": n, "cache_hits": n, "prompt_tokens": 20 * n,
                         "completion_tokens": 7 * n, "usd": 0.0, "spent_usd": 0.0},
    }  # fmt: skip
    by_id = {t["id"]: t for t in card["tasks"]}
    assert by_id[tasks[0]["id"]]["tags"] == ["acids", "<b>bold</b>"]
    assert by_id[tasks[1]["id"]]["tags"] == []
    assert [r["status"] for r in card["targets"]["results"]] == ["met", "not met", "not measurable"]
    assert card["targets"]["bounty"] == "b_cal"
    page = (package / ".gauntlet" / "card.html").read_text(encoding="utf-8")
    assert "Bounty targets (1 of 3 met)" in page
    assert "Pack card:" in page and page.count("<svg") == 4
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page
    assert f"{n:,} in all" not in page  # 2 models: the total is 2n
    assert f"{2 * n} in all: 0 made by this run, {2 * n} from the cache" in page


def _known_bounty(package: Path) -> None:
    """The package names bounty b_cal, whose targets the local copy of the platform holds."""
    from app.sync.platform import current_store_path
    from app.sync.store import LocalStore

    manifest = package / "env.toml"
    manifest.write_text(
        manifest.read_text().replace("[package]\n", '[package]\nbounty = "b_cal"\n', 1)
    )
    targets = [
        {"metric": "pass_rate", "comparator": ">=", "value": 1.0, "model": "openai/right"},
        {"metric": "signal_share", "comparator": ">=", "value": 0.5},
        {"metric": "pass_rate", "comparator": ">", "value": 0.1, "model": "lab/reference"},
    ]
    bounty = {"id": "b_cal", "title": "Calibrated", "domain": "chemistry", "status": "open",
              "reward": 10, "currency": "USD", "deadline": "2099-01-01T00:00:00Z",
              "calibration_targets": targets}  # fmt: skip
    path = current_store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with LocalStore(path) as store:
        assert store.bounties.upsert([bounty]) == 1
