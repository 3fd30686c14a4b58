"""Stage 2 for multi-turn packages: the replays themselves (DESIGN §4.2).

Each reference and negative trajectory was replayed twice, in two fresh sandboxes. The tools
must have answered the same calls the same way both times (GX216), and a reference must have
been played whole: not cut at max_turns, nor past the end of the scripted user (GX217).
"""

from __future__ import annotations

from typing import Any

from app.finding_codes import FindingSink
from app.sandbox.base import GradingResult
from app.sandbox.episode_result import tool_results


def check_episodes(
    sink: FindingSink,
    roles: dict[str, Any],
    first: list[GradingResult],
    second: list[GradingResult] | None,
) -> dict[str, Any]:
    """Findings on the replays; the details the report keeps (episodes replayed, tool calls)."""
    calls = 0
    for index, result in enumerate(first):
        role = roles[result.key]
        calls += len(tool_results(result.episode))
        if second is not None:
            _compare(sink, role, result, second[index])
        if role.kind == "reference" and result.episode and result.episode["notes"]:
            sink.report(
                "GX217",
                f"the reference for task {role.task_id!r} was not played whole: "
                + "; ".join(result.episode["notes"]),
                file=role.file,
                line=role.line,
                task_id=role.task_id,
            )
    return {"episodes": len(first), "tool_calls": calls}


def _compare(sink: FindingSink, role, a: GradingResult, b: GradingResult) -> None:
    first, second = tool_results(a.episode), tool_results(b.episode)
    for number, (one, two) in enumerate(zip(first, second, strict=False), start=1):
        if one != two:
            sink.report(
                "GX216",
                f"replaying the {role.kind} for task {role.task_id!r} twice, tool call "
                f"{number} ({one[0]}) answered differently",
                file="tools.py",
                task_id=role.task_id,
                evidence={"first": one[1][:300], "second": two[1][:300]},
            )
            return


MESSAGE_CHARS = 400
MESSAGES_KEPT = 24


def conversation_excerpt(episode: dict[str, Any]) -> list[dict[str, Any]]:
    """The replayed conversation as a finding's evidence: every message, each cut to a few
    hundred characters (the report stays small; the editor's replay shows it whole)."""
    kept = []
    for message in episode["messages"][-MESSAGES_KEPT:]:
        item = {"role": message.get("role"), "content": str(message.get("content") or "")}
        item["content"] = item["content"][:MESSAGE_CHARS]
        if message.get("tool_calls"):
            item["tool_calls"] = [
                f"{(c.get('function') or {}).get('name', '')}"
                f"({str((c.get('function') or {}).get('arguments', ''))[:200]})"
                for c in message["tool_calls"]
            ]
        if message.get("name"):
            item["name"] = message["name"]
        kept.append(item)
    if episode.get("notes"):
        kept.append({"role": "note", "content": "; ".join(episode["notes"])})
    return kept
