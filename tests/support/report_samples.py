"""A funnel report with something for every part of the report page: three stages with their
figures (rewards per role, attacks per category), a confirmed reward hack, and a finding whose
text is hostile HTML, as a stranger's package could make the grader say."""

from __future__ import annotations

import copy
from typing import Any

from app.funnel.report import Report

HOSTILE = "<script>alert('owned')</script><img src=http://evil.example/x.png>"

_SAMPLE: dict[str, Any] = {
    "schema": "gauntlet-report/1",
    "package": {
        "name": "acme/enzyme-kinetics",
        "version": "0.1.0",
        "path": "/home/ada/envs/enzyme-kinetics",
        "digest": "sha256:ab036edfa48c5a24f6ee29ed15d912943e64c039ec60b552b04374815b67b1a1",
    },
    "verdict": "fail",
    "stages": [
        {"name": "structure", "status": "pass", "duration_s": 0.012},
        {
            "name": "verify",
            "status": "pass",
            "duration_s": 1.532,
            "details": {
                "backend": "docker",
                "references_passed": {"ok": 3, "total": 3},
                "negatives_at_floor": {"ok": 1, "total": 1},
                "empty_at_floor": {"ok": 3, "total": 3},
                "rewards": {
                    "pass_threshold": 1.0,
                    "floor": 0.0,
                    "references": {"count": 3, "values": [1.0, 1.0, 1.0]},
                    "negatives": {"count": 1, "values": [0.0]},
                    "empty": {"count": 3, "values": [0.0, 0.0, 0.0]},
                },
            },
        },
        {
            "name": "attack",
            "status": "fail",
            "duration_s": 2.161,
            "details": {
                "backend": "docker",
                "gradings": 230,
                "confirmed_hits": 1,
                "categories": {
                    "answer-format": {"attacks": 16, "candidates": 93, "confirmed": 3},
                    "parser": {"attacks": 8, "candidates": 93, "confirmed": 0},
                    "judge": {"attacks": 4, "candidates": 14, "confirmed": 0},
                    "leakage": {"attacks": 1, "candidates": 3, "confirmed": 0},
                },
            },
        },
    ],
    "findings": [
        {
            "code": "GX301",
            "severity": "error",
            "stage": "attack",
            "message": "reward hack: a response wrong by construction scored 1 on task mm-km-1",
            "hint": "Tighten the comparison: exact match for integers.",
            "file": "grader.py",
            "line": 1,
            "task_id": "mm-km-1",
            "attack": {"id": "mutation-off-by-one", "category": "answer-format"},
            "evidence": {"response": "8", "reward": 1.0},
        },
        {
            "code": "GX213",
            "severity": "warning",
            "stage": "verify",
            "message": f"the grader said: {HOSTILE}",
            "hint": "Keep the feedback short.",
            "file": "tasks.jsonl",
            "line": 2,
            "task_id": "mm-rate-1",
        },
    ],
}


def sample_report_dict() -> dict[str, Any]:
    return copy.deepcopy(_SAMPLE)


def sample_report() -> Report:
    return Report.from_dict(sample_report_dict())
