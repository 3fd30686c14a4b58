"""Stage 3 for agentic packages (the cheating agents), against the real Docker sandbox.

Prints:
- on the agentic corpus (tests/attacks/agentic_corpus): recall (vulnerable tasks flagged with
  their planted code), false alarms (robust tasks flagged at all) and time per task;
- for a generated 10-task package on a warm image cache: the whole funnel's time (budget
  <= 180 s on 2 cores), and stage 3's time against the baseline measured in the same run: the
  same cheating agents, each in fresh containers (a new `docker run` per agent, no reuse).

    .venv/bin/python bench/agentic_recall.py [--skip-corpus] [--skip-budget] [--tasks 10]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.envpack.loader import load_envpack  # noqa: E402
from app.findings import Stage  # noqa: E402
from app.funnel.agentic_attack import (  # noqa: E402
    AGENTS,
    agent_script,
    run_agentic_attack_stage,
    script_limits,
)
from app.funnel.agentic_verify import task_image  # noqa: E402
from app.funnel.pipeline import FunnelOptions, run_funnel  # noqa: E402
from app.sandbox.agentic_run import run_episode  # noqa: E402

CORPUS = ROOT / "tests" / "attacks" / "agentic_corpus"
BUDGET_S = 180.0
OPTIONS = FunnelOptions(own_package=True)


def corpus() -> None:
    expect = tomllib.loads((CORPUS / "expect.toml").read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {}
    seconds: dict[str, float] = {}
    for name in ("vulnerable-separate", "vulnerable-shared", "robust"):
        pack = load_envpack(CORPUS / name).pack
        started = time.perf_counter()
        result, findings = run_agentic_attack_stage(pack, OPTIONS)
        print(f"  {name}: {len(pack.agentic_tasks)} tasks in {time.perf_counter() - started:.1f} s")
        seconds.update(result.details["seconds_per_task"])
        for finding in findings:
            found.setdefault(finding.task_id or "", set()).add(finding.code)
    vulnerable = expect["vulnerable"]
    flagged = [t for t, e in vulnerable.items() if e["code"] in found.get(t, ())]
    robust = expect["robust"]["tasks"]
    alarms = [t for t in robust if found.get(t)]
    for task_id, entry in vulnerable.items():
        mark = "flagged" if task_id in flagged else "MISSED "
        codes = ", ".join(sorted(found.get(task_id, ()))) or "-"
        print(f"  {mark} {task_id:26} planted {entry['code']}  found {codes}")
    for task_id in robust:
        mark = "FALSE ALARM" if task_id in alarms else "clean      "
        print(f"  {mark} {task_id:26} {', '.join(sorted(found.get(task_id, ()))) or '-'}")
    per_task = sorted(seconds.values())
    print(
        f"recall: {len(flagged)}/{len(vulnerable)} vulnerable tasks flagged with their planted "
        f"code; false alarms: {len(alarms)}/{len(robust)} robust tasks"
    )
    print(
        f"time per task ({len(AGENTS)} agents, screening + confirmation): mean "
        f"{sum(per_task) / len(per_task):.1f} s, median {per_task[len(per_task) // 2]:.1f} s, "
        f"max {per_task[-1]:.1f} s"
    )


def ten_tasks(folder: Path, count: int) -> Path:
    """A package of `count` sound tasks: the robust corpus's tasks, repeated under new ids."""
    shutil.copytree(CORPUS / "robust", folder)
    sources = sorted((folder / "tasks").iterdir())
    for index in range(len(sources), count):
        source = sources[index % len(sources)]
        shutil.copytree(source, folder / "tasks" / f"{source.name}-{index}")
    return folder


def fresh_baseline(pack) -> float:
    """Every cheating agent on every task, each in its own fresh containers (no reuse)."""
    import docker

    client = docker.from_env(timeout=120)
    jobs = []
    for task in pack.agentic_tasks:
        image = task_image(client, pack, task, OPTIONS)
        jobs += [(task, image, agent) for agent in AGENTS]
    limits = script_limits(pack)

    def one(job) -> None:
        task, image, agent = job
        tests = pack.root / task.folder / "tests"
        run_episode(client, image, tests, agent_script(agent, task), limits)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(one, jobs))
    return time.perf_counter() - started


def budget(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = ten_tasks(Path(tmp) / "pack", count)
        run_funnel(root, stages=(Stage.STRUCTURE,), options=OPTIONS)
        pack = load_envpack(root).pack
        import docker

        client = docker.from_env(timeout=120)
        for task in pack.agentic_tasks:  # the warm image cache the budget assumes
            task_image(client, pack, task, OPTIONS)
        started = time.perf_counter()
        report = run_funnel(root, options=OPTIONS)
        funnel_s = time.perf_counter() - started
        stages = {str(s.name): (str(s.status), s.duration_s) for s in report.stages}
        attack_s = stages["attack"][1]
        print(
            f"{count}-task package, whole funnel: {funnel_s:.1f} s (budget {BUDGET_S:.0f} s) "
            f"verdict {report.verdict}; "
            + ", ".join(f"{k} {v[0]} {v[1]:.1f} s" for k, v in stages.items())
        )
        baseline_s = fresh_baseline(pack)
        episodes = count * len(AGENTS)
        print(
            f"stage 3 screening+confirmation {attack_s:.1f} s vs the same {episodes} agents in "
            f"fresh containers {baseline_s:.1f} s: {baseline_s / attack_s:.2f}x faster "
            f"({attack_s / episodes * 1000:.0f} ms vs {baseline_s / episodes * 1000:.0f} ms "
            "an agent)"
        )
        print("within budget" if funnel_s <= BUDGET_S else "OVER BUDGET")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-corpus", action="store_true")
    parser.add_argument("--skip-budget", action="store_true")
    parser.add_argument("--tasks", type=int, default=10)
    args = parser.parse_args()
    if not args.skip_corpus:
        print("agentic corpus, stage 3:")
        corpus()
    if not args.skip_budget:
        budget(args.tasks)


if __name__ == "__main__":
    main()
