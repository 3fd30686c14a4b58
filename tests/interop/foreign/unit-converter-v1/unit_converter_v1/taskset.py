import json
import re
from pathlib import Path

import verifiers.v1 as vf

from unit_converter_v1.servers.tool import UnitToolset

DATA = Path(__file__).parent / "data" / "tasks.jsonl"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def last_number(text):
    found = NUMBER.findall(text or "")
    return float(found[-1]) if found else None


class UnitData(vf.TaskData):
    answer: float = 0.0
    """The converted value, to 4 decimals."""


class UnitTaskConfig(vf.TaskConfig):
    tools: vf.ToolsetConfig = vf.ToolsetConfig()


class UnitTask(vf.Task[UnitData, vf.State, UnitTaskConfig]):
    @classmethod
    def toolsets(cls, config: UnitTaskConfig) -> list[vf.Toolset]:
        return [UnitToolset(config.tools)]

    @vf.reward(weight=0.75)
    async def correct_value(self, trace: vf.Trace) -> float:
        value = last_number(trace.last_reply)
        return 1.0 if value is not None and abs(value - self.data.answer) < 1e-4 else 0.0

    @vf.reward(weight=0.25)
    async def used_a_tool(self, trace: vf.Trace) -> float:
        converted = [m for m in trace.tool_messages if not str(m.content).startswith("Error")]
        return 1.0 if converted else 0.0


class UnitConfig(vf.TasksetConfig):
    task: UnitTaskConfig = UnitTaskConfig()


class UnitConverterTaskset(vf.Taskset[UnitTask, UnitConfig]):
    def load(self):
        for line in DATA.read_text().splitlines():
            row = json.loads(line)
            data = UnitData(id=row["id"], prompt=row["prompt"], answer=row["answer"])
            yield UnitTask(data, self.config.task)
