"""The built-in `tests` grader for code: the submission runs in its own process, its outputs
come back as JSON behind a random sentinel, and the trusted side compares type-strictly.
Every trick a cheating submission can play scores the floor."""

from __future__ import annotations

import pytest
from support.sandbox_packages import load, write_pack

from app.sandbox.base import GradingItem

TASK = {
    "id": "add",
    "prompt": "Write add(a, b) returning the sum of two integers.",
    "entry": "add",
    "tests": [
        {"args": [1, 2], "expected": 3},
        {"args": [-5, 5], "expected": 0},
        {"args": [10, 20], "expected": 30},
    ],
}
GOOD = "def add(a, b):\n    return a + b\n"

CHEATS = {
    "wrong": "def add(a, b):\n    return a - b\n",
    "float-not-int": "def add(a, b):\n    return float(a + b)\n",
    "string": "def add(a, b):\n    return str(a + b)\n",
    "eq-always-true": (
        "class Yes:\n    def __eq__(self, other):\n"
        "        return True\n    __hash__ = object.__hash__\n"
        "def add(a, b):\n    return Yes()\n"
    ),
    "int-subclass-eq": (
        "class Int(int):\n    def __eq__(self, other):\n"
        "        return True\n    __hash__ = int.__hash__\n"
        "def add(a, b):\n    return Int(12345)\n"
    ),
    "sys-exit-at-import": "import sys\nsys.exit(0)\n",
    "os-exit-in-call": "import os\ndef add(a, b):\n    os._exit(0)\n",
    "skip-test": "import unittest\ndef add(a, b):\n    raise unittest.SkipTest('skip')\n",
    "not-implemented": "def add(a, b):\n    raise NotImplementedError\n",
    "magic-string": "print('all tests passed')\nprint('OK')\ndef add(a, b):\n    return None\n",
    "forged-sentinel": (
        "import sys, json, gc\n"
        "for obj in gc.get_objects():\n"
        "    if isinstance(obj, dict) and isinstance(obj.get('sentinel'), str):\n"
        "        outputs = [{'ok': True, 'json': '3'}, {'ok': True, 'json': '0'}, "
        "{'ok': True, 'json': '30'}]\n"
        "        print('\\n' + obj['sentinel'] + json.dumps({'outputs': outputs}), flush=True)\n"
        "def add(a, b):\n    return -1\n"
    ),
    "patch-json": "import json\njson.dumps = lambda *a, **k: '3'\ndef add(a, b):\n    return -1\n",
    "read-expected-from-package": (
        "import json\n"
        "def add(a, b):\n"
        "    for line in open('/pack/tasks.jsonl'):\n"
        "        for t in json.loads(line)['tests']:\n"
        "            if t['args'] == [a, b]:\n"
        "                return t['expected']\n"
    ),
    "caller-frames": (
        "import sys\n"
        "def add(a, b):\n"
        "    f = sys._getframe(1)\n"
        "    while f:\n"
        "        for v in f.f_locals.values():\n"
        "            if isinstance(v, dict) and 'expected' in v:\n"
        "                return v['expected']\n"
        "        f = f.f_back\n"
        "    return None\n"
    ),
    "infinite-loop": "def add(a, b):\n    while True:\n        pass\n",
    "output-flood": "def add(a, b):\n    while True:\n        print('x' * 65536)\n",
    "kill-parent": (
        "import os, signal\ndef add(a, b):\n"
        "    os.kill(os.getppid(), signal.SIGKILL)\n    return a + b\n"
    ),
    "syntax-error": "def add(a, b) return a + b\n",
    "nan": "def add(a, b):\n    return float('nan')\n",
    "empty": "",
}


@pytest.fixture(scope="module")
def code_pack(tmp_path_factory):
    root = write_pack(
        tmp_path_factory.mktemp("code") / "pack",
        kind="code",
        grader='type = "tests"\nreward_range = [0.0, 1.0]\npass_threshold = 1.0\ntimeout_s = 4',
        tasks=[TASK],
        solutions=[{"task_id": "add", "response": GOOD}],
        negatives=[{"task_id": "add", "response": CHEATS["wrong"]}],
    )
    return load(root)


@pytest.mark.docker
def test_cheating_submissions_score_the_floor_in_docker(docker_backend, code_pack):
    items = [GradingItem("good", TASK, GOOD)] + [
        GradingItem(name, TASK, source) for name, source in CHEATS.items()
    ]
    results = {r.key: r for r in docker_backend.grade_batch(code_pack, items)}
    assert results["good"].reward == 1.0, results["good"]
    for name in CHEATS:
        result = results[name]
        if name == "kill-parent":  # killing the trusted side is a crash: scored as the floor
            assert result.error == "crash" and "submission" in result.detail, result
            continue
        assert result.error is None, (name, result.error, result.detail)
        assert result.reward == 0.0, (name, result.reward, result.feedback)
        assert result.feedback, name  # says why, in words
    assert "did not finish" in results["infinite-loop"].feedback
    assert "too much output" in results["output-flood"].feedback


def test_cheating_submissions_score_the_floor_with_the_process_backend(process_backend, code_pack):
    names = [
        "eq-always-true",
        "sys-exit-at-import",
        "os-exit-in-call",
        "forged-sentinel",
        "patch-json",
        "caller-frames",
        "float-not-int",
    ]
    items = [GradingItem("good", TASK, GOOD)] + [GradingItem(n, TASK, CHEATS[n]) for n in names]
    results = {r.key: r for r in process_backend.grade_batch(code_pack, items)}
    assert results["good"].reward == 1.0
    for name in names:
        assert results[name].reward == 0.0, (name, results[name])


def test_partial_credit_is_the_share_of_tests_passed(process_backend, code_pack):
    half = "def add(a, b):\n    return 3 if (a, b) == (1, 2) else 0\n"
    [result] = process_backend.grade_batch(code_pack, [GradingItem("partial", TASK, half)])
    assert result.reward == pytest.approx(2 / 3)  # (1,2)->3 and (-5,5)->0 pass
    assert result.metrics == {"passed": 2, "total": 3}
