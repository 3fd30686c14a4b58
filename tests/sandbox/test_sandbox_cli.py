"""`gauntlet sandbox image` and `gauntlet sandbox doctor`, and reward interpretation."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from app.sandbox.rewards import interpret


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.docker
def test_image_if_missing_is_idempotent(docker_backend):
    result = _cli("sandbox", "image", "--from-debian", "--if-missing")
    assert result.returncode == 0, result.stderr
    assert "already present" in result.stdout


@pytest.mark.docker
def test_doctor_reports_a_usable_sandbox(docker_backend):
    result = _cli("sandbox", "doctor", "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 0 and data["usable"], data
    names = {c["name"]: c for c in data["checks"]}
    assert names["sandbox limits work"]["ok"], names["sandbox limits work"]
    assert names["sandbox image present"]["ok"]


def test_doctor_explains_an_unreachable_engine():
    result = _cli("sandbox", "doctor", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert result.returncode == 2
    assert "FAIL" in result.stdout and "fix:" in result.stdout
    assert "--backend process" in result.stdout


def test_verify_without_any_backend_exits_2_with_advice(tmp_path):
    from support.sandbox_packages import write_pack

    root = write_pack(
        tmp_path / "p",
        grader='type = "match"\nmode = "exact"',
        tasks=[{"id": "t", "prompt": "p", "answer": "a"}],
        solutions=[{"task_id": "t", "response": "a"}],
    )
    result = _cli(
        "verify",
        str(root),
        "--backend",
        "docker",
        env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"},
    )
    assert result.returncode == 2
    assert "GX200" in result.stdout and "hint" in result.stdout


@pytest.mark.parametrize(
    ("raw", "reward", "error"),
    [
        (1.0, 1.0, None),
        (0, 0.0, None),
        ({"reward": 0.5, "metrics": {"a": 1}, "feedback": "f"}, 0.5, None),
        ({"$type": "numpy.float64", "$repr": "np.float64(1.0)", "$value": 1.0}, 1.0, None),
        (
            {"$type": "mod.LyingFloat", "$repr": "<LyingFloat>", "$value": 1.0},
            None,
            "invalid-reward",
        ),
        (float("nan"), None, "invalid-reward"),
        (math.inf, None, "invalid-reward"),
        (True, None, "invalid-reward"),
        (1.5, None, "invalid-reward"),
        ("1.0", None, "invalid-reward"),
        (None, None, "invalid-reward"),
        ({"metrics": {}}, None, "invalid-reward"),
        ({"reward": 1.0, "metrics": [1]}, None, "invalid-reward"),
    ],
)
def test_reward_interpretation(raw, reward, error):
    verdict = interpret(raw, (0.0, 1.0))
    assert verdict.reward == reward and verdict.error == error
    if error:
        assert verdict.detail
