"""Pack cards (`gauntlet-card/1`) shaped as `gauntlet calibrate` writes them, with known numbers:
three personas (always right, right on the first half of the tasks, always wrong), tasks with
tags, failing samples (one reply holds markup that must be escaped), and optional fitted
item-response numbers."""

from __future__ import annotations

import copy
from typing import Any

MODELS = ["openai/oracle", "openai/half", "openai/wrong"]
HOSTILE_REPLY = "<script>alert('x')</script> the answer is 42"


def _stats(passed: int, samples: int = 4) -> dict[str, Any]:
    rate = passed / samples
    return {
        "samples": samples,
        "passed": passed,
        "pass_at_1": rate,
        "pass_at_1_ci95": [max(0.0, rate - 0.3), min(1.0, rate + 0.3)],
        "k": samples,
        "pass_at_k": 1.0 if passed else 0.0,
    }


def _task(index: int, tasks: int) -> dict[str, Any]:
    half = 4 if index < tasks // 2 else (2 if index % 3 == 0 else 0)
    per_model = {"openai/oracle": _stats(4), "openai/half": _stats(half), "openai/wrong": _stats(0)}
    failures = [
        {
            "model": "openai/wrong",
            "sample": 0,
            "response": HOSTILE_REPLY if index == 0 else f"wrong answer {index}",
            "reward": 0.0,
            "feedback": f"expected {index}, got 42",
            "error": "",
            "format_failure": index % 4 == 1,
        }
    ]
    return {
        "id": f"task-{index:02d}",
        "tags": ["algebra"] if index % 2 == 0 else ["geometry", "proof"],
        "per_model": per_model,
        "complete": True,
        "signal": half == 2,
        "reference_passes": True,
        "failures": failures,
        "failures_total": 4 + (4 - half),
        "format_failures": 0,
    }


def sample_card(tasks: int = 12, *, fitted: bool = False) -> dict[str, Any]:
    entries = [_task(i, tasks) for i in range(tasks)]
    with_signal = sum(t["signal"] for t in entries)
    card: dict[str, Any] = {
        "schema": "gauntlet-card/1",
        "package": {
            "name": "geometry-qa",
            "version": "0.1.0",
            "kind": "qa",
            "grader": "match",
            "tasks": tasks,
        },
        "started": "2026-12-06T02:00:00+00:00",
        "finished": "2026-12-06T02:04:10+00:00",
        "models": list(MODELS),
        "sampling": {"samples_per_task": 4, "temperature": 1.0, "max_tokens": 256},
        "requests": {
            "total": tasks * 12,
            "made": tasks * 4,
            "cache_hits": tasks * 8,
            "not_sampled": 0,
            "rate_limit_retries": 0,
        },
        "cost": {
            "spent_usd": 0.0123,
            "budget_usd": 5.0,
            "stopped_by_budget": False,
            "unpriced_models": ["openai/wrong"],
            "per_model": {
                m: {
                    "samples": tasks * 4,
                    "cache_hits": tasks * 4 if m != "openai/wrong" else 0,
                    "prompt_tokens": tasks * 4 * 30,
                    "completion_tokens": tasks * 4 * (5 + 10 * i),
                    "usd": 0.0 if m == "openai/wrong" else 0.01 * (i + 1),
                    "spent_usd": 0.0,
                }
                for i, m in enumerate(MODELS)
            },
        },
        "grading": {"backend": "docker", "weak_backend": False, "stopped": None},
        "complete": True,
        "per_model": {
            "openai/oracle": _stats(4 * tasks, 4 * tasks),
            "openai/half": _stats(
                sum(t["per_model"]["openai/half"]["passed"] for t in entries), 4 * tasks
            ),
            "openai/wrong": _stats(0, 4 * tasks),
        },
        "signal_share": with_signal / tasks,
        "tasks_complete": tasks,
        "tasks_with_signal": with_signal,
        "difficulty": {"fitted": False, "reason": "a fit needs 3 or more models"},
        "format_checked": True,
        "tasks": entries,
        "findings": [
            {
                "code": "GX403",
                "severity": "warning",
                "stage": "calibrate",
                "message": "task 'task-01': 3 of 4 failing samples were not in the form",
                "hint": "Say the form in the prompt.",
                "task_id": "task-01",
            }
        ],
    }
    if fitted:
        card["difficulty"] = {
            "fitted": True,
            "model": "2PL",
            "tasks": {t["id"]: {"difficulty": -1.0 + 0.25 * i, "discrimination": 1.5}
                      for i, t in enumerate(entries)},
            "ability": {"openai/oracle": 2.0, "openai/half": 0.1, "openai/wrong": -2.0},
        }  # fmt: skip
    return copy.deepcopy(card)
