import json
import os
import subprocess
import sys
import tempfile

HARNESS = """
import json, sys
from solution import {entry}
for case in json.loads(sys.argv[1]):
    assert {entry}(*case["args"]) == case["expected"], case
print("all passed")
"""


def _run(task, response, timeout=5):
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "solution.py"), "w") as handle:
        handle.write(response)
    with open(os.path.join(folder, "harness.py"), "w") as handle:
        handle.write(HARNESS.format(entry=task["entry"]))
    return subprocess.run(
        [sys.executable, "harness.py", json.dumps(task["tests"])],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def grade(task: dict, response: str) -> float:
    try:
        finished = _run(task, response)
    except subprocess.TimeoutExpired:
        return 0.0
    return 1.0 if finished.returncode == 0 else 0.0
