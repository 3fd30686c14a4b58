"""Sampling through litellm against the scripted OpenAI-compatible server: the on-disk cache, a
resumed run, the dollar cap, rate-limit backoff and an unreachable server."""

from __future__ import annotations

import pytest
from support.fake_llm import ScriptedLLMServer

from app.calibrate.sampling import CompletionCache, Sampler, SampleRequest, SamplingSettings


def _requests(model: str, tasks: int, samples: int) -> list[SampleRequest]:
    return [
        SampleRequest(model, f"t{t}", i, (("user", f"question {t}"),))
        for t in range(tasks)
        for i in range(samples)
    ]


def _echo(request: dict) -> str:
    return "answer to " + request["messages"][-1]["content"]


def _sampler(server, tmp_path, sleep=None, **settings) -> Sampler:
    base = {"api_base": server.url, "api_keys": {}, "concurrency": 3, "backoff_s": 0.01}
    base["api_keys"] = {m: "test-key" for m in ("openai/scripted", "openai/gpt-4o-mini")}
    cache = CompletionCache(tmp_path / "cache")
    if sleep is None:
        return Sampler(SamplingSettings(**{**base, **settings}), cache)
    return Sampler(SamplingSettings(**{**base, **settings}), cache, sleep=sleep)


def test_every_sample_is_asked_once_then_served_from_the_cache(tmp_path) -> None:
    requests = _requests("openai/scripted", 3, 2)
    with ScriptedLLMServer([_echo]) as server:
        first = _sampler(server, tmp_path).run(requests)
        asked = len(server.requests)
        second = _sampler(server, tmp_path).run(requests)
        assert len(server.requests) == asked  # the re-run made no request
    assert asked == 6 and first.requests_made == 6 and first.cache_hits == 0
    assert [s.text for s in first.samples] == [
        f"answer to question {t}" for t in range(3) for _ in "ab"
    ]
    assert second.cache_hits == 6 and second.requests_made == 0
    assert [s.text for s in second.samples] == [s.text for s in first.samples]
    assert all(s.cached for s in second.samples)
    assert first.unpriced_models == {"openai/scripted"}
    # The k samples of a task are distinct cache entries, and other parameters are other entries.
    assert len({CompletionCache.key(r, {"t": 1}) for r in requests}) == 6
    assert CompletionCache.key(requests[0], {"t": 1}) != CompletionCache.key(requests[0], {"t": 0})


def test_an_interrupted_run_resumes_without_asking_again(tmp_path) -> None:
    requests = _requests("openai/scripted", 4, 1)
    broken = {"status": 500, "content": "server fell over"}
    with ScriptedLLMServer(["a", "b", broken]) as server:
        first = _sampler(server, tmp_path, concurrency=1).run(requests)
    assert first.error is not None and "failed" in first.error.message
    assert len(first.samples) == 2 and first.not_sampled == 2
    with ScriptedLLMServer([_echo]) as server:
        second = _sampler(server, tmp_path, concurrency=1).run(requests)
        prompts = [r["messages"][-1]["content"] for r in server.requests]
    assert prompts == ["question 2", "question 3"]  # only what was missing
    assert second.cache_hits == 2 and second.requests_made == 2 and second.error is None
    assert [s.text for s in second.samples] == [
        "a",
        "b",
        "answer to question 2",
        "answer to question 3",
    ]


def test_the_budget_cap_stops_before_a_request_could_cross_it(tmp_path) -> None:
    requests = _requests("openai/gpt-4o-mini", 5, 1)
    with ScriptedLLMServer([{"content": "x", "completion_tokens": 1000}]) as server:
        probe = _sampler(server, tmp_path, max_tokens=1000)
        worst = probe.worst_cost(requests[0])
        assert worst is not None and worst > 0
        estimate = probe.estimate(requests)
        assert estimate.usd == pytest.approx(5 * worst) and not estimate.unpriced_models
        budget = 2.5 * worst
        outcome = _sampler(server, tmp_path, max_tokens=1000, budget_usd=budget, concurrency=1).run(
            requests
        )
        assert len(server.requests) == 2
    assert outcome.stopped_by_budget and outcome.requests_made == 2 and outcome.not_sampled == 3
    assert 0 < outcome.spent_usd <= budget


def test_rate_limits_are_waited_out_with_backoff(tmp_path) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    limited = {"status": 429, "content": "slow down"}
    with ScriptedLLMServer([limited, limited, "fine"]) as server:
        sampler = _sampler(server, tmp_path, sleep, concurrency=1)
        outcome = sampler.run(_requests("openai/scripted", 1, 1))
    assert [s.text for s in outcome.samples] == ["fine"]
    assert outcome.retries == 2 and waits == [0.01, 0.02]


def test_an_unreachable_server_stops_the_run_with_a_clear_error(tmp_path) -> None:
    with ScriptedLLMServer(["unused"]) as server:
        url = server.url
    sampler = Sampler(
        SamplingSettings(api_base=url, api_keys={"openai/scripted": "k"}),
        CompletionCache(tmp_path / "cache"),
    )
    outcome = sampler.run(_requests("openai/scripted", 2, 2))
    assert outcome.error is not None and "could not reach" in outcome.error.message
    assert outcome.samples == [] and outcome.not_sampled == 4
