"""Sampling agentic tasks for `gauntlet calibrate` (DESIGN §4.1). A sample is one honest run of
the LLM agent (app/attacks/redteam_agent.py's loop, as `gauntlet agent --honest` drives it) in
the task's hardened container; the task's verifier grades it at the end of that run.

Cache: each finished run's trajectory (the conversation, its commands and what they printed) is
written atomically the moment the run ends, keyed by the model, the agent's parameters, the hash
of what the agent sees of the task (`agent_view_hash`) and the sample's index. The verifier
(tests/), the oracle (solution/) and the negatives are not part of that hash: after a change to
them the cached runs are re-graded by replaying their commands in a fresh container
(app/calibrate/agentic_grading.py), without asking the model again.

Budget: every model turn of every run reserves its worst cost (a generous prompt bound plus a
full reply) against one ledger shared by the concurrent runs, so the cap is never crossed. A run
the cap (or an interruption) stops is neither cached nor counted: a later run redoes it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from app import llm
from app.attacks.redteam_agent import (
    DEFAULT_STEPS,
    REPLY_TOKENS,
    STEP_TIMEOUT_S,
    AgentBudget,
    AgentLoop,
    AgentSettings,
    BudgetReached,
    estimate,
    opening,
)
from app.attacks.trajectory import Trajectory
from app.calibrate.sampling import (
    CompletionCache,
    ProgressFn,
    Sample,
    SampleRequest,
    SamplingOutcome,
    SamplingSettings,
    is_rate_limit,
    retry_after_s,
    sample_from,
)
from app.envpack.model import AgenticTask, EnvPack
from app.funnel.agentic_verify import phase_limits, task_image
from app.funnel.pipeline import FunnelOptions
from app.sandbox.agentic_run import AgentPhase, Episode

CACHE_VERSION = 1
NO_TOKEN_CAP = 10**12  # per run, the steps and the shared dollar cap are the limits
FINISHED = ("done", "refused", "max-steps")  # a run that ended by itself: a sample
MAX_BACKOFF_S = 60.0


@dataclass(frozen=True, slots=True)
class AgentParams:
    """What changes an agent run, hence part of its cache key."""

    max_steps: int = DEFAULT_STEPS
    reply_tokens: int = REPLY_TOKENS
    temperature: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_steps": self.max_steps,
            "reply_tokens": self.reply_tokens,
            "temperature": self.temperature,
        }


@dataclass(slots=True)
class AgentRun:
    trajectory: Trajectory
    episode: Episode | None  # the live run's verifier; None: from the cache (replay it)


def agent_view_hash(pack: EnvPack, task: AgenticTask) -> str:
    """sha256 of what the agent sees of `task`: instruction.md, task.toml, the environment/
    folder its image is built from (the task's own, else the package's) and the agent phase's
    network. Not tests/, solution/ or negatives/: the agent never sees them."""
    digest = hashlib.sha256()
    folder = pack.root / task.folder
    files = [folder / "instruction.md", folder / "task.toml"]
    for environment in (folder / "environment", pack.root / "environment"):
        if (environment / "Dockerfile").is_file():
            files += sorted(p for p in environment.rglob("*") if p.is_file())
            break
    for path in files:
        if path.is_file():
            digest.update(path.relative_to(pack.root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    agent = pack.manifest.agent
    network = {"network": agent.network, "hosts": sorted(agent.hosts), "timeout": agent.timeout_s}
    digest.update(json.dumps(network, sort_keys=True).encode())
    return digest.hexdigest()


@dataclass(slots=True)
class AgentCostEstimate:
    """The worst case of the uncached runs (redteam_agent.estimate per run)."""

    runs: int
    cached: int
    steps: int
    tokens: int
    usd: float  # over the priced models only
    unpriced_models: list[str]

    def describe(self, budget_usd: float) -> str:
        if not self.runs:
            return (
                f"all {self.cached} agent runs are cached: this run asks no model (their "
                "commands are replayed in fresh containers to grade them)"
            )
        cost = f"at most ${self.usd:.4f}"
        if self.unpriced_models:
            priced = f"{cost} for the priced models; " if self.usd else ""
            cost = (
                f"{priced}no known price for {', '.join(self.unpriced_models)} (free on a local "
                "server; elsewhere the cap cannot count their cost)"
            )
        return (
            f"{self.runs} agent runs to make ({self.cached} cached), each up to {self.steps} "
            "commands (a model turn each, and one to finish). An estimate of the worst case "
            "(every turn's prompt holds the whole conversation so far, every reply is at its "
            "longest; most runs stop far earlier): "
            f"{self.tokens:,} tokens, {cost}; hard cap ${budget_usd:.2f}"
        )


class Ledger:
    """The dollars of every agent turn of one calibration, against its cap."""

    def __init__(self, cap_usd: float) -> None:
        self.cap = cap_usd
        self.spent = self.reserved = 0.0
        self.requests = self.retries = 0
        self.stopped = False  # a turn was refused: it could have crossed the cap
        self._lock = threading.Lock()

    def reserve(self, worst: float | None) -> None:
        with self._lock:
            if worst is not None and self.spent + self.reserved + worst > self.cap:
                self.stopped = True
                raise BudgetReached()
            self.reserved += worst or 0.0

    def settle(self, worst: float | None, cost: float | None, *, made: bool) -> None:
        with self._lock:
            self.reserved -= worst or 0.0
            self.spent += cost or 0.0
            self.requests += made

    def count_retry(self) -> None:
        with self._lock:
            self.retries += 1


class Turns:
    """The `complete` one agent run calls: the shared cap, the run's temperature, backoff on
    rate limits; it adds up the run's tokens and cost."""

    def __init__(self, ledger: Ledger, sampling: SamplingSettings, temperature: float) -> None:
        self.ledger, self.sampling, self.temperature = ledger, sampling, temperature
        self.prompt_tokens = self.completion_tokens = 0
        self.cost_usd: float | None = 0.0  # None once a turn had no known price
        self.error: llm.LLMUnavailable | None = None

    def __call__(self, messages: list[dict[str, Any]], **kwargs: Any) -> llm.LLMReply:
        model = kwargs["model"]
        prompt = llm.prompt_token_bound(model, messages)
        worst = llm.estimate_cost(model, prompt, kwargs["max_tokens"])
        self.ledger.reserve(worst)
        reply: llm.LLMReply | None = None
        cost: float | None = None
        try:
            reply = self._ask(messages, kwargs)
            cost = reply.cost_usd
            if cost is None:
                cost = llm.estimate_cost(model, reply.prompt_tokens, reply.completion_tokens)
        finally:
            self.ledger.settle(worst, cost, made=reply is not None)
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        self.cost_usd = None if cost is None or self.cost_usd is None else self.cost_usd + cost
        return reply

    def _ask(self, messages: list[dict[str, Any]], kwargs: dict[str, Any]) -> llm.LLMReply:
        retries = self.sampling.max_retries
        for attempt in range(retries + 1):
            try:
                return llm.complete(messages, temperature=self.temperature, **kwargs)
            except llm.LLMUnavailable as exc:
                if not is_rate_limit(exc) or attempt == retries:
                    self.error = exc
                    raise
                self.ledger.count_retry()
                wait = retry_after_s(exc)
                time.sleep(min(MAX_BACKOFF_S, wait or self.sampling.backoff_s * 2**attempt))
        raise AssertionError("unreachable")  # the loop returns or raises


