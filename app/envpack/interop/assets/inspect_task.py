"""An Inspect AI task exported by Gauntlet Studio (inspect-ai 0.3).

`inspect list tasks .` lists it; `inspect eval <this file> --model <provider/model>` runs it.
The dataset is the package's tasks (the prompt, the expected answer as the target, the whole
Gauntlet task record in the metadata); the solver asks the model once; the scorer grades the
completion with Gauntlet Studio's own grader (the package next to this file: a copy of the
app's match and code-test graders, or the package's grader.py), so scores match the
verification funnel.
"""

import asyncio
import importlib
import json
import os
import sys

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import Score, mean, scorer
from inspect_ai.solver import generate

GRADER_PACKAGE = "__GRADER_PACKAGE__"  # filled in by the exporter
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the grader package's home
rewards = importlib.import_module(f"{GRADER_PACKAGE}.rewards")


def question(record):
    prompt = record["prompt"]
    choices = record.get("choices")
    spec = rewards.SPEC
    is_choice = spec.get("type") == "match" and spec.get("mode") == "choice"
    if is_choice and isinstance(choices, list) and not all(str(c) in prompt for c in choices):
        prompt += "\n\n" + "\n".join(f"{chr(65 + i)}. {c}" for i, c in enumerate(choices))
    return prompt


def target(record):
    answer = record.get("answer", "")
    return answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)


def samples():
    return [
        Sample(
            id=str(record["id"]),
            input=question(record),
            target=target(record),
            metadata={"gauntlet_task": json.dumps(record, ensure_ascii=False)},
        )
        for record in rewards.load_tasks()
    ]


@scorer(metrics=[mean()])
def gauntlet_grader():
    """Gauntlet Studio's grade of the completion (the reward; the grader's feedback)."""

    async def score(state, target):
        record = json.loads(state.metadata["gauntlet_task"])
        response = state.output.completion
        # Code graders run test cases in subprocesses: keep the event loop free meanwhile.
        graded = await asyncio.to_thread(rewards.score, record, response)
        metadata = None
        if rewards.SPEC.get("type") == "rubric":  # each criterion's score beside the combined
            criteria = await asyncio.to_thread(rewards.grade_criteria, record, response)
            metadata = {"criteria": criteria["scores"], "failed": criteria["failed"]}
        return Score(
            value=graded["reward"],
            answer=response,
            explanation=graded["feedback"],
            metadata=metadata,
        )

    return score


@task
def __TASK_NAME__():
    return Task(
        dataset=MemoryDataset(samples(), name="__TASK_NAME__"),
        solver=generate(),
        scorer=gauntlet_grader(),
    )
