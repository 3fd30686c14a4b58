"""Run by the inspect-ai peer venv's python (the real inspect-ai), never by pytest: for each
exported multi-turn task folder, lists its tasks with Inspect's own task discovery, then runs
`inspect_ai.eval` on the task file with Inspect's mock model (`mockllm/model`, custom outputs)
replaying each case's assistant turns, tool calls included, as the model's replies: Inspect's
solver runs the tools and speaks the scripted user, Inspect's scorer grades. When a case's
turns run out the mock model replies with an empty message. No real model is called; a task
with several cases runs in rounds (one eval per round).

    python peer_inspect_multiturn_probe.py < {"exports": [{"folder", "task", "cases":
        [{"task_id", "turns"}, ...]}], "log_dir"}
prints {"version", "exports": [{"listed", "scores": [{"task_id", "reward", "trajectory",
"replies"}], "errors"}]}.
"""

import json
import os
import sys
from pathlib import Path

import inspect_ai
from inspect_ai import eval as inspect_eval
from inspect_ai._eval.list import list_tasks
from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessageAssistant,
    ModelOutput,
    ModelUsage,
    get_model,
)
from inspect_ai.tool import ToolCall


def rounds(cases):
    """Split the cases so each round has at most one case per task (in case order)."""
    pending = list(enumerate(cases))
    while pending:
        seen, this, rest = set(), [], []
        for index, case in pending:
            (rest if case["task_id"] in seen else this).append((index, case))
            seen.add(case["task_id"])
        yield this
        pending = rest


def reply(turn):
    """The scripted assistant turn as a model output (tool calls as Inspect's ToolCalls)."""
    calls = [
        ToolCall(
            id=call.get("id") or f"call_{i}",
            function=call["function"]["name"],
            arguments=json.loads(call["function"]["arguments"] or "{}"),
        )
        for i, call in enumerate(turn.get("tool_calls") or [], start=1)
    ]
    message = ChatMessageAssistant(
        content=turn.get("content") or "", tool_calls=calls or None, model="mockllm/model"
    )
    output = ModelOutput(
        model="mockllm/model",
        choices=[
            ChatCompletionChoice(message=message, stop_reason="tool_calls" if calls else "stop")
        ],
    )
    # a usage of its own: otherwise mockllm counts tokens with tiktoken, which downloads
    output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return output


def mock_model(scripts, served):
    """mockllm/model replaying, for the sample whose opening prompt is `p`, scripts[p]: the
    n-th assistant turn when the conversation so far holds n-1 assistant messages."""

    def output(messages, tools, tool_choice, config):
        prompt = next(m.text for m in messages if m.role == "user")
        done = sum(1 for m in messages if m.role == "assistant")
        turns = [t for t in scripts[prompt] if t["role"] == "assistant"]
        served[prompt] = served.get(prompt, 0) + 1
        return reply(turns[done] if done < len(turns) else {"content": ""})

    return get_model("mockllm/model", custom_outputs=output)


def run_export(export, log_dir):
    os.chdir(export["folder"])  # as a user would: from inside the export
    listed = [info.name for info in list_tasks(root_dir=Path.cwd())]
    task_file = f"{export['task']}.py"
    sys.path.insert(0, export["folder"])
    tasks_file = Path(f"{export['task']}_gauntlet") / "data" / "tasks.jsonl"
    records = [json.loads(line) for line in tasks_file.read_text().splitlines() if line.strip()]
    prompts = {str(r["id"]): r["prompt"] for r in records}
    scores, errors = [None] * len(export["cases"]), []
    for batch in rounds(export["cases"]):
        ids = [case["task_id"] for _, case in batch]
        scripts = {prompts[case["task_id"]]: case["turns"] for _, case in batch}
        served = {}
        (log,) = inspect_eval(
            task_file,
            model=mock_model(scripts, served),
            sample_id=ids,
            log_dir=log_dir,
            display="none",
            max_samples=4,
        )
        if log.status != "success":
            errors.append(str(log.error))
            continue
        by_id = {str(s.id): s for s in log.samples}
        for index, case in batch:
            score = by_id[case["task_id"]].scores["gauntlet_grader"]
            scores[index] = {
                "task_id": case["task_id"],
                "reward": score.value,
                "trajectory": score.metadata["trajectory"],
                "replies": served.get(prompts[case["task_id"]], 0),
            }
    return {"listed": listed, "scores": scores, "errors": errors}


if __name__ == "__main__":
    request = json.load(sys.stdin)
    result = {
        "version": getattr(inspect_ai, "__version__", ""),
        "exports": [run_export(e, request["log_dir"]) for e in request["exports"]],
    }
    print(json.dumps(result))
