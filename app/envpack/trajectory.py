"""Multi-turn trajectories as authors write them, made canonical (DESIGN §4.2).

A trajectory in solutions.jsonl / negatives.jsonl is the list of turns the assistant plays,
in OpenAI chat format: `{"role": "assistant", "content": ..., "tool_calls": [...]}`, plus
optional recorded `{"role": "user", ...}` turns (a persona's replies, kept so a replay needs no
model). Tool calls may be written short, `{"name": "lookup", "arguments": {"id": 3}}`; they are
made canonical here, `{"id": "call_1", "type": "function", "function": {"name", "arguments"}}`
with the arguments as JSON text, as every chat API sends them. Tool results are never written:
replaying the calls against tools.py produces them. Stdlib only.
"""

from __future__ import annotations

import json
from typing import Any

TURN_ROLES = ("assistant", "user")
# roles a pasted transcript may hold that a replay makes itself
REPLAYED_ROLES = ("tool", "system")


def normalise_turns(value: Any) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """(canonical turns, errors, notes). Errors make the trajectory unusable; notes say what
    was left out (tool results, a system message) and why."""
    if not isinstance(value, list):
        return [], ['"turns" must be a list of messages, e.g. [{"role": "assistant", ...}]'], []
    turns: list[dict[str, Any]] = []
    errors: list[str] = []
    notes: list[str] = []
    calls = 0
    for index, turn in enumerate(value, start=1):
        where = f"turn {index}"
        if not isinstance(turn, dict):
            errors.append(f"{where} is not a JSON object")
            continue
        role = turn.get("role")
        if role in REPLAYED_ROLES:
            notes.append(
                f'{where} has role "{role}": the replay makes those itself (tool results from '
                "tools.py, the system prompt from the task), so it is left out"
            )
            continue
        if role not in TURN_ROLES:
            errors.append(f'{where} has role {json.dumps(role)}: use "assistant" or "user"')
            continue
        content = turn.get("content")
        if content is not None and not isinstance(content, str):
            errors.append(f'{where}: "content" must be text or null')
            continue
        if role == "user":
            turns.append({"role": "user", "content": content or ""})
            continue
        canonical: dict[str, Any] = {"role": "assistant", "content": content}
        raw_calls = turn.get("tool_calls") or []
        if not isinstance(raw_calls, list):
            errors.append(f'{where}: "tool_calls" must be a list')
            continue
        made = []
        for call in raw_calls:
            calls += 1
            problem, tool_call = _canonical_call(call, calls)
            if problem:
                errors.append(f"{where}, tool call {len(made) + 1}: {problem}")
            else:
                made.append(tool_call)
        if made:
            canonical["tool_calls"] = made
        if content is None and not made:
            errors.append(f'{where}: an assistant turn needs "content" or "tool_calls"')
            continue
        turns.append(canonical)
    if not any(t["role"] == "assistant" for t in turns) and not errors:
        errors.append("the trajectory has no assistant turn")
    return turns, errors, notes


def _canonical_call(call: Any, number: int) -> tuple[str, dict[str, Any]]:
    if not isinstance(call, dict):
        return "it is not a JSON object", {}
    function = call.get("function") if isinstance(call.get("function"), dict) else call
    name = function.get("name")
    if not isinstance(name, str) or not name:
        return 'it has no tool "name"', {}
    arguments = function.get("arguments", {})
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return f"the arguments of {name!r} are not valid JSON", {}
        arguments = parsed
    if not isinstance(arguments, dict):
        return f"the arguments of {name!r} must be a JSON object", {}
    call_id = call.get("id") if isinstance(call.get("id"), str) else f"call_{number}"
    return "", {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)},
    }


def encode_turns(turns: list[dict[str, Any]], user_turns: list[str] | None = None) -> str:
    """The grading response for a trajectory: what the sandbox's replay reads."""
    payload: dict[str, Any] = {"turns": turns}
    if user_turns is not None:
        payload["user_turns"] = list(user_turns)
    return json.dumps(payload, ensure_ascii=False)


def decode_response(response: str) -> list[dict[str, Any]]:
    """The turns of a grading response; anything else (plain text) is one assistant message,
    as the replay reads it."""
    try:
        value = json.loads(response)
    except (ValueError, RecursionError):
        value = None
    if isinstance(value, dict) and isinstance(value.get("turns"), list):
        turns, _errors, _notes = normalise_turns(value["turns"])
        return turns
    return [{"role": "assistant", "content": response}]


def tool_calls(turns: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(turn number, call) for every tool call, in order."""
    return [
        (index, call)
        for index, turn in enumerate(turns, start=1)
        for call in turn.get("tool_calls") or []
    ]


def call_arguments(call: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(call["function"]["arguments"])
    except (KeyError, TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
