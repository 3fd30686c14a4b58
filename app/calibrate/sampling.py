"""Sampling for `gauntlet calibrate`: every (model, task, sample) asked once through app.llm,
cached on disk, within a dollar cap that is never crossed, with bounded concurrency and
backoff on the provider's rate limits.

The cache key is a sha256 of the model, the messages and the sampling parameters (with the
sample's index, so k samples are k entries); a multi-turn request's key also holds the tools
offered, and its messages the tool calls and results so far (app/calibrate/episodes.py). The
server address is not part of it: a model name means the same model wherever it is served.
Each completion is written atomically the moment it arrives, so an interrupted run loses
nothing it paid for and a re-run resumes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import llm
from app.atomic import write_text_atomic
from app.paths import cache_dir

CACHE_VERSION = 1
PROMPT_MARGIN = 1.1  # tokenizers differ from the provider's count; reserve a little more
MAX_BACKOFF_S = 60.0


@dataclass(frozen=True, slots=True)
class SampleRequest:
    model: str
    task_id: str
    index: int  # 0..k-1
    messages: tuple[tuple[str, str], ...]  # (role, content): hashable, in order
    kind: str = "sample"  # or a contamination probe (app/calibrate/contamination.py)
    # a multi-turn turn only (JSON text, so the request stays hashable): the whole conversation
    # so far, tool calls and results included, and the tools offered (OpenAI schemas)
    chat: str = ""
    tools: str = ""

    def message_dicts(self) -> list[dict[str, Any]]:
        if self.chat:
            return json.loads(self.chat)
        return [{"role": role, "content": content} for role, content in self.messages]

    def tool_dicts(self) -> list[dict[str, Any]] | None:
        return json.loads(self.tools) if self.tools else None


@dataclass(slots=True)
class Sample:
    request: SampleRequest
    text: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    finish_reason: str
    cached: bool
    tool_calls: tuple[llm.ToolCall, ...] = ()  # a multi-turn turn's calls


@dataclass(frozen=True, slots=True)
class SamplingSettings:
    max_tokens: int = 1024
    temperature: float = 1.0
    concurrency: int = 4
    budget_usd: float = 5.0
    api_base: str | None = None
    api_keys: dict[str, str | None] = field(default_factory=dict)  # model -> key
    max_retries: int = 5  # per request, on rate limits only
    backoff_s: float = 1.0  # first wait when the provider gives no Retry-After

    def params(self) -> dict[str, Any]:
        """The parameters that change a completion, hence part of its cache key."""
        return {"max_tokens": self.max_tokens, "temperature": self.temperature}


class CompletionCache:
    """One JSON file per completion under the user cache dir (or `root`)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_dir() / "calibrate"

    @staticmethod
    def key(request: SampleRequest, params: dict[str, Any]) -> str:
        body = {
            "v": CACHE_VERSION,
            "model": request.model,
            "messages": request.message_dicts(),
            "params": params,
            "sample": request.index,
        }
        if request.tools:  # absent otherwise: single-turn keys are what they always were
            body["tools"] = request.tool_dicts()
        blob = json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            record = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # missing or unreadable: ask again
        return record if isinstance(record, dict) and isinstance(record.get("text"), str) else None

    def put(self, key: str, record: dict[str, Any]) -> None:
        write_text_atomic(self._path(key), json.dumps(record, ensure_ascii=False))


@dataclass(slots=True)
class Estimate:
    """The most the uncached requests can cost: their prompts plus `max_tokens` each."""

    requests: int
    cached: int
    prompt_tokens: int
    completion_tokens: int
    usd: float  # over the priced models only
    unpriced_models: list[str]

    def describe(self, budget_usd: float) -> str:
        if not self.requests:
            return f"all {self.cached} completions are cached: this run costs nothing"
        cost = f"at most ${self.usd:.4f}"
        if self.unpriced_models:
            priced = f"{cost} for the priced models; " if self.usd else ""
            cost = (
                f"{priced}no known price for {', '.join(self.unpriced_models)} (free on a local "
                "server; elsewhere the cap cannot count their cost)"
            )
        return (
            f"{self.requests} requests to make ({self.cached} cached): at most "
            f"{self.prompt_tokens} prompt + {self.completion_tokens} completion tokens, "
            f"{cost}; hard cap ${budget_usd:.2f}"
        )


@dataclass(slots=True)
class SamplingOutcome:
    samples: list[Sample] = field(default_factory=list)
    cache_hits: int = 0
    requests_made: int = 0
    retries: int = 0
    spent_usd: float = 0.0
    unpriced_models: set[str] = field(default_factory=set)
    not_sampled: int = 0  # left out: the budget, or an error, stopped the run
    stopped_by_budget: bool = False
    error: llm.LLMUnavailable | None = None


