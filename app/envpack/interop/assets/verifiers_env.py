"""A Prime Intellect `verifiers` environment exported by Gauntlet Studio (verifiers 0.4 API).

verifiers 0.4 loads an environment as a *taskset* package: this module exports its `Taskset`
subclass through `__all__`, so `vf-eval <module>` / `vf-validate <module>` (or
`vf.load_taskset(vf.TasksetConfig(id="<module>"))`) find it once the package is installed or
on the path. Each task carries the prompt, the expected answer and the whole Gauntlet task
record; its `@vf.reward` grades the final reply with Gauntlet Studio's own grader
(see rewards.py), and `validate()` (vf-validate's gold check, no model) grades the package's
reference response. Judge packages plug verifiers' built-in rubric judge with the package's
rubric as its one criterion (data/judge.json); override it with `--env.taskset.task.judges`.

Rubric packages: a weighted-mean rubric has one `@vf.reward` per code criterion
(`criterion_<name>`, weighted by its share of the total weight) and its judge criteria in
verifiers' rubric judge (weighted by their share), so the rollout's reward is the weighted mean.
An all-pass or threshold rubric has one `gauntlet` reward, the funnel's combination, and a
`criteria` metric with each criterion's score.
"""

import asyncio
import json
import os

import verifiers.v1 as vf

from .rewards import DATA, SPEC, grade_criteria, judge_criteria, load_references, load_tasks, score

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


WEIGHTED_RUBRIC = SPEC["type"] == "rubric" and SPEC.get("combine") == "weighted-mean"


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

    async def criteria(self, response):
        return await asyncio.to_thread(grade_criteria, self.record(), response)

    async def validate(self, runtime=None):
        if self.data.reference is None or SPEC["type"] == "judge" or judge_criteria():
            return None
        graded = await self.grade(self.data.reference)
        return graded["reward"] >= float(SPEC["reward_range"][1])

    if SPEC["type"] != "judge" and not WEIGHTED_RUBRIC:

        @vf.reward
        async def gauntlet(self, trace):
            """Gauntlet Studio's grade of the final reply."""
            return (await self.grade(reply_text(trace)))["reward"]

    if SPEC["type"] == "rubric" and not WEIGHTED_RUBRIC:

        @vf.metric
        async def criteria_scores(self, trace):
            """Each criterion's score (recorded, not added to the reward)."""
            return (await self.criteria(reply_text(trace)))["scores"]


def _criterion_reward(name, weight):
    async def reward(self, trace):
        return (await self.criteria(reply_text(trace)))["scores"][name]

    reward.__name__ = reward.__qualname__ = f"criterion_{name}"
    reward.__doc__ = f"The rubric criterion {name!r} (weight {weight:g} of the reward)."
    return vf.reward(reward, weight=weight)


if WEIGHTED_RUBRIC:
    _total = sum(float(c.get("weight", 1.0)) for c in SPEC["criteria"]) or 1.0
    for _criterion in SPEC["criteria"]:
        if _criterion not in judge_criteria():
            _share = float(_criterion.get("weight", 1.0)) / _total
            _reward = _criterion_reward(_criterion["name"], _share)
            setattr(GauntletTask, _reward.__name__, _reward)


def _task_config():
    if SPEC["type"] == "rubric" and judge_criteria():
        with open(os.path.join(DATA, "judge.json"), encoding="utf-8") as handle:
            weight = json.load(handle)["weight"]
        judge = {
            "id": "rubric",
            "name": "gauntlet_rubric_judge",
            "path": os.path.join(DATA, "judge.json"),
            "answer_field": "answer",
            "view": "last_reply",
            "weight": weight,
        }
        if SPEC.get("model"):
            judge["model"] = SPEC["model"]
        return vf.TaskConfig(judges=[judge])
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
