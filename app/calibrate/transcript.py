"""A failing conversation as the card shows it: the replayed episode as plain text (who said
what, which tools were called and what they gave back), each rubric criterion's score, and why
the episode ended. The card's "Why did it fail?" shows `response` as text, so the transcript goes
there; the messages themselves are kept too (`conversation`), shortened."""

from __future__ import annotations

from typing import Any

from app.calibrate.grading import Graded

TRANSCRIPT_CHARS = 2000  # the end of a long conversation is kept: the answer is there
MESSAGE_CHARS = 400  # of one message, in the transcript and in `conversation`
MESSAGES_KEPT = 40


def transcript(messages: list[dict[str, Any]]) -> str:
    lines = []
    for message in messages:
        role = str(message.get("role", "?"))
        content = _short(message.get("content"))
        if role == "tool":
            lines.append(f"[{message.get('name') or 'tool'} →] {content}")
            continue
        if content or role != "assistant":
            lines.append(f"{role}: {content}")
        for call in message.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            function = function if isinstance(function, dict) else {}
            lines.append(
                f"assistant calls {function.get('name', '?')}({_short(function.get('arguments'))})"
            )
    text = "\n".join(lines)
    if len(text) > TRANSCRIPT_CHARS:
        text = "…" + text[-TRANSCRIPT_CHARS:]
    return text


def conversation_failure(entry: dict[str, Any], graded: Graded) -> dict[str, Any]:
    """A failure entry of the card, for a conversation."""
    messages = (graded.result.episode or {}).get("messages") or []
    scores = {
        name: outcome.get("score") for name, outcome in (graded.result.criteria or {}).items()
    }
    said = " · ".join(
        f"{name} {'not graded' if score is None else format(score, '.2f')}"
        for name, score in scores.items()
    )
    feedback = "; ".join(part for part in (said, entry.get("feedback") or "") if part)
    return entry | {
        "response": transcript(messages) or "(no conversation came back from the replay)",
        "feedback": feedback,
        "criteria": scores,
        "turns": sum(1 for m in messages if m.get("role") == "assistant"),
        "ended": graded.sample.finish_reason,
        "conversation": [
            {**m, "content": _short(m.get("content"))} for m in messages[-MESSAGES_KEPT:]
        ],
    }


def _short(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS] + "…"
