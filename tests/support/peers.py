"""The real peer packages (verifiers, harbor, inspect-ai) the interop tests run, each in its own
venv made by .ci/setup-peers, and Gauntlet Studio's own rewards to compare them with."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from app.envpack.model import EnvPack
from app.sandbox.backends import get_backend
from app.sandbox.base import GradingItem
from support.services import need

PEERS_DIR = Path(__file__).parents[2] / ".ci" / "peers"


def peer_python(name: str) -> Path:
    """The python of the peer venv `name` (verifiers, harbor, inspect); skips, or fails on CI,
    when .ci/setup-peers has not made it."""
    variable = f"GAUNTLET_PEER_{name.upper()}_PYTHON"
    path = os.environ.get(variable, "")
    need(
        f"{name} peer venv",
        bool(path) and Path(path).is_file(),
        f'set {variable} (eval "$(.ci/setup-peers)"; ./run-tests does it)',
    )
    return Path(path)


def pinned_version(name: str, package: str) -> str:
    lines = (PEERS_DIR / f"{name}.txt").read_text().splitlines()
    (line,) = [x for x in lines if x.startswith(f"{package}==")]
    return line.split("==")[1].split()[0]


def run_probe(python: Path, probe: Path, request: dict, cwd: Path, timeout: float = 300) -> dict:
    """Run `probe` with the peer's python, `request` as JSON on stdin; its last line, parsed."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)  # only the peer's own packages (and the exports)
    done = subprocess.run(
        [str(python), str(probe)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def cases_of(pack: EnvPack) -> list[dict]:
    """Every reference and negative of `pack`, and an empty reply to its first task."""
    cases = [{"task_id": r.task_id, "response": r.response} for r in pack.solutions]
    cases += [{"task_id": n.task_id, "response": n.response} for n in pack.negatives]
    cases.append({"task_id": pack.tasks[0].id, "response": ""})
    return cases


def gauntlet_rewards(pack: EnvPack, cases: list[dict]) -> list[float | None]:
    """Gauntlet Studio's own reward for each case: the funnel's grading path (the sandbox
    runner's graders; the process backend, as the package is ours)."""
    items = [
        GradingItem(key=str(i), task=pack.task(c["task_id"]).record, response=c["response"])
        for i, c in enumerate(cases)
    ]
    results = {r.key: r for r in get_backend("process", own_package=True).grade_batch(pack, items)}
    return [results[str(i)].reward for i in range(len(cases))]


def gauntlet_grading(pack: EnvPack, cases: list[dict]) -> list[tuple[float, dict]]:
    """Gauntlet's own (reward, or the floor when the grading failed; {criterion: score}) for
    each case, as `gauntlet_rewards` grades them (rubric packages keep each criterion)."""
    from app.sandbox.rubric import criterion_scores

    items = [
        GradingItem(key=str(i), task=pack.task(c["task_id"]).record, response=c["response"])
        for i, c in enumerate(cases)
    ]
    results = {r.key: r for r in get_backend("process", own_package=True).grade_batch(pack, items)}
    low = pack.grader.reward_range[0]
    graded = []
    for i in range(len(cases)):
        result = results[str(i)]
        reward = result.reward if result.reward is not None else low
        graded.append((reward, criterion_scores(result)))
    return graded
