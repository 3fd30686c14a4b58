"""The one door to language models: a thin, honest wrapper around litellm.

Both the LLM judge grader and the LLM red team call `complete`. It works with any provider
litellm supports (the model string picks it: "openai/gpt-4o-mini", "anthropic/claude-...",
"ollama/llama3", or "openai/<name>" plus `api_base` for any OpenAI-compatible server). Keys
come from the caller (resolved from the OS keychain) or from litellm's usual environment
variables; they are never logged.

litellm is imported lazily: it takes a second or more to import, and most runs never need it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 60.0


class LLMUnavailable(Exception):
    """The model could not be asked: no key, unknown model, provider unreachable or refusing."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as the model wrote it (it may be invalid)


@dataclass(frozen=True, slots=True)
class LLMReply:
    text: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None  # None when the provider's prices are unknown (local models...)
    finish_reason: str = ""
    tool_calls: tuple[ToolCall, ...] = ()


def _litellm() -> Any:
    # Use the price table shipped with litellm instead of fetching one from the internet.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    return litellm


def complete(
    messages: list[dict[str, Any]],
    *,
    model: str,
    api_key: str | None = None,
    api_base: str | None = None,
    max_tokens: int = 1024,
    temperature: float = 0.0,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    tools: list[dict[str, Any]] | None = None,
) -> LLMReply:
    """Ask `model` for one chat completion (offering `tools`, OpenAI function-calling schemas,
    when given). Blocking: call it from a worker thread."""
    if not model or ("/" not in model and not _known_model(model)):
        raise LLMUnavailable(
            f"'{model or '(none)'}' is not a model name litellm knows",
            (
                "use a provider-prefixed name such as 'openai/gpt-4o-mini' "
                "or 'anthropic/claude-3-5-haiku-latest'"
            ),
        )
    litellm = _litellm()
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "max_tokens": max_tokens,
        "temperature": temperature,
        "timeout": timeout_s,
        "num_retries": 0,
    }
    if api_key:
        kwargs["api_key"] = api_key
    if api_base:
        kwargs["api_base"] = api_base
    if tools:
        kwargs["tools"] = tools
    try:
        response = litellm.completion(**kwargs)
    except Exception as exc:  # litellm maps every provider's errors onto its own classes
        raise _explain(exc, model) from exc
    return _reply_from(response, model)


def _reply_from(response: Any, model: str) -> LLMReply:
    try:
        choice = response.choices[0]
        text = choice.message.content or ""
        finish = getattr(choice, "finish_reason", "") or ""
        calls = tuple(_tool_call(call) for call in (choice.message.tool_calls or ()))
    except (AttributeError, IndexError, TypeError) as exc:
        raise LLMUnavailable(
            f"the model '{model}' sent a reply with no message", "try again"
        ) from exc
    usage = getattr(response, "usage", None)
    prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
    return LLMReply(
        text=text,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=estimate_cost(model, prompt_tokens, completion_tokens),
        finish_reason=str(finish),
        tool_calls=calls,
    )


def _tool_call(call: Any) -> ToolCall:
    function = getattr(call, "function", None)
    return ToolCall(
        id=str(getattr(call, "id", "") or ""),
        name=str(getattr(function, "name", "") or ""),
        arguments=str(getattr(function, "arguments", "") or ""),
    )


def prompt_token_bound(model: str, messages: list[dict[str, Any]]) -> int:
    """A generous prompt size for budgeting: never trust one tokenizer to match the
    provider's, so take the larger of its count and a character estimate, plus 10%."""
    import json

    chars = len(json.dumps(messages, ensure_ascii=False))
    return int(max(count_tokens(model, messages), chars / 3) * 1.1) + 8 * len(messages)


def estimate_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """Dollar cost from litellm's price table; None when the model's price is unknown."""
    try:
        prompt_cost, completion_cost = _litellm().cost_per_token(
            model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
    except Exception:
        return None
    return float(prompt_cost) + float(completion_cost)


def count_tokens(model: str, messages: list[dict[str, Any]]) -> int:
    """Token count for a prompt
    (litellm's tokenizer for the model; a character estimate if none).
    """
    try:
        return int(_litellm().token_counter(model=model, messages=messages))
    except Exception:
        return sum(len(str(m.get("content") or "")) for m in messages) // 4 + 4 * len(messages)


def _known_model(model: str) -> bool:
    try:
        return model in _litellm().model_cost
    except Exception:
        return False


def _explain(exc: Exception, model: str) -> LLMUnavailable:
    name = type(exc).__name__
    text = str(exc).splitlines()[0][:300] if str(exc) else name
    if "Authentication" in name or "api_key" in text.lower() or "api key" in text.lower():
        return LLMUnavailable(
            f"no valid API key for '{model}'",
            "add the provider's key in Settings → Language "
            "models (it is kept in your OS keychain), "
            "or set the provider's usual environment variable",
        )
    if any(word in name for word in ("Connection", "Timeout", "ServiceUnavailable")) or (
        "connection error" in text.lower()
    ):
        return LLMUnavailable(
            f"could not reach the provider for '{model}' ({name})",
            "check your internet connection or the server address (api_base), then try again",
        )
    if "RateLimit" in name:
        return LLMUnavailable(
            f"the provider is rate-limiting '{model}'", "wait a minute and try again"
        )
    if "NotFound" in name or "BadRequest" in name:
        return LLMUnavailable(
            f"the provider refused the request for '{model}': {text}", "check the model name"
        )
    return LLMUnavailable(
        f"the model '{model}' failed: {name}: {text}", "check the model settings and try again"
    )
