"""Model personas of known skill for `gauntlet calibrate`, as a script for ScriptedLLMServer.

The persona reads which task a request is about from its prompt, and which contamination probe
it is from the probe texts app/calibrate/contamination.py builds for the package, so the test
states a persona's behaviour and nothing about message formats:

    personas = LadderPersonas(pack, skill={"strong": lambda task, nth: True}, memorised={"memo"})
    with ScriptedLLMServer([personas]) as server: ...

`skill[model](task_id, nth)` says whether the model's nth reply (from 1) to the task is right:
right replies are the task's reference, wrong ones its negative (or a fixed wrong text). A model
in `memorised` answers the probes from memory: the reference without the question, the rest of
the prompt verbatim after its prefix. Every other model answers the probes as an honest model
would: it does not know the task, and continues a prefix in its own words.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from app.calibrate.contamination import answer_probe, prefix_probe, split_prompt
from app.envpack.model import EnvPack

WRONG = "I am not sure."
HONEST_ANSWER = "I cannot know the answer to a task I have not been shown."
HONEST_CONTINUATION = "and explain each step of the reasoning in plain words before answering."


class LadderPersonas:
    def __init__(
        self,
        pack: EnvPack,
        skill: dict[str, Callable[[str, int], bool]],
        memorised: set[str] = frozenset(),
    ) -> None:
        self.skill, self.memorised = skill, memorised
        self.right = {s.task_id: s.response for s in reversed(pack.solutions)}
        self.wrong = {n.task_id: n.response for n in reversed(pack.negatives)}
        self.tasks = {t.prompt: t.id for t in pack.tasks}
        self.probes: dict[str, tuple[str, str]] = {}  # probe -> (memorised reply, honest reply)
        for task in pack.tasks:
            self.probes[answer_probe(pack, task)] = (self.right.get(task.id, ""), HONEST_ANSWER)
            split = split_prompt(task.prompt)
            if split is not None:
                self.probes[prefix_probe(pack, task, split[0])] = (split[1], HONEST_CONTINUATION)
        self.seen: Counter = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: dict) -> str:
        model, content = request["model"], request["messages"][-1]["content"]
        if content in self.probes:
            memory, honest = self.probes[content]
            return memory if model in self.memorised else honest
        task = self.tasks[content]
        with self._lock:
            self.seen[model, task] += 1
            nth = self.seen[model, task]
        if self.skill[model](task, nth):
            return self.right[task]
        return self.wrong.get(task, WRONG)
