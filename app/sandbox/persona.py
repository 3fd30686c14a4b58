"""The persona user of a multi-turn task, played by a model on the trusted side (DESIGN §4.2).

A task whose "user" is `{"persona": "...", "model"?: "..."}` has no scripted replies: after
each assistant turn that speaks (no tool calls) and is followed by another assistant turn, a
model playing the persona answers. The persona sees only what a user sees, the assistant's
text, never tool calls or results, so its replies for a given trajectory can be computed here,
before the replay, and sent in with the trajectory as `user_turns`. The sandbox never calls a
model.

Replies are remembered for the process's lifetime (keyed by model, persona and conversation):
stage 2 replays every trajectory twice, and the second replay must hear the same user.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from app.envpack.model import EnvPack
from app.envpack.trajectory import encode_turns
from app.sandbox.base import GradingItem, GradingResult

MAX_REPLY_TOKENS = 300
_remembered: dict[str, str] = {}
_lock = threading.Lock()


class PersonaUnavailable(Exception):
    """The persona could not be asked: says why and what to do."""


def persona_of(task: dict[str, Any]) -> dict[str, Any] | None:
    user = task.get("user")
    if isinstance(user, dict) and isinstance(user.get("persona"), str) and user["persona"]:
        return user
    return None


def with_persona_replies(
    pack: EnvPack, items: list[GradingItem], judge: Any
) -> tuple[list[GradingItem], dict[str, GradingResult]]:
    """The items with their persona replies added; a result for each item whose persona could
    not be asked (it is not sent to the sandbox)."""
    ready: list[GradingItem] = []
    failed: dict[str, GradingResult] = {}
    for item in items:
        persona = persona_of(item.task)
        turns = turns_without_replies(item.response) if persona else None
        if persona is None or turns is None:
            ready.append(item)
            continue
        try:
            replies = persona_replies(item.task, persona, turns, judge)
        except PersonaUnavailable as exc:
            failed[item.key] = GradingResult(
                key=item.key, reward=None, error="judge-unavailable", detail=str(exc)
            )
            continue
        ready.append(
            GradingItem(item.key, item.task, encode_turns(turns, replies), item.expect_answer)
        )
    return ready, failed


def turns_without_replies(response: str) -> list[dict[str, Any]] | None:
    """The turns of a trajectory that still needs the persona's replies; None otherwise."""
    try:
        value = json.loads(response)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or "user_turns" in value:
        return None
    turns = value.get("turns")
    return turns if isinstance(turns, list) else None


Ask = Callable[[str, list[dict[str, str]]], str]  # (model, messages) -> the persona's reply


def persona_replies(
    task: dict[str, Any],
    persona: dict[str, Any],
    turns: list[dict[str, Any]],
    judge: Any,
    ask: Ask | None = None,
) -> list[str]:
    """The persona's reply after each speaking assistant turn that another assistant turn
    follows without a recorded user turn between them. `ask` puts each question to the model
    (calibration passes its own: its cache and its cap); by default the judge's settings are
    used, and replies are remembered for the process's lifetime."""
    ask = ask or (lambda model, messages: _ask(model, messages, judge))
    model = str(persona.get("model") or "").strip()
    if not model:
        raise PersonaUnavailable(
            f"task {task.get('id')!r}: the user is a persona but no model plays it; add "
            '"model": "openai/gpt-4o-mini" (any litellm model) to the task\'s "user", or '
            'record the persona\'s replies as {"role": "user", ...} turns'
        )
    seen: list[dict[str, str]] = [{"role": "assistant", "content": str(task.get("prompt", ""))}]
    replies: list[str] = []
    turns = [t for t in turns if isinstance(t, dict)]
    for index, turn in enumerate(turns):
        if turn.get("role") == "user":  # a recorded reply: the persona said it
            seen.append({"role": "assistant", "content": str(turn.get("content") or "")})
            continue
        if turn.get("tool_calls"):
            continue
        seen.append({"role": "user", "content": str(turn.get("content") or "")})
        following = turns[index + 1] if index + 1 < len(turns) else None
        if following is None or following.get("role") == "user":
            continue
        reply = ask(model, persona_messages(persona["persona"], seen))
        replies.append(reply)
        seen.append({"role": "assistant", "content": reply})
    return replies


def persona_messages(persona: str, seen: list[dict[str, str]]) -> list[dict[str, str]]:
    """What the persona's model is asked: its character, then the conversation as the user
    sees it (the assistant's words in the "user" seat)."""
    return [
        {
            "role": "system",
            "content": "You are role-playing a user who talks to an AI assistant. Stay in "
            f"character and reply with the user's next message only, briefly.\n\n{persona}",
        },
        *seen,
    ]


def _ask(model: str, messages: list[dict[str, str]], judge: Any) -> str:
    from app.llm import LLMUnavailable, complete

    key = json.dumps([model, getattr(judge, "api_base", None), messages], sort_keys=True)
    with _lock:
        if key in _remembered:
            return _remembered[key]
    if not getattr(judge, "api_key", None) and not getattr(judge, "use_environment", True):
        raise PersonaUnavailable("no model key is available to play the persona user here")
    try:
        reply = complete(
            messages,
            model=model,
            api_key=getattr(judge, "api_key", None),
            api_base=getattr(judge, "api_base", None),
            max_tokens=MAX_REPLY_TOKENS,
        )
    except LLMUnavailable as exc:
        raise PersonaUnavailable(f"the persona's model could not be asked: {exc}") from exc
    text = (reply.text or "").strip()
    with _lock:
        _remembered[key] = text
    return text
