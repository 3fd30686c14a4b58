import json
import math
import os

import verifiers.v1 as vf

HERE = os.path.dirname(os.path.abspath(__file__))


def number_and_unit(text):
    parts = text.strip().split()
    if len(parts) != 2:
        return None, None
    try:
        return float(parts[0]), parts[1]
    except ValueError:
        return None, None


class UnitData(vf.TaskData):
    answer: str = ""
    unit: str = ""
    tolerance: float = 0.01


class UnitTask(vf.Task[UnitData]):
    @vf.reward(weight=2.0)
    async def value(self, task, trace):
        number, _ = number_and_unit(trace.last_reply)
        if number is None:
            return 0.0
        return float(math.isclose(number, float(task.answer), rel_tol=task.tolerance))

    @vf.reward
    async def unit_named(self, task, trace):
        _, unit = number_and_unit(trace.last_reply)
        return 1.0 if unit == task.unit else 0.0


class UnitTaskset(vf.Taskset[UnitTask]):
    def load(self):
        with open(os.path.join(HERE, "problems.jsonl")) as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        return [
            UnitTask(
                UnitData(prompt=row["prompt"], answer=row["answer"], unit=row["unit"]),
                self.config.task,
            )
            for row in rows
        ]


def load_environment(**kwargs):
    return UnitTaskset(vf.TasksetConfig(id=__name__, **kwargs))
