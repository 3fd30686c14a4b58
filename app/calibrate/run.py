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

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.atomic import write_text_atomic
from app.calibrate.analysis import analyse
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
from app.sandbox.base import GradingResult

CARD_SCHEMA = "gauntlet-card/1"


def not_calibratable(pack: EnvPack, root: Path) -> UserError | None:
    """Why `pack` cannot be calibrated (a clear error), or None. Agentic packages are not yet:
    a sample there is a whole agent run in containers, not one completion."""
    if pack.is_agentic:
        return UserError(
            f"{root} is an agentic package: calibrate does not run agents yet (each sample "
            "would be a whole agent run in containers).",
            f"To see how a model does on one task, run `gauntlet agent {root} --task ID "
            "--model MODEL --honest`.",
        )
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

    def __post_init__(self) -> None:
        self._sampler = Sampler(self.sampling, self.cache)
        self._requests = build_requests(self.pack, self.models, self.samples)
        self._probes = probe_requests(self.pack, self.models) if self.contamination else []
        # -- multi-turn: conversations (app/calibrate/episodes.py) -----------------------------
        self._episodes: EpisodePlayer | None = None
        self._played: Played | None = None
        if self.pack.is_multi_turn:
            self._episodes = EpisodePlayer(self.pack, self._sampler, self.options, self.sampling)
            self._requests = opening_requests(self.pack, self.models, self.samples)
            self._probes = []
        self._requests += self._probes

    def estimate(self) -> Estimate:
        if self._episodes is not None:
            return self._episodes.estimate(self._requests)
        return self._sampler.estimate(self._requests)

    def sample(self, progress: ProgressFn | None = None) -> SamplingOutcome:
        if self._episodes is not None:
            outcome, self._played = self._episodes.play(self._requests, progress)
            return outcome
        return self._sampler.run(self._requests, progress)

    def grade(
        self,
        outcome: SamplingOutcome,
        on_result: Callable[[GradingResult], None] | None = None,
    ) -> Grading:
        if self._played is not None:
            return graded(self.pack, self._played, on_result)
        samples = [s for s in outcome.samples if s.request.kind == "sample"]
        return grade_samples(self.pack, samples, self.options, on_result=on_result)

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
                "tasks": len(self.pack.tasks),
            },
            "started": started.isoformat(timespec="seconds"),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "models": list(self.models),
            "sampling": {
                "samples_per_task": self.samples,
                "temperature": self.sampling.temperature,
                "max_tokens": self.sampling.max_tokens,
                "prompt": "the task's prompt as one user message",
                **(self._episodes.card_sampling(self._played) if self._episodes else {}),
            },
            "requests": {
                "total": len(self._requests)
                if self._episodes is None
                else outcome.requests_made + outcome.cache_hits,  # turns, not conversations
                "probes": len(self._probes),
                "made": outcome.requests_made,
                "cache_hits": outcome.cache_hits,
                "not_sampled": outcome.not_sampled,
                "rate_limit_retries": outcome.retries,
            },
            "cost": {
                "spent_usd": round(outcome.spent_usd, 6),
                "budget_usd": self.sampling.budget_usd,
                "stopped_by_budget": outcome.stopped_by_budget,
                "unpriced_models": sorted(outcome.unpriced_models),
                "per_model": model_costs(self.models, outcome),
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
    """Each task's `tags` (its record's list of words, if it has one) for the per-tag view."""
    for entry in stats.get("tasks", []):
        task = pack.task(entry["id"])
        tags = task.record.get("tags") if task is not None else None
        entry["tags"] = [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []
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
