"""A multi-turn grading's message, split into the grader's value and the replayed episode.

The runner's grading child sends `{"$episode": {...}, "$value": v}` (or `"$error"` when the
grader raised; app/sandbox/runner/grading.py). Everything in it was written by a process that
ran the author's code and the assistant's tool calls, so it is checked like any grader value:
an episode of the wrong shape is dropped (the result says so), never trusted.
"""

from __future__ import annotations

from typing import Any

ROLES = ("system", "user", "assistant", "tool")
MAX_MESSAGES = 400


def split_episode(message: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(the message as a plain grader's, the episode or None)."""
    raw = message.get("raw")
    if message.get("error") or not isinstance(raw, dict) or "$episode" not in raw:
        return message, None
    episode = _checked_episode(raw.get("$episode"))
    if "$error" in raw:
        detail = raw["$error"] if isinstance(raw["$error"], str) else "the grader raised"
        plain = {k: v for k, v in message.items() if k != "raw"}
        return plain | {"error": "exception", "detail": detail}, episode
    if "$value" not in raw:
        plain = {k: v for k, v in message.items() if k != "raw"}
        return plain | {"error": "invalid-reward", "detail": "the episode has no grade"}, episode
    return message | {"raw": raw["$value"]}, episode


def _checked_episode(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    messages = value.get("messages")
    notes = value.get("notes")
    if not isinstance(messages, list) or len(messages) > MAX_MESSAGES:
        return None
    checked = []
    for item in messages:
        if not isinstance(item, dict) or item.get("role") not in ROLES:
            return None
        checked.append(item)
    notes = [n for n in notes if isinstance(n, str)] if isinstance(notes, list) else []
    return {"messages": checked, "notes": notes[:20]}


def tool_results(episode: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(tool name, result) in order: what a determinism check compares."""
    if not episode:
        return []
    return [
        (str(m.get("name", "")), str(m.get("content", "")))
        for m in episode["messages"]
        if m.get("role") == "tool"
    ]
