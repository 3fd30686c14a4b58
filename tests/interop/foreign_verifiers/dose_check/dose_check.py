"""Dose check: answer with the adult dose in mg, as `Dose: <n> mg`."""

import re

import verifiers.v1 as vf

ROWS = [
    {
        "question": "Usual adult oral dose of amoxicillin for otitis, per dose?",
        "answer": "500",
    },
    {"question": "Usual adult oral dose of ibuprofen for pain, per dose?", "answer": "400"},
    {"question": "Usual adult oral dose of paracetamol, per dose?", "answer": "1000"},
]

DOSE = re.compile(r"Dose:\s*(\d+)\s*mg")


class DoseData(vf.TaskData):
    answer: str = ""


class DoseTask(vf.Task[DoseData]):
    def parsed(self, reply):
        match = DOSE.fullmatch(reply)
        return match.group(1) if match else None

    @vf.reward(weight=0.75)
    async def correct_dose(self, trace: vf.Trace) -> float:
        return 1.0 if self.parsed(trace.last_reply) == self.data.answer else 0.0

    @vf.reward(weight=0.25)
    async def format_ok(self, trace: vf.Trace) -> float:
        return 1.0 if self.parsed(trace.last_reply) is not None else 0.0


class DoseTaskset(vf.Taskset[DoseTask]):
    def load(self):
        return [
            DoseTask(DoseData(prompt=row["question"], answer=row["answer"]), self.config.task)
            for row in ROWS
        ]


def load_environment(**kwargs):
    return DoseTaskset(vf.TasksetConfig(id=__name__, **kwargs))
