"""What a multi-turn attack looks at for one task (DESIGN §4.2, §6): the reference trajectory,
its final message, the tools' schemas, the simulated user, and the ways to make a final message
that is wrong by construction.

Multi-turn attacks are trajectories, mostly derived from the task's reference: the reference's
turns with something changed (its final message, its tool calls, a turn added). The final
message is where the answer is; `final` is a qa-style `AttackContext` over the references'
final messages, so the single-turn generators and the correctness guard (correctness.py) read
it as they read a qa response.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.attacks.answer_region import learn_region
from app.attacks.answers import (
    NUMBER,
    answer_is_integer,
    distinct_wrong_number,
    format_number,
    numeric_answer,
)
from app.attacks.correctness import assess
from app.attacks.model import AttackContext
from app.envpack.model import EnvPack, Task
from app.envpack.tool_schemas import ToolSchema
from app.envpack.trajectory import encode_turns, tool_calls

DONT_KNOW = "I do not know the answer to this question."
_FILLER: dict[str, Any] = {
    "string": "x",
    "integer": 1,
    "number": 1.0,
    "boolean": True,
    "array": [],
    "object": {},
}


@dataclass(frozen=True, slots=True)
class TurnsContext:
    pack: EnvPack
    task: Task
    reference: tuple[dict[str, Any], ...]  # the first reference's canonical turns
    final: AttackContext  # qa-style: its references are the references' final messages
    tools: tuple[ToolSchema, ...] = ()
    grader_source: str = ""
    # a persona user's replies to a trajectory's turns (None: the task has no persona, or no
    # model can play it here)
    ask_persona: Callable[[list[dict[str, Any]]], list[str]] | None = None

    @property
    def script(self) -> list[str]:
        user = self.task.record.get("user")
        return [str(u) for u in user] if isinstance(user, list) else []

    @property
    def persona(self) -> dict[str, Any] | None:
        user = self.task.record.get("user")
        return user if isinstance(user, dict) and user.get("persona") else None

    @property
    def max_turns(self) -> int:
        value = self.task.record.get("max_turns", 6)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 6

    @property
    def reference_final(self) -> str:
        return final_content(list(self.reference))

    def turns(self) -> list[dict[str, Any]]:
        """A fresh copy of the reference's turns to change."""
        return copy.deepcopy(list(self.reference))

    def with_final(self, content: str, turns: list[dict[str, Any]] | None = None) -> str:
        """The trajectory (the reference's unless `turns`) with its final message replaced."""
        return encode_turns(replace_final(self.turns() if turns is None else turns, content))

    @property
    def can_speak_first(self) -> bool:
        """Whether a speaking turn added before the reference's turns gets a user reply (the
        replay stops at a speaking turn nobody answers, and the rest would never be graded)."""
        if self.persona is not None:
            return self.assistant_turns < self.max_turns
        speaking = sum(
            1 for t in self.reference if t.get("role") == "assistant" and not t.get("tool_calls")
        )
        return len(self.script) >= speaking and self.assistant_turns < self.max_turns

    @property
    def assistant_turns(self) -> int:
        return sum(1 for t in self.reference if t.get("role") == "assistant")

    def with_calls(self, calls: list[dict[str, Any]], final: str) -> str | None:
        """The reference with `calls` added to its first turn that calls tools (or to a new
        first turn, when the task's max_turns leaves room) and its final message replaced."""
        turns = self.turns()
        first = next((t for t in turns if t.get("tool_calls")), None)
        if first is not None:
            first["tool_calls"] = [*calls, *first["tool_calls"]]
        elif self.assistant_turns < self.max_turns:
            turns.insert(0, {"role": "assistant", "content": None, "tool_calls": list(calls)})
        else:
            return None
        return encode_turns(replace_final(turns, final))

    def calls(self) -> list[dict[str, Any]]:
        return [call for _turn, call in tool_calls(list(self.reference))]

    def arguments_for(self, tool: ToolSchema) -> dict[str, Any]:
        """The arguments the reference gave `tool` (its first call), else a filler per required
        parameter."""
        for call in self.calls():
            if call["function"]["name"] == tool.name:
                try:
                    value = json.loads(call["function"]["arguments"])
                except ValueError:
                    continue
                if isinstance(value, dict):
                    return value
        return {
            p.name: _FILLER.get(p.schema.get("type", ""), "x") for p in tool.params if p.required
        }

    def string_params(self) -> list[tuple[ToolSchema, str]]:
        """(tool, parameter) for every parameter that takes text (or anything)."""
        return [
            (tool, p.name)
            for tool in self.tools
            for p in tool.params
            if p.schema.get("type") in (None, "string")
        ]

    def is_wrong(self, content: str) -> bool:
        """The final message cannot be right under the package's own rules (a message wrong
        only under an assumption the package does not state counts as possibly right: a
        conversation's hit must not rest on one)."""
        refs = self.final.references
        verdict = assess(self.pack, self.task, content, refs, self.final.region)
        return not verdict.possibly_correct and not verdict.assumption

    def wrong_finals(self) -> list[tuple[str, str]]:
        """Final messages that are wrong by construction: the reference's final message with
        the expected answer replaced everywhere (the shape a format-checking grader wants), and
        an honest "I do not know"."""
        made = []
        changed = substitute_answer(self.task, self.reference_final)
        if changed and changed != self.reference_final and self.is_wrong(changed):
            made.append(("wrong-answer", changed))
        made.append(("dont-know", DONT_KNOW))
        return made

    def wrong_final(self) -> str:
        return self.wrong_finals()[0][1]


