"""What calibrating a multi-turn package can cost, before anything is asked.

An episode asks the model up to its task's max_turns times, and each prompt holds the whole
conversation so far: the opening, the tools offered, every earlier reply (at most `max_tokens`
each) and what came back after it (tool results, the user's reply). Those last cannot be known
before the conversation is played, so each earlier turn is allowed GROWTH_TOKENS for them: the
estimate is an upper bound while they stay under that, and says so. A conversation played to the
end before is remembered in the cache (how many turns it took), so a re-run is estimated free.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, replace

from app import llm
from app.calibrate.sampling import (
    PROMPT_MARGIN,
    CompletionCache,
    Estimate,
    SampleRequest,
    SamplingSettings,
)
from app.sandbox.persona import persona_messages

GROWTH_TOKENS = 1000  # per earlier turn: its tool results and the user's reply (assumed)


@dataclass(slots=True)
class EpisodeEstimate(Estimate):
    episodes: int = 0
    episodes_cached: int = 0  # played to the end before: their turns are cached
    persona_replies: int = 0  # of the requests, a persona user's replies

    def describe(self, budget_usd: float) -> str:
        played = (
            f"; {self.episodes_cached} were played before and are cached"
            if self.episodes_cached
            else ""
        )
        head = f"{self.episodes} conversations to play{played}"
        persona = " and one per persona user's reply" if self.persona_replies else ""
        if not self.requests:
            return f"{head}: every turn is cached, so this run costs nothing"
        cost = f"at most ${self.usd:.4f}"
        if self.unpriced_models:
            priced = f"{cost} for the priced models; " if self.usd else ""
            cost = (
                f"{priced}no known price for {', '.join(self.unpriced_models)} (free on a local "
                "server; elsewhere the cap cannot count their cost)"
            )
        return (
            f"{head}: up to {self.requests} requests (one per turn, up to each task's "
            f"max_turns{persona}), at most {self.prompt_tokens} prompt + {self.completion_tokens} "
            f"completion tokens, {cost}. An upper bound while each turn's tool results and "
            f"user reply stay under {GROWTH_TOKENS} tokens; a conversation that ends early "
            f"costs less. Hard cap ${budget_usd:.2f}, counted turn by turn"
        )


def first_turn(opening: SampleRequest, tools: str) -> SampleRequest:
    chat = json.dumps(opening.message_dicts(), ensure_ascii=False, sort_keys=True)
    return replace(opening, chat=chat, tools=tools)


def episode_key(opening: SampleRequest, tools: str, params: dict) -> str:
    """The cache entry that remembers how many turns an episode took once played to the end."""
    turn = CompletionCache.key(first_turn(opening, tools), params)
    return hashlib.sha256(f"episode:{turn}".encode()).hexdigest()


def remember_episode(cache: CompletionCache, key: str, turns: int) -> None:
    cache.put(key, {"text": "", "episode_turns": turns})


def estimate_episodes(
    openings: list[tuple[SampleRequest, int, dict | None]],
    tools: str,
    settings: SamplingSettings,
    cache: CompletionCache,
) -> EpisodeEstimate:
    """`openings`: each episode's opening request, its task's max_turns and its persona user
    (None for a scripted one). A persona is asked at most once after each turn but the last,
    each time with what the user has seen so far (the model's replies and its own)."""
    params = settings.params()
    estimate = EpisodeEstimate(0, 0, 0, 0, 0.0, [], episodes=len(openings))
    unpriced: set[str] = set()

    def add(model: str, prompt: int) -> None:
        estimate.requests += 1
        estimate.prompt_tokens += prompt
        estimate.completion_tokens += settings.max_tokens
        cost = llm.estimate_cost(model, prompt, settings.max_tokens)
        if cost is None:
            unpriced.add(model)
        else:
            estimate.usd += cost

    for opening, turns, persona in openings:
        remembered = cache.get(episode_key(opening, tools, params))
        if remembered is not None:
            estimate.episodes_cached += 1
            estimate.cached += int(remembered.get("episode_turns") or 0)
            continue
        request = first_turn(opening, tools)
        base = llm.prompt_token_bound(request.model, request.message_dicts())
        base += math.ceil(len(tools) / 3 * PROMPT_MARGIN)
        for turn in range(turns):
            add(request.model, base + turn * (settings.max_tokens + GROWTH_TOKENS))
        model = str((persona or {}).get("model") or "")
        if model:
            seen = [{"role": "assistant", "content": opening.message_dicts()[-1]["content"]}]
            asked = llm.prompt_token_bound(model, persona_messages(persona["persona"], seen))
            for reply in range(turns - 1):  # it has heard reply+1 turns and said `reply` things
                estimate.persona_replies += 1
                add(model, asked + (2 * reply + 1) * settings.max_tokens)
    estimate.unpriced_models = sorted(unpriced)
    return estimate
