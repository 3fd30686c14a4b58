"""Replaying one multi-turn episode in the grading child (stdlib only; DESIGN §4.2).

The loader imports tools.py once; every grading is a fresh fork of it, so each episode starts
from the module's own state and nothing one episode changes reaches the next. The episode:
the task's prompt as the first user message, then the assistant turns of the response in
order. Each tool call runs against tools.py and its result (or its error, as text) becomes a
tool message; after a turn without tool calls the user speaks next: a recorded user turn, else
the next scripted turn (the task's "user" list, or the persona's replies the host computed).
The grader then receives the task and the whole trajectory.

The response comes from anyone (an attack, a model), so it is read defensively: plain text is
one assistant message, and a malformed call becomes an error message, never a crash here.
"""

from __future__ import annotations

import inspect
import json

TOOL_RESULT_CAP = 8000  # characters of one tool message
RESERVED = ("setup",)  # tools.py functions that are hooks, not tools


def load_tools(module) -> dict:
    """name -> function: the public functions tools.py defines itself."""
    if module is None:
        return {}
    return {
        name: value
        for name, value in vars(module).items()
        if inspect.isfunction(value)
        and not name.startswith("_")
        and name not in RESERVED
        and getattr(value, "__module__", None) == module.__name__
    }


def run_episode(task: dict, response, tools_module) -> dict:
    """{"messages": the trajectory, "notes": what the replay had to decide}."""
    turns, user_turns = _read_response(response)
    tools = load_tools(tools_module)
    notes: list[str] = []
    setup = getattr(tools_module, "setup", None) if tools_module is not None else None
    if callable(setup):
        setup(task)
    messages: list[dict] = []
    if isinstance(task.get("system"), str):
        messages.append({"role": "system", "content": task["system"]})
    messages.append({"role": "user", "content": str(task.get("prompt", ""))})
    script = list(user_turns if user_turns is not None else _scripted(task))
    max_turns = _max_turns(task)
    played = 0
    for index, turn in enumerate(turns):
        if turn.get("role") == "user":
            messages.append({"role": "user", "content": _text(turn.get("content"))})
            continue
        if played >= max_turns:
            notes.append(f"max_turns ({max_turns}) reached: {_left(turns, index)} left out")
            break
        played += 1
        message, calls = _assistant(turn, played)
        messages.append(message)
        for call in calls:
            messages.append(_tool_message(call, tools))
        if calls:
            continue
        following = turns[index + 1] if index + 1 < len(turns) else None
        if following is not None and following.get("role") == "user":
            continue
        if script:
            messages.append({"role": "user", "content": script.pop(0)})
        elif following is not None:
            notes.append(f"the user had nothing more to say: {_left(turns, index + 1)} left out")
            break
    return {"messages": messages, "notes": notes}


def _read_response(response):
    try:
        value = json.loads(response) if isinstance(response, str) else response
    except (ValueError, RecursionError):
        value = None
    if isinstance(value, dict) and isinstance(value.get("turns"), list):
        turns = [t for t in value["turns"] if isinstance(t, dict)]
        users = value.get("user_turns")
        users = [_text(u) for u in users] if isinstance(users, list) else None
        return turns, users
    return [{"role": "assistant", "content": _text(response)}], None


def _scripted(task: dict) -> list:
    user = task.get("user")
    return [_text(u) for u in user] if isinstance(user, list) else []


def _max_turns(task: dict) -> int:
    value = task.get("max_turns", 6)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 6


def _left(turns: list, start: int) -> str:
    count = sum(1 for t in turns[start:] if t.get("role") != "user")
    return f"{count} assistant turn{'s' if count != 1 else ''}"


def _text(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, default=str)[:TOOL_RESULT_CAP]


def _assistant(turn: dict, number: int) -> tuple[dict, list]:
    content = turn.get("content")
    message: dict = {"role": "assistant", "content": content if isinstance(content, str) else None}
    calls = []
    raw_calls = turn.get("tool_calls")
    for position, call in enumerate(raw_calls if isinstance(raw_calls, list) else []):
        call = call if isinstance(call, dict) else {}
        function = call.get("function") if isinstance(call.get("function"), dict) else call
        arguments = function.get("arguments", "{}")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, default=str)
        call_id = call.get("id")
        calls.append(
            {
                "id": call_id if isinstance(call_id, str) else f"call_{number}_{position + 1}",
                "type": "function",
                "function": {"name": _text(function.get("name")), "arguments": arguments},
            }
        )
    if calls:
        message["tool_calls"] = calls
    return message, calls


def _tool_message(call: dict, tools: dict) -> dict:
    name = call["function"]["name"]
    return {
        "role": "tool",
        "tool_call_id": call["id"],
        "name": name,
        "content": _call_tool(name, call["function"]["arguments"], tools),
    }


def _call_tool(name: str, arguments: str, tools: dict) -> str:
    function = tools.get(name)
    if function is None:
        known = ", ".join(sorted(tools)) or "none"
        return f"Error: there is no tool named {name[:80]!r} (tools: {known})"
    try:
        parsed = json.loads(arguments) if arguments.strip() else {}
    except (ValueError, RecursionError):
        return "Error: the arguments are not valid JSON"
    if not isinstance(parsed, dict):
        return "Error: the arguments must be a JSON object"
    try:
        inspect.signature(function).bind(**parsed)
    except TypeError as exc:
        return f"Error: {exc}"
    try:
        result = function(**parsed)
    except Exception as exc:  # noqa: BLE001 - a tool's error is the assistant's to read
        return f"Error: {type(exc).__name__}: {str(exc)[:500]}"
    text = result if isinstance(result, str) else json.dumps(result, default=str)
    if len(text) > TOOL_RESULT_CAP:
        return text[:TOOL_RESULT_CAP] + f"\n[cut: {len(text) - TOOL_RESULT_CAP} more characters]"
    return text