ProgressFn = Callable[[int, int, Sample], None]  # done, total, the sample just finished


class Sampler:
    """Runs the requests; `complete`, `estimate_cost` and `count_tokens` default to app.llm's."""

    def __init__(
        self,
        settings: SamplingSettings,
        cache: CompletionCache | None = None,
        *,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.cache = cache or CompletionCache()
        self._sleep = sleep
        self._worst: dict[SampleRequest, float | None] = {}

    # -- cost ---------------------------------------------------------------------------------

    def _prompt_tokens(self, request: SampleRequest) -> int:
        if request.chat or request.tools:  # a conversation: tool calls and schemas count too
            return llm.prompt_token_bound(request.model, request.message_dicts()) + math.ceil(
                len(request.tools) / 3 * PROMPT_MARGIN
            )
        counted = llm.count_tokens(request.model, request.message_dicts())
        return math.ceil(counted * PROMPT_MARGIN) + 8

    def worst_cost(self, request: SampleRequest) -> float | None:
        """The most one request can cost (None: the model's price is unknown)."""
        if request not in self._worst:
            self._worst[request] = llm.estimate_cost(
                request.model, self._prompt_tokens(request), self.settings.max_tokens
            )
        return self._worst[request]

    def estimate(self, requests: list[SampleRequest]) -> Estimate:
        params = self.settings.params()
        todo = [r for r in requests if self.cache.get(self.cache.key(r, params)) is None]
        priced = [(r, self.worst_cost(r)) for r in todo]
        return Estimate(
            requests=len(todo),
            cached=len(requests) - len(todo),
            prompt_tokens=sum(self._prompt_tokens(r) for r in todo),
            completion_tokens=len(todo) * self.settings.max_tokens,
            usd=sum(cost for _, cost in priced if cost is not None),
            unpriced_models=sorted({r.model for r, cost in priced if cost is None}),
        )

    # -- the run ------------------------------------------------------------------------------

    def run(
        self,
        requests: list[SampleRequest],
        progress: ProgressFn | None = None,
        cancelled: Callable[[], bool] = bool,
    ) -> SamplingOutcome:
        """Every request; once `cancelled()`, no new one starts (those in flight finish and are
        cached) and the outcome counts the rest as not sampled."""
        return asyncio.run(self._run(requests, progress, cancelled))

    async def _run(
        self,
        requests: list[SampleRequest],
        progress: ProgressFn | None,
        cancelled: Callable[[], bool] = bool,
    ) -> SamplingOutcome:
        outcome = SamplingOutcome()
        queue = list(reversed(requests))  # pop() from the end keeps the given order
        state = {"reserved": 0.0, "stop": False, "done": 0}

        async def worker() -> None:
            while queue and not state["stop"] and not cancelled():
                request = queue.pop()
                sample = await self._one(request, outcome, state)
                if sample is None:
                    return  # the budget or an error stopped the run; counted below
                outcome.samples.append(sample)
                state["done"] += 1
                if progress is not None:
                    progress(state["done"], len(requests), sample)

        workers = max(1, min(self.settings.concurrency, len(requests)))
        await asyncio.gather(*(worker() for _ in range(workers)))
        outcome.not_sampled = len(requests) - len(outcome.samples)
        order = {request: i for i, request in enumerate(requests)}
        outcome.samples.sort(key=lambda s: order[s.request])
        return outcome

    def ask_round(
        self, requests: list[SampleRequest], outcome: SamplingOutcome
    ) -> list[Sample | llm.LLMUnavailable | None]:
        """Each request once (the cache first), in parallel within the concurrency bound, counted
        into `outcome` (its spend and the cap carry over from call to call: a multi-turn run asks
        one round of turns at a time). None for a request the cap or an error stopped; once
        stopped, every later call asks nothing. A request the provider refuses (a bad request,
        such as a conversation grown past the model's context) gets its error, and the others
        go on."""
        return asyncio.run(self._round(requests, outcome))

    async def _round(
        self, requests: list[SampleRequest], outcome: SamplingOutcome
    ) -> list[Sample | llm.LLMUnavailable | None]:
        answers: list[Sample | llm.LLMUnavailable | None] = [None] * len(requests)
        stopped = outcome.stopped_by_budget or outcome.error is not None
        state = {"reserved": 0.0, "stop": stopped, "refused": {}}
        queue = list(reversed(list(enumerate(requests))))

        async def worker() -> None:
            while queue and not state["stop"]:
                index, request = queue.pop()
                answers[index] = await self._one(request, outcome, state)
                answers[index] = answers[index] or state["refused"].pop(request, None)

        workers = max(1, min(self.settings.concurrency, len(requests)))
        await asyncio.gather(*(worker() for _ in range(workers)))
        return answers

    async def _one(
        self, request: SampleRequest, outcome: SamplingOutcome, state: dict[str, Any]
    ) -> Sample | None:
        """One sample from the cache or the model; None when the run must stop."""
        key = self.cache.key(request, self.settings.params())
        record = self.cache.get(key)
        if record is not None:
            outcome.cache_hits += 1
            return sample_from(request, record, cached=True)
        worst = self.worst_cost(request)
        if worst is None:
            outcome.unpriced_models.add(request.model)
        elif outcome.spent_usd + state["reserved"] + worst > self.settings.budget_usd:
            state["stop"] = True  # the next request could cross the cap: stop scheduling
            outcome.stopped_by_budget = True
            return None
        state["reserved"] += worst or 0.0
        try:
            reply = await self._ask(request, outcome)
        except llm.LLMUnavailable as exc:
            if "refused" in state and is_refusal(exc):
                state["refused"][request] = exc  # this request only (a multi-turn round)
                return None
            state["stop"] = True
            outcome.error = outcome.error or exc
            return None
        finally:
            state["reserved"] -= worst or 0.0
        outcome.requests_made += 1
        cost = reply.cost_usd
        outcome.spent_usd += cost or 0.0
        record = {
            "model": request.model,
            "text": reply.text,
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "cost_usd": cost,
            "finish_reason": reply.finish_reason,
        }
        if reply.tool_calls:
            record["tool_calls"] = [
                {"id": c.id, "name": c.name, "arguments": c.arguments} for c in reply.tool_calls
            ]
        await asyncio.to_thread(self.cache.put, key, record)  # its fsync must not stall the loop
        return sample_from(request, record, cached=False)

    async def _ask(self, request: SampleRequest, outcome: SamplingOutcome) -> llm.LLMReply:
        """One completion, waiting and retrying while the provider rate-limits."""
        settings = self.settings
        for attempt in range(settings.max_retries + 1):
            try:
                return await asyncio.to_thread(
                    llm.complete,
                    request.message_dicts(),
                    model=request.model,
                    api_key=settings.api_keys.get(request.model),
                    api_base=settings.api_base,
                    max_tokens=settings.max_tokens,
                    temperature=settings.temperature,
                    tools=request.tool_dicts(),
                )
            except llm.LLMUnavailable as exc:
                if not is_rate_limit(exc) or attempt == settings.max_retries:
                    raise
                outcome.retries += 1
                wait = retry_after_s(exc)
                await self._sleep(
                    min(
                        MAX_BACKOFF_S, wait if wait is not None else settings.backoff_s * 2**attempt
                    )
                )
        raise AssertionError("unreachable")  # the loop returns or raises


def is_rate_limit(exc: llm.LLMUnavailable) -> bool:
    cause = exc.__cause__
    return cause is not None and "RateLimit" in type(cause).__name__


def is_refusal(exc: llm.LLMUnavailable) -> bool:
    """The provider refused this request (not the model, the key or the connection)."""
    name = type(exc.__cause__).__name__ if exc.__cause__ is not None else ""
    return "BadRequest" in name or "ContextWindow" in name


def retry_after_s(exc: llm.LLMUnavailable) -> float | None:
    """The provider's Retry-After (seconds), when its rate-limit reply carried one."""
    cause = exc.__cause__
    headers = getattr(cause, "litellm_response_headers", None) or getattr(
        getattr(cause, "response", None), "headers", None
    )
    try:
        value = headers.get("retry-after") if headers is not None else None
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError, AttributeError):
        return None  # an HTTP date or garbage: use our own backoff


def sample_from(request: SampleRequest, record: dict[str, Any], *, cached: bool) -> Sample:
    return Sample(
        request=request,
        text=str(record.get("text", "")),
        prompt_tokens=int(record.get("prompt_tokens") or 0),
        completion_tokens=int(record.get("completion_tokens") or 0),
        cost_usd=record.get("cost_usd"),
        finish_reason=str(record.get("finish_reason") or ""),
        cached=cached,
        tool_calls=_tool_calls(record.get("tool_calls")),
    )


def _tool_calls(value: Any) -> tuple[llm.ToolCall, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        llm.ToolCall(
            str(c.get("id") or ""), str(c.get("name") or ""), str(c.get("arguments") or "")
        )
        for c in value
        if isinstance(c, dict)
    )
