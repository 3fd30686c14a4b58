"""A multi-turn `verifiers` environment exported by Gauntlet Studio (verifiers 0.4 API).

The package exports, through `__all__`, what verifiers 0.4 composes into a run:
- `GauntletTaskset`: one task per conversation (the opening prompt, the system prompt, the whole
  Gauntlet task record). Its tasks serve the package's tools.py as a task-scoped `vf.Toolset`
  (tools_server.py): one tool server per rollout, each with a fresh copy of the module, so one
  rollout's tool state never reaches another.
- `GauntletConversation`: the env that plays the scripted user. It opens the conversation with
  the task's prompt; after each reply the assistant gives without tool calls, the user says
  their next scripted line, until the script ends. A task's `max_turns` caps the assistant's
  replies (a `@vf.stop`). The assistant seat runs verifiers' tool-less `null` chat harness,
  which reaches the tools over MCP.
- the reward `gauntlet`: Gauntlet Studio's replay and grader (gauntlet_episodes.py, a copy of
  the app's own) on the assistant's turns, so it is the reward Gauntlet's verification report
  gives for the same conversation. `validate()` (vf-validate's gold check) grades the
  package's reference conversation with no model.
"""

import asyncio
import json
import os

import verifiers.v1 as vf

from .gauntlet_episodes import PackGrading
from .tools_server import GauntletTools

__all__ = ["GauntletConversation", "GauntletTaskset", "load_environment"]

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
GRADING = PackGrading(DATA)
DEFAULT_MAX_TURNS = 6


def script(record):
    """The scripted user's lines, in order."""
    user = record.get("user")
    if not isinstance(user, list):
        return []
    return [u if isinstance(u, str) else json.dumps(u) for u in user]


def max_turns(record):
    value = record.get("max_turns", DEFAULT_MAX_TURNS)
    ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    return value if ok else DEFAULT_MAX_TURNS


def assistant_turns(trace):
    """The assistant's replies of a trace in the OpenAI format Gauntlet's replay reads."""
    turns = []
    for message in trace.messages:
        if not isinstance(message, vf.AssistantMessage):
            continue
        calls = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in message.tool_calls or []
        ]
        turn = {"role": "assistant", "content": message.content}
        if calls:
            turn["tool_calls"] = calls
        elif turn["content"] is None:
            turn["content"] = ""
        turns.append(turn)
    return turns


class GauntletData(vf.TaskData):
    gauntlet_task: str = "{}"
    """The whole Gauntlet task record, as JSON: what the tools' setup and the grader read."""
    reference: str | None = None
    """The package's reference conversation (JSON list of turns), for vf-validate's gold check."""


class GauntletTaskConfig(vf.TaskConfig):
    tools: vf.ToolsetConfig = vf.ToolsetConfig()
    """Where the tools.py server runs (`--env.taskset.task.tools.*`)."""


class GauntletTask(vf.Task[GauntletData, vf.State, GauntletTaskConfig]):
    def record(self):
        return json.loads(self.data.gauntlet_task)

    @classmethod
    def toolsets(cls, config):
        return [GauntletTools(config.tools)] if GRADING.has_tools else []

    @vf.stop
    async def max_turns_reached(self, trace: vf.Trace) -> bool:
        """The task's max_turns: the assistant has given that many replies."""
        return len(trace.assistant_messages) >= max_turns(self.record())

    async def grade(self, turns):
        return await asyncio.to_thread(GRADING.grade, self.record(), turns)

    @vf.reward
    async def gauntlet(self, trace):
        """Gauntlet Studio's grade of the conversation (rubric criteria in trace.info)."""
        graded = await self.grade(assistant_turns(trace))
        trace.info["gauntlet"] = {
            "criteria": graded.get("criteria", {}),
            "feedback": graded["feedback"],
            "trajectory": graded["messages"],
        }
        return graded["reward"]

    async def validate(self, runtime=None):
        if self.data.reference is None:
            return None
        graded = await self.grade(json.loads(self.data.reference))
        return graded["reward"] >= float(GRADING.spec["reward_range"][1])


class GauntletTasksetConfig(vf.TasksetConfig):
    task: GauntletTaskConfig = GauntletTaskConfig()


class GauntletTaskset(vf.Taskset[GauntletTask, GauntletTasksetConfig]):
    def load(self):
        references = GRADING.references()
        config = self.config.task
        if not isinstance(config, GauntletTaskConfig):  # built from a plain TasksetConfig
            config = GauntletTaskConfig.model_validate(config.model_dump())
        for record in GRADING.tasks():
            system = record.get("system")
            reference = references.get(record["id"])
            data = GauntletData(
                id=str(record["id"]),
                name=str(record["id"]),
                prompt=str(record.get("prompt", "")),
                system_prompt=system if isinstance(system, str) else None,
                gauntlet_task=json.dumps(record, ensure_ascii=False),
                reference=None if reference is None else json.dumps(reference),
            )
            yield GauntletTask(data, config)


class GauntletConversationConfig(vf.EnvConfig):
    assistant: vf.AgentConfig = vf.AgentConfig(harness={"id": "null"})
    """The model under evaluation; verifiers' `null` chat harness reaches the tools over MCP
    (`--env.assistant.*`)."""


class GauntletConversation(vf.Env[GauntletConversationConfig]):
    """The scripted user: the task's prompt opens, each later line answers a reply without
    tool calls, and the conversation ends when the script does (or at max_turns)."""

    async def run(self, task, agents):
        lines = script(task.record())
        async with agents.assistant.interaction(task) as chat:
            segment = await chat.turn()
            while lines and not segment.terminated:
                segment = await chat.turn(lines.pop(0))


def load_environment(**kwargs):
    """The taskset, for code that loads environments by calling the module (kwargs: the
    TasksetConfig fields)."""
    return GauntletTaskset(GauntletTasksetConfig(id=__name__, **kwargs))
