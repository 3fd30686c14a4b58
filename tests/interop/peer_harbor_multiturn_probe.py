"""Run by the harbor peer venv's python (the real harbor), never by pytest, on an exported
multi-turn task set: harbor's own dataset loader finds the task folders and harbor's `Task`
loads each; each case's conversation is written where the agent writes it and graded by the
task's tests/verify.py (what tests/test.sh runs) into a trial's verifier folder, parsed by
harbor's own `Verifier`; the oracle's conversation is decoded from solution/solve.sh and
graded likewise. The agent's tool command (environment/gauntlet/tool.py) is run on a copy for
each reference's tool calls. No container is started.

    python peer_harbor_multiturn_probe.py < {"folder", "cases": [{"task", "turns"}], "work"}
prints {"version", "tasks": {folder: {...}}, "rewards": [...], "oracle": {...},
"tool_outputs": {folder: [printed results]}}.
"""

import asyncio
import base64
import importlib.metadata
import json
import re
import shutil
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


def reward(folder, text, work):
    work.mkdir(parents=True)
    trajectory = work / "trajectory.json"
    trajectory.write_text(text, encoding="utf-8")
    trial = TrialPaths(work / "trial")
    trial.verifier_dir.mkdir(parents=True)
    args = ["--trajectory", str(trajectory), "--logs", str(trial.verifier_dir)]
    subprocess.run(
        [sys.executable, str(folder / "tests" / "verify.py"), *args],
        check=True,
        capture_output=True,
    )
    rewards = Verifier._parse_reward_json(SimpleNamespace(trial_paths=trial))
    return VerifierResult(rewards=rewards).rewards["reward"]


def tool_outputs(folder, turns, work):
    """The agent's tool command on a copy of the task's tools: each call's printed result."""
    tools = work / "gauntlet"
    shutil.copytree(folder / "environment" / "gauntlet", tools)
    printed = []
    for turn in turns:
        for call in turn.get("tool_calls") or []:
            function = call["function"]
            done = subprocess.run(
                [sys.executable, str(tools / "tool.py"), function["name"], function["arguments"]],
                check=True,
                capture_output=True,
                text=True,
            )
            printed.append(done.stdout.rstrip("\n"))
    return printed


def main(request):
    folder, work = Path(request["folder"]), Path(request["work"])
    configs = asyncio.run(DatasetConfig(path=folder).get_task_configs())
    tasks = {}
    for config in configs:
        task = Task(config.path)
        tasks[Path(config.path).name] = {
            "name": task.name,
            "instruction": task.instruction,
            "solve": task.paths.discovered_solve_path.name,
            "test": task.paths.discovered_test_path.name,
            "metadata": task.config.metadata,
        }
    cases = request["cases"]
    rewards = [
        reward(folder / c["task"], json.dumps({"turns": c["turns"]}), work / f"case-{i}")
        for i, c in enumerate(cases)
    ]
    oracle, outputs = {}, {}
    for i, name in enumerate(sorted(tasks)):
        match = _ENCODED.search((folder / name / "solution" / "solve.sh").read_text())
        answer = base64.b64decode(match.group("data")).decode("utf-8")
        oracle[name] = reward(folder / name, answer, work / f"oracle-{i}")
        turns = json.loads(answer)["turns"]
        outputs[name] = tool_outputs(folder / name, turns, work / f"tools-{i}")
    return {
        "version": importlib.metadata.version("harbor"),
        "tasks": tasks,
        "rewards": rewards,
        "oracle": oracle,
        "tool_outputs": outputs,
    }


if __name__ == "__main__":
    print(json.dumps(main(json.load(sys.stdin)), default=str))
