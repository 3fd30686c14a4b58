"""Rewards of a verifiers environment, imported by Gauntlet Studio.

Each `@vf.reward` method of the environment's task is below as it was written (renamed
`_vf_<name>`), and each rubric criterion `<name>(task, trajectory)` calls it the way verifiers
does: `self.data` holds the task's fields, `trace` the conversation (`trace.messages`,
`last_reply`, `assistant_messages`, `tool_messages`; messages have `.role`, `.content`,
`.tool_calls` with `.name` and `.arguments`).
"""

import asyncio
import inspect
from types import SimpleNamespace


def _message(message):
    calls = [
        SimpleNamespace(
            id=call.get("id"),
            type="function",
            name=call["function"]["name"],
            namespace=None,
            arguments=call["function"]["arguments"],
        )
        for call in message.get("tool_calls") or []
    ]
    return SimpleNamespace(
        role=message["role"],
        content=message.get("content"),
        reasoning_content=None,
        tool_calls=calls or None,
        tool_call_id=message.get("tool_call_id"),
        name=message.get("name"),
    )


class Trace:
    """The parts of verifiers' Trace a reward reads, over a Gauntlet trajectory."""

    root_reply = None

    def __init__(self, trajectory):
        self.messages = [_message(m) for m in trajectory]
        self.assistant_messages = [m for m in self.messages if m.role == "assistant"]
        self.tool_messages = [m for m in self.messages if m.role == "tool"]
        self.num_turns = len(self.assistant_messages)

    @property
    def last_reply(self):
        replies = self.assistant_messages
        return (replies[-1].content or "").strip() if replies else ""

    @property
    def last_message(self):
        return self.messages[-1]


def call_reward(method, task, trajectory):
    """The reward method's score for this conversation (a coroutine is run to its end)."""
    task_self = SimpleNamespace(data=SimpleNamespace(**task))
    available = {"trace": Trace(trajectory), "task": task_self.data}
    wanted = list(inspect.signature(method).parameters)[1:]
    result = method(task_self, **{name: available[name] for name in wanted})
    if inspect.isawaitable(result):
        result = asyncio.run(result)
    return float(result)
