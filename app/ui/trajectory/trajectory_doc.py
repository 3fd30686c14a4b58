"""solutions.jsonl / negatives.jsonl of a multi-turn package, as the trajectory editor edits them.

Plain Python (no Qt). Each line is one trajectory, `{"task_id", "turns": [...], "note"?}`; the
editor changes one line at a time through `app.envpack.jsonl_edit`, so every other line keeps
its exact text. Turns are kept as the author wrote them (a short tool call
`{"name", "arguments": {...}}` stays short); `turn_problems` says, per turn, what
`normalise_turns` and the tool schemas of tools.py (`fitting_problem`) object to.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.envpack.jsonl_edit import JsonlDocument
from app.envpack.tool_schemas import ToolSchema, ToolsFile, fitting_problem, read_tools
from app.envpack.trajectory import normalise_turns
from app.errors import UserError

_TURN_PREFIX = re.compile(r"^turn (\d+)(?:, |: )?(.*)$")


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the file, as the trajectory picker lists it."""

    row: int
    line: int
    task_id: str
    note: str
    valid: bool  # a JSON object with a list of turns

    def label(self) -> str:
        if not self.valid:
            return f"line {self.line}: not a trajectory (edit it in the Text view)"
        note = f" — {self.note}" if self.note else ""
        return f"{self.task_id or '(no task)'} · line {self.line}{note}"


def parse(text: str) -> JsonlDocument:
    return JsonlDocument.parse(text)


def entries(doc: JsonlDocument) -> list[Entry]:
    found = []
    for row, item in enumerate(doc.rows):
        value = item.value if item.valid else None
        ok = isinstance(value, dict) and isinstance(value.get("turns"), list)
        record = value if isinstance(value, dict) else {}
        task_id = record.get("task_id")
        note = record.get("note")
        found.append(
            Entry(
                row,
                doc.line_of(row),
                task_id if isinstance(task_id, str) else "",
                note if isinstance(note, str) else "",
                ok,
            )
        )
    return found


def record(doc: JsonlDocument, row: int) -> dict[str, Any]:
    """A deep copy of the trajectory on `row` (an empty one when the line is not one)."""
    value = doc.rows[row].value if 0 <= row < len(doc.rows) and doc.rows[row].valid else None
    if not isinstance(value, dict):
        return {"task_id": "", "turns": []}
    return copy.deepcopy(value)


def turns_of(doc: JsonlDocument, row: int) -> list[dict[str, Any]]:
    turns = record(doc, row).get("turns")
    return turns if isinstance(turns, list) else []


# -- one call, short or canonical ---------------------------------------------------------------


def call_name(call: Any) -> str:
    if not isinstance(call, dict):
        return ""
    function = call.get("function") if isinstance(call.get("function"), dict) else call
    name = function.get("name")
    return name if isinstance(name, str) else ""


def call_arguments_text(call: Any) -> str:
    """The call's arguments as indented JSON, for editing."""
    if not isinstance(call, dict):
        return "{}"
    function = call.get("function") if isinstance(call.get("function"), dict) else call
    arguments = function.get("arguments", {})
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return arguments
    return json.dumps(arguments, ensure_ascii=False, indent=2)


def with_call(call: Any, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """`call` with a new name and arguments, in the form it was written (short or canonical)."""
    if isinstance(call, dict) and isinstance(call.get("function"), dict):
        updated = copy.deepcopy(call)
        as_text = isinstance(call["function"].get("arguments"), str)
        updated["function"]["name"] = name
        updated["function"]["arguments"] = (
            json.dumps(arguments, ensure_ascii=False) if as_text else arguments
        )
        return updated
    return {"name": name, "arguments": arguments}


def parse_arguments(text: str) -> tuple[dict[str, Any] | None, str]:
    """(arguments, "") or (None, why the text is not a JSON object)."""
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        return None, f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
    if not isinstance(value, dict):
        return None, 'the arguments must be a JSON object, e.g. {"region": "north"}'
    return value, ""


def skeleton(tool: ToolSchema | None) -> dict[str, Any]:
    """Arguments to start from: each required parameter with an empty value of its type."""
    if tool is None:
        return {}
    empty = {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}
    return {p.name: empty.get(p.schema.get("type"), "") for p in tool.params if p.required}


# -- problems -------------------------------------------------------------------------------------


def call_problem(call: Any, tools: ToolsFile | None) -> str:
    """What is wrong with one call against tools.py ("" when it fits)."""
    name = call_name(call)
    if not name:
        return 'the call has no tool "name"'
    if tools is None:
        return "the package has no tools.py, so there is no tool to call"
    if tools.error:
        return ""  # the tools.py error is shown once, above the conversation
    tool = tools.get(name)
    if tool is None:
        known = ", ".join(t.name for t in tools.tools) or "none"
        return f"tools.py has no tool named {name!r} (its tools: {known})"
    arguments, why = parse_arguments(call_arguments_text(call))
    if arguments is None:
        return why
    problem = fitting_problem(tool, arguments)
    return f"{tool.signature()}: {problem}" if problem else ""


def turn_problems(
    turns: list[Any], tools: ToolsFile | None
) -> tuple[dict[int, list[str]], list[str]]:
    """({turn index: problems}, problems of the whole trajectory)."""
    per_turn: dict[int, list[str]] = {}
    overall: list[str] = []
    _turns, errors, _notes = normalise_turns(turns)
    for error in errors:
        match = _TURN_PREFIX.match(error)
        if match:
            per_turn.setdefault(int(match.group(1)) - 1, []).append(match.group(2) or error)
        else:
            overall.append(error)
    for index, turn in enumerate(turns):
        calls = turn.get("tool_calls") if isinstance(turn, dict) else None
        for number, call in enumerate(calls if isinstance(calls, list) else [], start=1):
            said = per_turn.get(index, [])
            if any(p.startswith(f"tool call {number}:") for p in said):
                continue  # normalise_turns already said what is wrong with it
            problem = call_problem(call, tools)
            if problem:
                per_turn.setdefault(index, []).append(f"tool call {number}: {problem}")
    return per_turn, overall


@dataclass(slots=True)
class PackageContext:
    """What the editor shows beside a trajectory: the tasks by id and tools.py's schemas."""

    tasks: dict[str, dict[str, Any]]
    tools: ToolsFile | None  # None: the package has no tools.py


def read_context(root: Path, tasks_file: str) -> PackageContext:
    """The tasks and tools as saved (read each time a trajectory is shown: cheap, AST only)."""
    tasks: dict[str, dict[str, Any]] = {}
    try:
        document = JsonlDocument.load(root / tasks_file)
    except UserError:
        document = JsonlDocument()
    for value in document.values():
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            tasks.setdefault(value["id"], value)
    try:
        tools = read_tools((root / "tools.py").read_text(encoding="utf-8"))
    except FileNotFoundError:
        tools = None
    except (OSError, UnicodeDecodeError) as exc:
        tools = ToolsFile(error=f"tools.py cannot be read: {exc}")
    return PackageContext(tasks, tools)
