"""Every bundled template passes `gauntlet verify` on both backends, end to end through the
CLI; the judge template is graded by a scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.fake_llm import ScriptedLLMServer

from app.resources import resource_path

TEMPLATES = sorted(
    p.name for p in resource_path("templates").iterdir() if (p / "env.toml").is_file()
)


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def _scripted_judge(root: Path):
    """Scores a response 1 when it is one of the package's references, else 0, echoing the
    request's nonce as a real judge following our instructions would."""
    references = {
        json.loads(line)["response"].strip()
        for line in (root / "solutions.jsonl").read_text().splitlines()
        if line.strip()
    }

    def reply(request: dict) -> str:
        text = request["messages"][-1]["content"]
        nonce = re.search(r"<<<RESPONSE-([0-9a-f]+)>>>", text).group(1)
        response = text.split(f"<<<RESPONSE-{nonce}>>>\n", 1)[1].split(f"\n<<<END-{nonce}>>>", 1)[0]
        score = 1.0 if response.strip() in references else 0.0
        return json.dumps({"nonce": nonce, "score": score, "reason": "scripted"})

    return reply


@pytest.mark.parametrize("backend", ["process", pytest.param("docker", marks=pytest.mark.docker)])
@pytest.mark.parametrize("template", TEMPLATES)
def test_template_passes_verify(template, backend, tmp_path, request):
    if backend == "docker":
        request.getfixturevalue("docker_backend")  # skips (or fails on CI) without Docker
    root = tmp_path / template
    created = _cli("new", str(root), "--template", template)
    assert created.returncode == 0, created.stderr
    args = ["verify", str(root), "--backend", backend, "--json"]
    if template == "qa-judge":
        with ScriptedLLMServer([], default=_scripted_judge(root)) as llm:
            result = _cli(
                *args, "--llm-api-base", llm.url, env={"GAUNTLET_LLM_API_KEY": "test-key"}
            )
            assert llm.requests, "the judge was never asked"
            # GX212's hint: the key set in GAUNTLET_LLM_API_KEY is the one the judge gets.
            assert set(llm.api_keys) == {"test-key"}
            assert all(
                "test-key" not in json.dumps(r) for r in llm.requests
            )  # key goes in headers only
    else:
        result = _cli(*args)
    report = json.loads(result.stdout)
    if template.startswith("agentic") and backend == "process":
        # an agent needs a container: refused with the reason, never a pass
        verify = next(s for s in report["stages"] if s["name"] == "verify")
        assert result.returncode != 0 and report["verdict"] == "error"
        assert verify["status"] == "error" and "only in Docker" in verify["details"]["reason"]
        return
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert result.returncode == 0 and report["verdict"] == "pass", (result.stderr, errors)
    verify = next(s for s in report["stages"] if s["name"] == "verify")
    assert verify["status"] in ("pass", "warn")
    assert verify["details"]["backend"] == backend
    if backend == "process":
        assert any(f["code"] == "GX211" for f in report["findings"])
