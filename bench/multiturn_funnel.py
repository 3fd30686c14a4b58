"""Multi-turn funnel budget (DESIGN §8, docs/engineering.md): stages 1-3 for a generated
50-task multi-turn package with tools (4 assistant turns per task, max_turns 6) with the
built-in library, against the real Docker sandbox; budget ≤ 60 s on 2 cores.

Printed next to a baseline measured in the same run: each episode graded in a sandbox of its
own (a fresh container per grading), timed on a subset of stage 3's trajectories and
extrapolated to all of stages 2 and 3's gradings (the full baseline would take many minutes).

    .venv/bin/python bench/multiturn_funnel.py [--tasks 50] [--baseline-sample 8]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.funnel.pipeline import FunnelOptions, run_funnel  # noqa: E402

BUDGET_S = 60.0
TOOLS = '''"""Generated order tools (per-episode state)."""

ORDERS = {orders}
calls = []


def list_regions() -> list[str]:
    """The regions with orders."""
    return sorted({{o["region"] for o in ORDERS}})


def query_orders(region: str, month: str = "") -> list[dict]:
    """The orders of a region, optionally of one month (YYYY-MM)."""
    if region not in {{o["region"] for o in ORDERS}}:
        raise ValueError("unknown region; call list_regions")
    calls.append(("query_orders", region))
    return [o for o in ORDERS if o["region"] == region and (not month or o["month"] == month)]


def add(numbers: list[float]) -> float:
    """The sum of the numbers."""
    return round(sum(float(n) for n in numbers), 2)
'''
GRADER = '''"""One Answer line in the last message, to the cent, after querying the region."""

import re

import tools

ANSWER = re.compile(r"^answer: (-?\\d+(?:\\.\\d+)?)$", re.IGNORECASE | re.MULTILINE)


def grade(task, trajectory):
    last = next((m for m in reversed(trajectory) if m["role"] == "assistant"), {{}})
    found = ANSWER.findall(last.get("content") or "")
    right = len(found) == 1 and abs(float(found[0]) - task["answer"]) < 0.005
    return 1.0 if right and ("query_orders", task["region"]) in tools.calls else 0.0
'''


def write_package(root: Path, count: int) -> None:
    root.mkdir(parents=True)
    orders = [
        {"region": f"r{i}", "month": f"2026-0{1 + j}", "amount": round(10 + i * 3.25 + j * 7, 2)}
        for i in range(count)
        for j in range(3)
    ]
    (root / "tools.py").write_text(TOOLS.format(orders=json.dumps(orders)))
    (root / "grader.py").write_text(GRADER.format())
    (root / "env.toml").write_text(
        'schema = "gauntlet/1"\nkind = "multi-turn"\n\n[package]\nname = "bench/orders"\n'
        'version = "0.1.0"\ntitle = "Orders (benchmark)"\ndescription = "Generated."\n'
        'authors = ["Bench <bench@gauntlet.example>"]\nlicense = "CC-BY-4.0"\n\n'
        '[tasks]\npath = "tasks.jsonl"\n\n[grader]\ntype = "python"\nentry = "grader.py:grade"\n'
        "reward_range = [0.0, 1.0]\npass_threshold = 1.0\ntimeout_s = 5\n\n"
        '[solutions]\npath = "solutions.jsonl"\n\n[negatives]\npath = "negatives.jsonl"\n\n'
        '[sandbox]\ncpus = 1.0\nmemory_mb = 256\nnetwork = "none"\n'
    )
    (root / "README.md").write_text("# Orders\n\nGenerated for bench/multiturn_funnel.py.\n")
    tasks, solutions, negatives = [], [], []
    for i in range(count):
        mine = [o for o in orders if o["region"] == f"r{i}"][:2]
        total = round(sum(o["amount"] for o in mine), 2)
        prompt = (
            f"What did region r{i} order in January and February 2026 together? Use the tools, "
            "then end with one line 'Answer: <total>'."
        )
        tasks.append(
            {
                "id": f"t{i}",
                "prompt": prompt,
                "answer": total,
                "region": f"r{i}",
                "max_turns": 6,
                "user": ["Thanks. Anything else to add?"],
            }
        )
        turns = [
            {"role": "assistant", "tool_calls": [{"name": "list_regions", "arguments": {}}]},
            {
                "role": "assistant",
                "tool_calls": [
                    {"name": "query_orders", "arguments": {"region": f"r{i}", "month": m["month"]}}
                    for m in mine
                ],
            },
            {
                "role": "assistant",
                "tool_calls": [
                    {"name": "add", "arguments": {"numbers": [m["amount"] for m in mine]}}
                ],
            },
            {"role": "assistant", "content": f"Together {total:.2f}.\nAnswer: {total:.2f}"},
        ]
        solutions.append({"task_id": f"t{i}", "turns": turns})
        wrong = [*turns[:3], {"role": "assistant", "content": f"Answer: {total + 1:.2f}"}]
        negatives.append({"task_id": f"t{i}", "turns": wrong, "note": "a wrong total"})
    for name, rows in (("tasks", tasks), ("solutions", solutions), ("negatives", negatives)):
        (root / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def baseline(root: Path, sample: int) -> tuple[float, int]:
    """Seconds per episode with a fresh sandbox each, over `sample` attack trajectories."""
    from app.attacks.turn_campaign import TurnCampaign
    from app.envpack.loader import load_envpack
    from app.sandbox.backends import get_backend
    from app.sandbox.base import GradingItem

    pack = load_envpack(root).pack
    backend = get_backend("docker")
    campaign = TurnCampaign(pack, lambda *a: [])
    _tasks, _refs, _base, candidates = campaign.plan()
    step = max(1, len(candidates) // sample)
    chosen = candidates[::step][:sample]
    records = {t.id: t.record for t in pack.tasks}
    times = []
    for cand in chosen:
        started = time.perf_counter()
        backend.grade_batch(pack, [GradingItem("one", records[cand.task_id], cand.response)])
        times.append(time.perf_counter() - started)
    return statistics.median(times), len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--baseline-sample", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "pkg"
        write_package(root, args.tasks)
        started = time.perf_counter()
        report = run_funnel(root, options=FunnelOptions(backend="docker"))
        total = time.perf_counter() - started
        stages = {str(s.name): s for s in report.stages}
        print(
            f"{args.tasks}-task multi-turn package with tools ({os.cpu_count()} cores), stages "
            f"1-3: {total:.1f} s (budget {BUDGET_S:.0f} s: "
            f"{'within' if total <= BUDGET_S else 'OVER'})"
        )
        for name in ("structure", "verify", "attack"):
            if name in stages:
                print(f"  stage {name:9s} {stages[name].duration_s:6.1f} s  {stages[name].status}")
        attack = stages.get("attack")
        if attack is None or str(attack.status) in ("skipped", "error"):
            print("  stage 3 did not run:", [(str(s.name), s.details) for s in report.stages])
            return
        gradings = attack.details["gradings"]
        verify = stages["verify"].details
        verify_gradings = (verify.get("gradings") or 0) * (verify.get("runs") or 1)
        print(
            f"  stage 3: {gradings} gradings in {attack.details['sandbox_batches']} sandbox "
            f"batch(es), {attack.details['tasks_attacked']} tasks attacked, confirmed hits "
            f"{attack.details['confirmed_hits']}"
        )
        per_episode, measured = baseline(root, args.baseline_sample)
        episodes = gradings + verify_gradings
        projected = per_episode * episodes
        print(
            f"  baseline, a fresh sandbox per episode: {per_episode:.2f} s each (median of "
            f"{measured} measured), extrapolated to stages 2-3's {episodes} gradings: "
            f"{projected:.0f} s; the batched run is {projected / max(total, 1e-9):.0f}× faster"
        )


if __name__ == "__main__":
    main()
