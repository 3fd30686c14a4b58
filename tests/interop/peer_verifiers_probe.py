"""Run by the peer venv's python (the real verifiers), never by pytest: loads an exported
environment through verifiers' own loader and scores responses through verifiers' own
`Task.score` on a rollout-shaped trace (the prompt, then the response as the model's sampled
reply), as a rollout's scoring step does. No model is called.

    python peer_verifiers_probe.py MODULE < {"cases": [{"task_id", "response"}, ...]}
prints {"version", "taskset", "tasks", "scores": [{"task_id", "reward", "rewards"}], "gold",
"judges"}. `python peer_verifiers_probe.py --many < {"modules": [{"module", "cases"}]}` probes
several (each export folder on PYTHONPATH) and prints {"results": [...]}.
"""

import asyncio
import json
import sys

import verifiers
import verifiers.v1 as vf
from verifiers.v1.graph import MessageNode
from verifiers.v1.trace import Trace, TraceTask


def rollout_trace(task, response):
    return Trace(
        task=TraceTask(type=type(task).__name__, data=task.data, key=task.key, hash=task.hash),
        agent=vf.AgentInfo(config=vf.AgentConfig(), name="probe", trainable=False),
        nodes=[
            MessageNode(message=vf.UserMessage(content=task.data.prompt_text)),
            MessageNode(parent=0, message=vf.AssistantMessage(content=response), sampled=True),
        ],
    )


async def main(module, cases):
    taskset = vf.load_taskset(vf.TasksetConfig(id=module))
    tasks = {task.data.id: task for task in taskset}
    scores = []
    for case in cases:
        trace = rollout_trace(tasks[case["task_id"]], case["response"])
        await tasks[case["task_id"]].score(trace)
        rewards = {name: r.score if r else None for name, r in trace.rewards.items()}
        scores.append({"task_id": case["task_id"], "reward": trace.reward, "rewards": rewards})
    gold = {task_id: await task.validate(None) for task_id, task in tasks.items()}
    # plugged judges (judge packages) are built from their config, as scoring would
    judges = [type(judge).__name__ for judge in next(iter(tasks.values())).plugged_judges()]
    return {
        "version": verifiers.__version__,
        "taskset": type(taskset).__name__,
        "tasks": list(tasks),
        "scores": scores,
        "gold": gold,
        "judges": judges,
    }


async def many(request):
    return [await main(entry["module"], entry["cases"]) for entry in request["modules"]]


if __name__ == "__main__":
    request = json.load(sys.stdin)
    if sys.argv[1:] == ["--many"]:  # several exports in one process: {"modules": [...]}
        print(json.dumps({"results": asyncio.run(many(request))}))
    else:
        print(json.dumps(asyncio.run(main(sys.argv[1], request["cases"]))))
