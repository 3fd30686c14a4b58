"""Grades a client intake: the assistant's last message must hold a JSON summary whose name,
incident date and kind of matter are what the client said. Receives the task and the whole
trajectory (OpenAI chat messages: system, user, assistant)."""

import json
import re

FIELDS = ("name", "incident_date", "matter")
BLOCK = re.compile(r"```json\s*(\{.*?\})\s*```", re.DOTALL)


def grade(task, trajectory):
    said = [m["content"] for m in trajectory if m["role"] == "user"]
    if not all(turn in said for turn in task["user"]):
        return {"reward": 0.0, "feedback": "the summary came before the client told everything"}
    last = next((m for m in reversed(trajectory) if m["role"] == "assistant"), None)
    blocks = BLOCK.findall(last.get("content") or "") if last else []
    if len(blocks) != 1:
        return {"reward": 0.0, "feedback": f"expected one ```json summary, found {len(blocks)}"}
    try:
        summary = json.loads(blocks[0])
    except ValueError:
        return {"reward": 0.0, "feedback": "the summary is not valid JSON"}
    if not isinstance(summary, dict):
        return {"reward": 0.0, "feedback": "the summary is not a JSON object"}
    right = {
        f: str(summary.get(f, "")).strip().lower() == task["answer"][f].lower() for f in FIELDS
    }
    return {"reward": 1.0 if all(right.values()) else 0.0, "metrics": right}