class TaskImages:
    """Each task's image, built once per calibration (builds are cached by content too)."""

    def __init__(self, client: Any, pack: EnvPack, options: FunnelOptions) -> None:
        self.client, self.pack, self.options = client, pack, options
        self._images: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, task: AgenticTask) -> str:
        with self._lock:
            if task.id not in self._images:
                self._images[task.id] = task_image(self.client, self.pack, task, self.options)
            return self._images[task.id]


def build_agent_requests(pack: EnvPack, models: list[str], samples: int) -> list[SampleRequest]:
    """Model by model, task by task, sample by sample (a budget stop leaves whole tasks)."""
    return [
        SampleRequest(model, task.id, index, ())
        for model in models
        for task in pack.agentic_tasks
        for index in range(samples)
    ]


def summary_text(trajectory: Trajectory) -> str:
    """A run as the card's failure excerpts show it: how it ended, then its commands."""
    lines = [f"$ {step.command}" for step in trajectory.steps]
    return "\n".join([f"({len(trajectory.steps)} steps; stopped: {trajectory.stopped})", *lines])


class AgentSampler:
    """Runs (or reads from the cache) one honest agent run per request."""

    def __init__(
        self,
        pack: EnvPack,
        sampling: SamplingSettings,
        params: AgentParams,
        options: FunnelOptions,
        cache: CompletionCache | None = None,
    ) -> None:
        self.pack, self.sampling, self.params, self.options = pack, sampling, params, options
        self.cache = cache or CompletionCache()
        self.runs: dict[SampleRequest, AgentRun] = {}
        self.images: TaskImages | None = None
        self.turns_made = 0  # model requests of the last run (each agent run makes several)
        self._lock = threading.Lock()  # the outcome and `runs`, shared by the worker threads
        self._hashes = {t.id: agent_view_hash(pack, t) for t in pack.agentic_tasks}

    def key(self, request: SampleRequest) -> str:
        body = {
            "v": CACHE_VERSION,
            "kind": "agent",
            "model": request.model,
            "params": self.params.to_dict(),
            "task": self._hashes[request.task_id],
            "sample": request.index,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def settings(self, model: str, step_timeout_s: float = STEP_TIMEOUT_S) -> AgentSettings:
        budget = AgentBudget(
            steps=self.params.max_steps,
            tokens=NO_TOKEN_CAP,
            usd=None,  # the shared ledger holds the cap
            reply_tokens=self.params.reply_tokens,
        )
        return AgentSettings(
            model=model,
            api_key=self.sampling.api_keys.get(model),
            api_base=self.sampling.api_base,
            honest=True,
            budget=budget,
            step_timeout_s=step_timeout_s,
        )

    def estimate(self, requests: list[SampleRequest]) -> AgentCostEstimate:
        todo = [r for r in requests if _cached_trajectory(self.cache.get(self.key(r))) is None]
        worst: dict[tuple[str, str], Any] = {}
        for request in todo:
            pair = (request.model, request.task_id)
            if pair not in worst:
                task = self.pack.agentic_task(request.task_id)
                settings = self.settings(request.model)
                tests = self.pack.root / task.folder / "tests"
                worst[pair] = estimate(settings, opening(task, tests, settings))
        per_run = [worst[(r.model, r.task_id)] for r in todo]
        return AgentCostEstimate(
            runs=len(todo),
            cached=len(requests) - len(todo),
            steps=self.params.max_steps,
            tokens=sum(e.tokens for e in per_run),
            usd=sum(e.usd for e in per_run if e.usd is not None),
            unpriced_models=sorted({m for (m, _t), e in worst.items() if e.usd is None}),
        )

    def run(
        self,
        requests: list[SampleRequest],
        progress: ProgressFn | None = None,
        cancelled: Callable[[], bool] = bool,
    ) -> SamplingOutcome:
        """Every request, `sampling.concurrency` at a time. SandboxUnavailable when Docker
        cannot run the agent; an interruption (KeyboardInterrupt) stops the runs in flight at
        their next turn and keeps every finished one in the cache."""
        from app.sandbox.docker_backend import docker_client

        self.images = TaskImages(docker_client(), self.pack, self.options)
        outcome, ledger = SamplingOutcome(), Ledger(self.sampling.budget_usd)
        stop = threading.Event()
        lock = threading.Lock()

        def halted() -> bool:
            return stop.is_set() or cancelled()

        def one(request: SampleRequest) -> Sample | None:
            if halted() or ledger.stopped or outcome.error is not None:
                return None
            sample = self._sample(request, ledger, outcome, halted)
            if sample is not None:
                with lock:
                    outcome.samples.append(sample)
                    if progress is not None:
                        progress(len(outcome.samples), len(requests), sample)
            return sample

        workers = max(1, min(self.sampling.concurrency, len(requests)))
        with ThreadPoolExecutor(workers, thread_name_prefix="calibrate-agent") as pool:
            try:
                for future in [pool.submit(one, r) for r in requests]:
                    future.result()
            except BaseException:
                stop.set()  # the runs in flight stop at their next turn
                raise
        order = {request: i for i, request in enumerate(requests)}
        outcome.samples.sort(key=lambda s: order[s.request])
        outcome.not_sampled = len(requests) - len(outcome.samples)
        outcome.stopped_by_budget = ledger.stopped
        outcome.spent_usd, outcome.retries = ledger.spent, ledger.retries
        outcome.requests_made = sum(not s.cached for s in outcome.samples)  # agent runs
        self.turns_made = ledger.requests
        return outcome

    def _sample(
        self,
        request: SampleRequest,
        ledger: Ledger,
        outcome: SamplingOutcome,
        halted: Callable[[], bool],
    ) -> Sample | None:
        key = self.key(request)
        record = self.cache.get(key)
        trajectory = _cached_trajectory(record)
        if record is not None and trajectory is not None:
            with self._lock:
                self.runs[request] = AgentRun(trajectory, None)
                outcome.cache_hits += 1
            return sample_from(request, record, cached=True)
        turns = Turns(ledger, self.sampling, self.params.temperature)
        trajectory, episode, messages = self._run_one(request, turns, halted)
        if trajectory.stopped not in FINISHED:
            with self._lock:
                outcome.error = outcome.error or turns.error
            return None  # the cap, an interruption or the provider stopped it: not a sample
        if turns.cost_usd is None:
            with self._lock:
                outcome.unpriced_models.add(request.model)
        record = {
            "model": request.model,
            "text": summary_text(trajectory),
            "trajectory": trajectory.to_dict(),
            "messages": messages,
            "prompt_tokens": turns.prompt_tokens,
            "completion_tokens": turns.completion_tokens,
            "cost_usd": turns.cost_usd,
            "finish_reason": trajectory.stopped,
        }
        self.cache.put(key, record)
        with self._lock:
            self.runs[request] = AgentRun(trajectory, episode)
        return sample_from(request, record, cached=False)

    def _run_one(
        self, request: SampleRequest, turns: Turns, halted: Callable[[], bool]
    ) -> tuple[Trajectory, Episode | None, list[dict[str, Any]]]:
        """One conversation in a fresh agent phase; the verifier only for a finished run."""
        assert self.images is not None
        task = self.pack.agentic_task(request.task_id)
        image = self.images(task)
        limits = phase_limits(self.pack)
        settings = self.settings(request.model, min(STEP_TIMEOUT_S, limits.agent_timeout_s))
        trajectory = Trajectory(task.id, "baseline", request.model, settings.mode)
        tests = self.pack.root / task.folder / "tests"
        hosts = limits.egress.hosts if limits.egress is not None else ()
        messages = opening(task, tests, settings, hosts=hosts)
        episode = None
        phase = AgentPhase(self.images.client, image, limits)
        try:
            AgentLoop(settings, trajectory, phase.run, complete=turns).run(messages, halted)
            if trajectory.stopped in FINISHED:
                episode = phase.finish(tests)
                trajectory.reward = episode.reward
        finally:
            phase.close()
        trajectory.cost_usd = round(trajectory.cost_usd, 6)
        return trajectory, episode, messages


def _cached_trajectory(record: dict[str, Any] | None) -> Trajectory | None:
    """The trajectory of a cache record; None when there is none or it is unreadable (the run
    is then made again)."""
    try:
        return Trajectory.from_dict(record["trajectory"]) if record is not None else None
    except (KeyError, TypeError, ValueError):
        return None
