"""A Prime Intellect `verifiers` environment exported by Gauntlet Studio (verifiers 0.4 API).

verifiers 0.4 loads an environment as a *taskset* package: this module exports its `Taskset`
subclass through `__all__`, so `vf-eval <module>` / `vf-validate <module>` (or
`vf.load_taskset(vf.TasksetConfig(id="<module>"))`) find it once the package is installed or
on the path. Each task carries the prompt, the expected answer and the whole Gauntlet task
record; its `@vf.reward` grades the final reply with Gauntlet Studio's own grader
(see rewards.py), and `validate()` (vf-validate's gold check, no model) grades the package's
reference response. Judge packages plug verifiers' built-in rubric judge with the package's
rubric as its one criterion (data/judge.json); override it with `--env.taskset.task.judges`.
"""

import asyncio
import json
import os

import verifiers.v1 as vf

from .rewards import DATA, SPEC, load_references, load_tasks, score

__all__ = ["GauntletTaskset", "load_environment"]


def _question(task):
    prompt = task["prompt"]
    choices = task.get("choices")
    is_choice = SPEC.get("type") == "match" and SPEC.get("mode") == "choice"
    if is_choice and isinstance(choices, list) and not all(str(c) in prompt for c in choices):
        prompt += "\n\n" + "\n".join(f"{chr(65 + i)}. {c}" for i, c in enumerate(choices))
    return prompt


def _answer(task):
    answer = task.get("answer", "")
    return answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)


def reply_text(trace):
    """The model's final answer as the funnel sees it (unstripped, unlike `trace.last_reply`)."""
    if trace.root_reply is not None:
        return trace.root_reply
    replies = trace.assistant_messages
    content = replies[-1].content if replies else ""
    return content if isinstance(content, str) else ""


class GauntletData(vf.TaskData):
    answer: str = ""
    """The expected answer (text; JSON for structured answers)."""
    gauntlet_task: str = "{}"
    """The whole Gauntlet task record, as JSON: what the grader reads."""
    reference: str | None = None
    """The package's reference response, for vf-validate's model-free gold check."""


class GauntletTask(vf.Task[GauntletData, vf.State]):
    def record(self):
        return json.loads(self.data.gauntlet_task)

    async def grade(self, response):
        # Code graders run test cases in subprocesses: keep the event loop free meanwhile.
        return await asyncio.to_thread(score, self.record(), response)

    async def validate(self, runtime=None):
        if self.data.reference is None or SPEC["type"] == "judge":
            return None
        graded = await self.grade(self.data.reference)
        return graded["reward"] >= float(SPEC["reward_range"][1])

    if SPEC["type"] != "judge":

        @vf.reward
        async def gauntlet(self, trace):
            """Gauntlet Studio's grade of the final reply."""
            return (await self.grade(reply_text(trace)))["reward"]


def _task_config():
    if SPEC["type"] != "judge":
        return vf.TaskConfig()
    # The package's rubric is the one criterion: the judge's verdict is the reward.
    judge = {
        "id": "rubric",
        "name": "gauntlet_judge",
        "path": os.path.join(DATA, "judge.json"),
        "answer_field": "answer",
        "view": "last_reply",
    }
    if SPEC.get("model"):
        judge["model"] = SPEC["model"]
    return vf.TaskConfig(judges=[judge])


class GauntletTaskset(vf.Taskset[GauntletTask]):
    def load(self):
        config = self.config.task if self.config.task.judges else _task_config()
        references = load_references()
        for task in load_tasks():
            data = GauntletData(
                id=str(task["id"]),
                name=str(task["id"]),
                prompt=_question(task),
                answer=_answer(task),
                gauntlet_task=json.dumps(task, ensure_ascii=False),
                reference=references.get(task["id"]),
            )
            yield GauntletTask(data, config)


def load_environment(**kwargs):
    """The taskset, for code that loads environments by calling the module (kwargs: the
    TasksetConfig fields, e.g. `system_prompt`)."""
    return GauntletTaskset(vf.TasksetConfig(id=__name__, **kwargs))
