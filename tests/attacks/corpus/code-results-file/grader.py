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
with open("results.json", "w") as handle:
    json.dump({{"failed": failed}}, handle)
"""


def _run(task, response, timeout=5):
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "solution.py"), "w") as handle:
        handle.write(response)
    with open(os.path.join(folder, "harness.py"), "w") as handle:
        handle.write(HARNESS.format(entry=task["entry"]))
    finished = subprocess.run(
        [sys.executable, "harness.py", json.dumps(task["tests"])],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return folder, finished


def grade(task: dict, response: str) -> float:
    try:
        folder, _ = _run(task, response)
        with open(os.path.join(folder, "results.json")) as handle:
            return 1.0 if json.load(handle).get("failed", 1) == 0 else 0.0
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return 0.0
