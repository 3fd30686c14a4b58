"""Run by the peer venv's python (the real verifiers 0.4), never by pytest: imports each
foreign environment module (its folder on PYTHONPATH), calls its own `load_environment()` and
scores responses with verifiers' own `Task.score` on a rollout-shaped trace, as a rollout's
scoring step does. No model is called.

    python peer_verifiers_foreign_probe.py < {"modules": [{"module", "cases": [{"index",
        "response"}]}]}
prints {"results": [{"rewards": [{"reward", "rewards"}]}]} (index: the task's place in the
taskset, which is the row order the import keeps).
"""

import asyncio
import importlib
import json
import sys

from peer_verifiers_probe import rollout_trace


async def probe(module, cases):
    taskset = importlib.import_module(module).load_environment()
    tasks = list(taskset)
    rewards = []
    for case in cases:
        task = tasks[case["index"]]
        trace = rollout_trace(task, case["response"])
        await task.score(trace)
        scores = {name: r.score if r else None for name, r in trace.rewards.items()}
        rewards.append({"reward": trace.reward, "rewards": scores})
    return {"rewards": rewards}


async def main(request):
    return [await probe(entry["module"], entry["cases"]) for entry in request["modules"]]


if __name__ == "__main__":
    print(json.dumps({"results": asyncio.run(main(json.load(sys.stdin)))}))
