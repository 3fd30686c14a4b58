"""Run by the harbor peer venv's python (the real harbor), never by pytest. For each exported
task set: harbor's own dataset loader (what `harbor run -p <set>` uses) finds the task folders
and harbor's `Task` loads each (task.toml through its TaskConfig, instruction, solve and test
scripts). For each case it then grades the response as the verifier would, with no container:
the task's tests/verify.py (what tests/test.sh runs) writes the reward files into a trial's
verifier folder and harbor's own `Verifier` parses them. The oracle's answer is decoded from
solution/solve.sh. Containers (harbor's docker environment) are not started.

    python peer_harbor_probe.py < {"sets": [{"folder", "cases": [{"task", "response"}]}],
        "work"}
prints {"version", "sets": [{"tasks": {folder name: {...}}, "rewards": [...], "reward_files":
[{every key harbor parsed}], "oracle": {...}}]}.
"""

import asyncio
import base64
import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from harbor.models.job.config import DatasetConfig
from harbor.models.task.task import Task
from harbor.models.trial.paths import TrialPaths
from harbor.models.verifier.result import VerifierResult
from harbor.verifier.verifier import Verifier

_ENCODED = re.compile(r"b64decode\(sys\.argv\[1\]\)\)' (?P<data>[A-Za-z0-9+/=]*) >")


def describe(task):
    paths = task.paths
    return {
        "name": task.name,
        "instruction": task.instruction,
        "verifier_timeout": task.config.verifier.timeout_sec,
        "agent_timeout": task.config.agent.timeout_sec,
        "solve": paths.discovered_solve_path.name if paths.discovered_solve_path else None,
        "test": paths.discovered_test_path.name if paths.discovered_test_path else None,
        "dockerfile": (paths.environment_dir / "Dockerfile").is_file(),
        "metadata": task.config.metadata,
    }


def reward(folder, response, work):
    """The reward harbor's verifier would record for `response` in task `folder`."""
    work.mkdir(parents=True)
    answer = work / "answer"
    answer.write_text(response, encoding="utf-8")
    trial = TrialPaths(work / "trial")
    trial.verifier_dir.mkdir(parents=True)
    verify = folder / "tests" / "verify.py"
    args = ["--answer", str(answer), "--logs", str(trial.verifier_dir)]
    subprocess.run([sys.executable, str(verify), *args], check=True, capture_output=True)
    # the parsing step of Verifier.verify(), on the files the container would hand back
    rewards = Verifier._parse_reward_json(SimpleNamespace(trial_paths=trial))
    return VerifierResult(rewards=rewards).rewards


def oracle_answer(folder):
    match = _ENCODED.search((folder / "solution" / "solve.sh").read_text())
    return base64.b64decode(match.group("data")).decode("utf-8") if match else None


def probe_set(spec, work):
    folder = Path(spec["folder"])
    configs = asyncio.run(DatasetConfig(path=folder).get_task_configs())
    tasks = {Path(c.path).name: describe(Task(c.path)) for c in configs}
    files = [
        reward(folder / case["task"], case["response"], work / f"case-{i}")
        for i, case in enumerate(spec["cases"])
    ]
    oracle = {}
    for i, name in enumerate(sorted(tasks) if spec["cases"] else []):
        answer = oracle_answer(folder / name)
        graded = None if answer is None else reward(folder / name, answer, work / f"o-{i}")
        oracle[name] = None if graded is None else graded["reward"]
    rewards = [graded["reward"] for graded in files]
    return {"tasks": tasks, "rewards": rewards, "reward_files": files, "oracle": oracle}


if __name__ == "__main__":
    request = json.load(sys.stdin)
    work = Path(request["work"])
    result = {
        "version": importlib.metadata.version("harbor"),
        "sets": [probe_set(s, work / f"set-{i}") for i, s in enumerate(request["sets"])],
    }
    print(json.dumps(result, default=str))