def final_content(turns: list[dict[str, Any]]) -> str:
    """The content of the last assistant turn that speaks without calling a tool."""
    for turn in reversed(turns):
        if turn.get("role") == "assistant" and not turn.get("tool_calls"):
            return str(turn.get("content") or "")
    return ""


def replace_final(turns: list[dict[str, Any]], content: str | None) -> list[dict[str, Any]]:
    """`turns` whose final message is `content` (added when the last turn calls tools)."""
    turns = [t for t in turns]
    if turns and turns[-1].get("role") == "assistant" and not turns[-1].get("tool_calls"):
        turns[-1] = {"role": "assistant", "content": content}
    else:
        turns.append({"role": "assistant", "content": content})
    return turns


def substitute_answer(task: Task, text: str, new: str | None = None) -> str | None:
    """`text` with every statement of the task's answer replaced by `new` (by default a wrong
    one; None when the task's answer is not found in it)."""
    answer = task.answer
    expected = numeric_answer(task)
    found = [0]
    if expected is not None:
        wrong = distinct_wrong_number(expected, answer_is_integer(task))

        def swap(match: re.Match[str]) -> str:
            try:
                value = float(match.group())
            except ValueError:
                return match.group()
            if not math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-9):
                return match.group()
            found[0] += 1
            if new is not None:
                return new
            decimals = len(match.group().partition(".")[2]) if "." in match.group() else 0
            return f"{wrong:.{decimals}f}" if decimals else format_number(wrong, True)

        changed = NUMBER.sub(swap, text)
        return changed if found[0] else None
    values = (
        [answer]
        if isinstance(answer, str)
        else [v for v in answer.values() if isinstance(v, str)]
        if isinstance(answer, dict)
        else [v for v in answer if isinstance(v, str)]
        if isinstance(answer, list)
        else []
    )
    changed = text
    replacement = "unknown" if new is None else new
    for value in [v for v in values if v.strip()]:
        pattern = re.compile(re.escape(value), re.IGNORECASE)
        found[0] += len(pattern.findall(changed))
        changed = pattern.sub(lambda _m: replacement, changed)
    return changed if found[0] else None


def turns_context(
    pack: EnvPack,
    task: Task,
    tools: tuple[ToolSchema, ...] = (),
    grader_source: str = "",
    ask_persona: Callable[[list[dict[str, Any]]], list[str]] | None = None,
) -> TurnsContext:
    refs = [r.turns for r in pack.references_for(task.id) if r.turns]
    finals = tuple(final_content(t) for t in refs)
    prompt = " ".join(
        str(task.record.get(key) or "") for key in ("system", "prompt") if task.record.get(key)
    )
    final = AttackContext(
        pack=pack,
        task=task,
        references=finals,
        neighbours=tuple(t for t in pack.tasks if t.id != task.id),
        grader_source=grader_source,
        region=learn_region(prompt, finals, task.answer),
    )
    return TurnsContext(
        pack,
        task,
        tuple(copy.deepcopy(refs[0])) if refs else (),
        final,
        tools,
        grader_source,
        ask_persona,
    )
