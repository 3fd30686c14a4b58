"""A multi-turn Inspect AI task exported by Gauntlet Studio (inspect-ai 0.3).

`inspect list tasks .` lists it; `inspect eval <this file> --model <provider/model>` runs it.
Each sample is one of the package's conversations: the task's system message and opening
prompt. The solver plays the conversation: the model answers with the package's tools at hand
(Inspect tools around the functions of tools.py, a fresh copy of the module for every sample,
so one sample's state never reaches another), and after each reply without tool calls the
scripted user says their next line, until the script ends or the task's `max_turns` replies
were given. The scorer grades the conversation with Gauntlet Studio's own replay and grader
(the package next to this file), so scores match the verification funnel.
"""

import asyncio
import importlib
import json
import os
import sys
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import (
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageUser,
    execute_tools,
    get_model,
)
from inspect_ai.scorer import Score, mean, scorer
from inspect_ai.solver import solver
from inspect_ai.tool import ToolDef, ToolParams

GRADER_PACKAGE = "__GRADER_PACKAGE__"  # filled in by the exporter
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the grader package's home
episodes = importlib.import_module(f"{GRADER_PACKAGE}.gauntlet_episodes")
GRADING = episodes.PackGrading(os.path.join(HERE, GRADER_PACKAGE, "data"))
DEFAULT_MAX_TURNS = 6


def samples():
    found = []
    for record in GRADING.tasks():
        opening = [ChatMessageUser(content=str(record.get("prompt", "")))]
        if isinstance(record.get("system"), str):
            opening.insert(0, ChatMessageSystem(content=record["system"]))
        found.append(
            Sample(
                id=str(record["id"]),
                input=opening,
                metadata={"gauntlet_task": json.dumps(record, ensure_ascii=False)},
            )
        )
    return found


def max_turns(record):
    value = record.get("max_turns", DEFAULT_MAX_TURNS)
    ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    return value if ok else DEFAULT_MAX_TURNS


def script(record):
    user = record.get("user")
    if not isinstance(user, list):
        return []
    return [u if isinstance(u, str) else json.dumps(u) for u in user]


def tool_defs(tools):
    """One Inspect tool per function of this sample's tools.py module."""

    def runner(name):
        async def execute(**kwargs: Any):
            return GRADING.call_tool(tools, name, json.dumps(kwargs))

        return execute

    return [
        ToolDef(
            runner(schema["function"]["name"]),
            name=schema["function"]["name"],
            description=schema["function"]["description"] or schema["function"]["name"],
            parameters=ToolParams.model_validate(schema["function"]["parameters"]),
        )
        for schema in GRADING.tool_schemas()
    ]


@solver
def gauntlet_conversation():
    """The model converses with the scripted user, calling the package's tools."""

    async def solve(state, generate):
        record = json.loads(state.metadata["gauntlet_task"])
        tools_module = GRADING.fresh_tools(record)
        tools = tool_defs(tools_module) if tools_module is not None else []
        lines = script(record)
        model = get_model()
        for _ in range(max_turns(record)):
            state.output = await model.generate(state.messages, tools=tools)
            state.messages.append(state.output.message)
            if state.output.message.tool_calls:
                executed = await execute_tools(state.messages, tools)
                state.messages.extend(executed.messages)
                continue
            if not lines:
                break
            state.messages.append(ChatMessageUser(content=lines.pop(0)))
        return state

    return solve


def assistant_turns(messages):
    """The assistant's turns in the OpenAI format Gauntlet's replay reads (the user's lines
    and the tool results are left out: the replay makes them, from the script and tools.py)."""
    turns = []
    for message in messages:
        if not isinstance(message, ChatMessageAssistant):
            continue
        calls = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.function, "arguments": json.dumps(call.arguments)},
            }
            for call in message.tool_calls or []
        ]
        turn = {"role": "assistant", "content": message.text or (None if calls else "")}
        if calls:
            turn["tool_calls"] = calls
        turns.append(turn)
    return turns


@scorer(metrics=[mean()])
def gauntlet_grader():
    """Gauntlet Studio's grade of the whole conversation (its rubric criteria as metadata)."""

    async def score(state, target):
        record = json.loads(state.metadata["gauntlet_task"])
        # Gauntlet's replay of the model's turns: exactly what its verification gives for them
        graded = await asyncio.to_thread(GRADING.grade, record, assistant_turns(state.messages))
        return Score(
            value=graded["reward"],
            answer=state.output.completion if state.output else "",
            explanation=graded["feedback"],
            metadata={"criteria": graded.get("criteria", {}), "trajectory": graded["messages"]},
        )

    return score


@task
def __TASK_NAME__():
    return Task(
        dataset=MemoryDataset(samples(), name="__TASK_NAME__"),
        solver=gauntlet_conversation(),
        scorer=gauntlet_grader(),
    )
