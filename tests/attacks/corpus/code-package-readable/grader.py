import json
import os
import secrets
import subprocess
import sys
import tempfile

HARNESS = """
import json, sys
from solution import {entry}
marker, calls = sys.argv[1], json.loads(sys.argv[2])
print(marker + json.dumps([{entry}(*args) for args in calls]))
"""


def _outputs(task, response, env=None):
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "solution.py"), "w") as handle:
        handle.write(response)
    with open(os.path.join(folder, "harness.py"), "w") as handle:
        handle.write(HARNESS.format(entry=task["entry"]))
    marker = secrets.token_hex(8) + ":"
    calls = json.dumps([case["args"] for case in task["tests"]])
    finished = subprocess.run(
        [sys.executable, "harness.py", marker, calls],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=5,
    )
    lines = [line for line in finished.stdout.splitlines() if line.startswith(marker)]
    return json.loads(lines[-1][len(marker) :]) if len(lines) == 1 else None


def _score(task, outputs):
    if not isinstance(outputs, list) or len(outputs) != len(task["tests"]):
        return 0.0
    passed = sum(
        type(got) is type(case["expected"]) and got == case["expected"]
        for got, case in zip(outputs, task["tests"], strict=True)
    )
    return passed / len(task["tests"])


def grade(task: dict, response: str) -> float:
    try:
        return _score(task, _outputs(task, response, env=dict(os.environ, PACKAGE_DIR=os.getcwd())))
    except (subprocess.TimeoutExpired, ValueError):
        return 0.0
