"""One calibration: the requests for every (model, task, sample), their cost estimate, the
sampling, the grading in the sandbox, and the pack card (`gauntlet-card/1`).

Each task is sent as one user message holding its prompt, as a policy being trained sees it.
With `contamination`, the probes of app/calibrate/contamination.py follow the samples in the
same run (a budget stop cuts probes before samples); they are not graded.

A multi-turn package's sample is a conversation the model plays instead
(app/calibrate/episodes.py): sampling plays and grades it round by round, and `grade` only
collects the grades the play left. Contamination probes are not made for conversations.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.atomic import write_text_atomic
from app.calibrate.agentic import (
    AgentCostEstimate,
    AgentParams,
    AgentSampler,
    TaskImages,
    build_agent_requests,
)
from app.calibrate.agentic_grading import grade_agent_runs
from app.calibrate.analysis import analyse, task_ids, task_tags
from app.calibrate.contamination import analyse_probes, probe_requests
from app.calibrate.episodes import EpisodePlayer, Played, graded, opening_requests
from app.calibrate.grading import Grading, grade_samples
from app.calibrate.sampling import (
    CompletionCache,
    Estimate,
    ProgressFn,
    Sampler,
    SampleRequest,
    SamplingOutcome,
    SamplingSettings,
)
from app.envpack.model import EnvPack
from app.errors import UserError
from app.funnel.pipeline import FunnelOptions
from app.progress import CancelToken
from app.sandbox.base import GradingResult

CARD_SCHEMA = "gauntlet-card/1"


def not_calibratable(pack: EnvPack, root: Path) -> UserError | None:
    """Why `pack` cannot be calibrated (a clear error), or None."""
    if pack.is_agentic:
        if not pack.agentic_tasks:
            return UserError(f"{root} has no tasks.", "Add a task folder under tasks/.")
        return None
    if not pack.tasks:
        return UserError(f"{root} has no tasks.", "Add tasks to its tasks file.")
    return None


def build_requests(pack: EnvPack, models: list[str], samples: int) -> list[SampleRequest]:
    """Model by model, task by task, sample by sample: a budget stop leaves whole tasks."""
    return [
        SampleRequest(model, task.id, index, (("user", task.prompt),))
        for model in models
        for task in pack.tasks
        for index in range(samples)
    ]


@dataclass
class Calibration:
    pack: EnvPack
    models: list[str]
    samples: int
    sampling: SamplingSettings
    options: FunnelOptions  # the sandbox (and a judge grader's key) for grading
    cache: CompletionCache | None = None
    contamination: bool = False  # also run the contamination probes
    agent: AgentParams | None = None  # agentic packages: the agent's limits (None: defaults)

    def __post_init__(self) -> None:
        # multi-turn: conversations (app/calibrate/episodes.py)
        self._episodes: EpisodePlayer | None = None
        self._played: Played | None = None
        if self.pack.is_agentic:
            self.agent = self.agent or AgentParams(
                reply_tokens=self.sampling.max_tokens, temperature=self.sampling.temperature
            )
            self.options = own_resolved(self.options, self.pack)
            self._agents = AgentSampler(
                self.pack, self.sampling, self.agent, self.options, self.cache
            )
            self._requests = build_agent_requests(self.pack, self.models, self.samples)
            self._probes: list[SampleRequest] = []
            return
        self._sampler = Sampler(self.sampling, self.cache)
        self._requests = build_requests(self.pack, self.models, self.samples)
        self._probes = probe_requests(self.pack, self.models) if self.contamination else []
        if self.pack.is_multi_turn:
            self._episodes = EpisodePlayer(self.pack, self._sampler, self.options, self.sampling)
            self._requests = opening_requests(self.pack, self.models, self.samples)
            self._probes = []
        self._requests += self._probes

    def estimate(self) -> Estimate | AgentCostEstimate:
        if self.pack.is_agentic:
            return self._agents.estimate(self._requests)
        if self._episodes is not None:
            return self._episodes.estimate(self._requests)
        return self._sampler.estimate(self._requests)

    def sample(
        self, progress: ProgressFn | None = None, cancel: CancelToken | None = None
    ) -> SamplingOutcome:
        """Every sample (cached ones free); `cancel` stops it cleanly: what is done is cached."""
        cancelled = (lambda: cancel.cancelled) if cancel is not None else bool
        if self.pack.is_agentic:
            return self._agents.run(self._requests, progress, cancelled)
        if self._episodes is not None:
            outcome, self._played = self._episodes.play(self._requests, progress, cancelled)
            return outcome
        return self._sampler.run(self._requests, progress, cancelled)

    def grade(
        self,
        outcome: SamplingOutcome,
        on_result: Callable[[GradingResult], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> Grading:
        if self._played is not None:
            return graded(self.pack, self._played, on_result)
        samples = [s for s in outcome.samples if s.request.kind == "sample"]
        if self.pack.is_agentic:
            from app.sandbox.docker_backend import docker_client

            images = self._agents.images or TaskImages(docker_client(), self.pack, self.options)
            return grade_agent_runs(
                self.pack, samples, self._agents.runs, images, self.options,
                on_result=on_result, cancel=cancel,
            )  # fmt: skip
        return grade_samples(self.pack, samples, self.options, on_result=on_result, cancel=cancel)

    def card(self, outcome: SamplingOutcome, grading: Grading, started: datetime) -> dict[str, Any]:
        stats = analyse(self.pack, self.models, self.samples, grading)
        contamination: dict[str, Any] = {"probed": False}
        if self.contamination and self._episodes is not None:
            contamination["note"] = "not probed: the package's tasks are conversations"
        elif self.contamination:
            contamination, findings = analyse_probes(self.pack, self.models, outcome.samples)
            stats["findings"] += [f.to_dict() for f in findings]
        manifest = self.pack.manifest
        return {
            "schema": CARD_SCHEMA,
            "package": {
                "name": manifest.package.name,
                "version": manifest.package.version,
                "kind": manifest.kind,
                "grader": manifest.grader.type,
                "tasks": len(task_ids(self.pack)),
            },
            "started": started.isoformat(timespec="seconds"),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "models": list(self.models),
            "sampling": self._sampling_block(),
            "requests": {
                "total": len(self._requests)
                if self._episodes is None
                else outcome.requests_made + outcome.cache_hits,  # turns, not conversations
                "probes": len(self._probes),
                "made": outcome.requests_made,
                "cache_hits": outcome.cache_hits,
                "not_sampled": outcome.not_sampled,
                "rate_limit_retries": outcome.retries,
                **({"agent_turns": self._agents.turns_made} if self.agent is not None else {}),
            },
            "cost": {
                "spent_usd": round(outcome.spent_usd, 6),
                "budget_usd": self.sampling.budget_usd,
                "stopped_by_budget": outcome.stopped_by_budget,
                "unpriced_models": sorted(outcome.unpriced_models),
                "per_model": model_costs(self.models, outcome),
                **self._persona_costs(),
            },
            "grading": {
                "backend": grading.backend,
                "weak_backend": grading.weak_backend,
                "stopped": grading.stopped,
            },
            "complete": outcome.not_sampled == 0 and grading.stopped is None,
            **_with_tags(stats, self.pack),
            "contamination": contamination,
        }

    def _persona_costs(self) -> dict[str, Any]:
        """A persona user's replies: asked through the same cache and cap as the models'."""
        persona = self._episodes.persona_user if self._episodes is not None else None
        return {"persona_user": persona.costs()} if persona is not None and persona.heard else {}

    def _sampling_block(self) -> dict[str, Any]:
        if self.agent is not None:
            return {
                "samples_per_task": self.samples,
                "temperature": self.agent.temperature,
                "max_tokens": self.agent.reply_tokens,  # per agent turn
                "max_steps": self.agent.max_steps,
                "prompt": "one honest run of the LLM agent (a shell tool in the task's "
                "container, at most max_steps commands), graded by the task's verifier",
            }
        return {
            "samples_per_task": self.samples,
            "temperature": self.sampling.temperature,
            "max_tokens": self.sampling.max_tokens,
            "prompt": "the task's prompt as one user message",
            **(self._episodes.card_sampling(self._played) if self._episodes else {}),
        }


def own_resolved(options: FunnelOptions, pack: EnvPack) -> FunnelOptions:
    """`own_package` decided by provenance when the options leave it open (as the funnel does):
    an agentic task's Dockerfile is built only for the user's own package, or when allowed."""
    from app.envpack.provenance import is_own

    if options.own_package is not None:
        return options
    return dataclasses.replace(options, own_package=is_own(pack.root))


def model_costs(models: list[str], outcome: SamplingOutcome) -> dict[str, dict[str, Any]]:
    """Per model: its samples, how many came from the cache, their tokens, what they cost at
    the provider's price (`usd`, cached ones at the price paid when they were made) and what
    this run spent (`spent_usd`: cached samples are free)."""
    costs: dict[str, dict[str, Any]] = {
        m: {"samples": 0, "cache_hits": 0, "prompt_tokens": 0, "completion_tokens": 0,
            "usd": 0.0, "spent_usd": 0.0}
        for m in models
    }  # fmt: skip
    for sample in outcome.samples:
        entry = costs.get(sample.request.model)
        if entry is None:
            continue
        entry["samples"] += 1
        entry["cache_hits"] += sample.cached
        entry["prompt_tokens"] += sample.prompt_tokens
        entry["completion_tokens"] += sample.completion_tokens
        price = sample.cost_usd or 0.0
        entry["usd"] += price
        entry["spent_usd"] += 0.0 if sample.cached else price
    for entry in costs.values():
        entry["usd"], entry["spent_usd"] = round(entry["usd"], 6), round(entry["spent_usd"], 6)
    return costs


def _with_tags(stats: dict[str, Any], pack: EnvPack) -> dict[str, Any]:
    """Each task's `tags` (its record's list of words, or an agentic task's task.toml
    `[metadata] tags`, if it has them) for the per-tag view."""
    for entry in stats.get("tasks", []):
        entry["tags"] = task_tags(pack, entry["id"])
    return stats


def write_card(card: dict[str, Any], path: Path) -> None:
    write_text_atomic(path, json.dumps(card, indent=2, ensure_ascii=False) + "\n")


def default_card_path(root: Path) -> Path:
    return root / ".gauntlet" / "card.json"


def card_page_path(card_path: Path) -> Path:
    """Where the card's HTML page goes: next to the JSON, `.html` for its suffix."""
    if card_path.suffix == ".html":
        return card_path.with_name(card_path.name + ".html")
    return card_path.with_suffix(".html")
