"""The edits the trajectory editor makes to one trajectory record, `{"task_id", "turns", ...}`.

Plain Python (no Qt): each function changes the record in place; the editor applies it to a
copy of the line's value and writes the line back as one undoable step.
"""

from __future__ import annotations

from typing import Any

from app.ui.trajectory.trajectory_doc import with_call


def turn_list(record: dict[str, Any]) -> list[Any]:
    if not isinstance(record.get("turns"), list):
        record["turns"] = []
    return record["turns"]


def set_content(record: dict[str, Any], index: int, text: str) -> None:
    turn = turn_list(record)[index]
    if text or turn.get("role") == "user" or not turn.get("tool_calls"):
        turn["content"] = text
    else:
        turn.pop("content", None)  # a turn that only calls tools has no text


def set_call(
    record: dict[str, Any], index: int, number: int, name: str, arguments: dict[str, Any]
) -> None:
    calls = turn_list(record)[index]["tool_calls"]
    calls[number] = with_call(calls[number], name, arguments)


def remove_call(record: dict[str, Any], index: int, number: int) -> None:
    turn = turn_list(record)[index]
    del turn["tool_calls"][number]
    if not turn["tool_calls"]:
        del turn["tool_calls"]
        turn.setdefault("content", "")


def add_call(record: dict[str, Any], index: int, name: str, arguments: dict[str, Any]) -> None:
    """A short-form call (as authors write them) at the end of the turn's calls."""
    turn = turn_list(record)[index]
    turn.setdefault("tool_calls", []).append({"name": name, "arguments": arguments})
    if turn.get("content") == "":
        del turn["content"]


def insert_turn(record: dict[str, Any], at: int, turn: dict[str, Any]) -> None:
    turn_list(record).insert(at, turn)


def delete_turn(record: dict[str, Any], index: int) -> None:
    turn_list(record).pop(index)


def move_turn(record: dict[str, Any], index: int, step: int) -> None:
    items = turn_list(record)
    items.insert(index + step, items.pop(index))


def set_field(record: dict[str, Any], key: str, value: Any) -> None:
    record[key] = value
