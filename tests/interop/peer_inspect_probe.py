"""Run by the inspect-ai peer venv's python (the real inspect-ai), never by pytest: for each
exported task folder, lists its tasks with Inspect's own task discovery (what `inspect list
tasks` runs), then runs `inspect_ai.eval` on the task file with Inspect's mock model
(`mockllm/model`) answering each sample's prompt with the case's response, and reports the
scores Inspect's scorer gave. No real model is called. A task with several cases runs in
rounds (one eval per round), since a sample has one output per eval.

    python peer_inspect_probe.py < {"exports": [{"folder", "task", "cases": [{"task_id",
        "response"}, ...]}], "log_dir"}
prints {"version", "exports": [{"listed", "samples", "scores": [{"task_id", "reward",
"metadata"}], "errors"}]}.
"""

import json
import os
import sys
from pathlib import Path

import inspect_ai
from inspect_ai import eval as inspect_eval
from inspect_ai._eval.list import list_tasks
from inspect_ai._eval.loader import load_tasks
from inspect_ai.model import ModelOutput, ModelUsage, get_model


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


def mock_model(replies):
    """mockllm/model answering each sample with the reply for its prompt (its last message)."""

    def output(messages, tools, tool_choice, config):
        output = ModelOutput.from_content(model="mockllm/model", content=replies[messages[-1].text])
        # a usage of its own: otherwise mockllm counts tokens with tiktoken, which downloads
        output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return output

    return get_model("mockllm/model", custom_outputs=output)


def run_export(export, log_dir):
    # as a user would: from inside the export (Inspect globs task specs relative to the cwd)
    os.chdir(export["folder"])
    listed = [info.name for info in list_tasks(root_dir=Path.cwd())]
    task_file = f"{export['task']}.py"
    scores = [None] * len(export["cases"])
    samples, errors = [], []
    # Inspect's own loader (what `inspect eval` runs on the file): the prompt of each sample
    (loaded,) = load_tasks([task_file])
    prompts = {str(sample.id): sample.input for sample in loaded.dataset}
    for batch in rounds(export["cases"]):
        ids = [case["task_id"] for _, case in batch]
        replies = {prompts[case["task_id"]]: case["response"] for _, case in batch}
        (log,) = inspect_eval(
            task_file,
            model=mock_model(replies),
            sample_id=ids,
            log_dir=log_dir,
            display="none",
            max_samples=1,
        )
        if log.status != "success":
            errors.append(str(log.error))
            continue
        by_id = {str(s.id): s for s in log.samples}
        samples.append(sorted(by_id))
        for index, case in batch:
            score = by_id[case["task_id"]].scores["gauntlet_grader"]
            scores[index] = {
                "task_id": case["task_id"],
                "reward": score.value,
                "metadata": score.metadata,
            }
    return {"listed": listed, "samples": samples, "scores": scores, "errors": errors}


if __name__ == "__main__":
    request = json.load(sys.stdin)
    result = {
        "version": inspect_ai.__version__ if hasattr(inspect_ai, "__version__") else "",
        "exports": [run_export(e, request["log_dir"]) for e in request["exports"]],
    }
    print(json.dumps(result))
