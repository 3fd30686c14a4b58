import json
import os
import subprocess
import sys
import tempfile

HARNESS = """
import json, sys
from solution import {entry}
failed = 0
for case in json.loads(sys.argv[1]):
    try:
        failed += {entry}(*case["args"]) != case["expected"]
    except Exception:
        failed += 1
print(json.dumps({{"failed": failed}}))
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
    lines = [line for line in finished.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return 0.0
    return 1.0 if json.loads(lines[-1]).get("failed", 1) == 0 else 0.0
