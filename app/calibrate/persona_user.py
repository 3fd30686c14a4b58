"""A persona user's replies while calibrating a multi-turn package (DESIGN §4.2).

The persona is a model too, so its replies go through the calibration's sampler like the
model's own turns: from the disk cache when asked before (a re-run asks nothing again), else
within the same hard cap, with the same backoff. Each of a task's k samples hears its own
sampled user (the sample's index is part of the key), and every reply one episode has heard is
part of the next one's key, so the cache never mixes conversations.

A reply depends on the replies before it, so one question is found missing at a time per
conversation; all conversations' missing replies are asked together, round by round.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from app.calibrate.sampling import Sample, Sampler, SampleRequest, SamplingOutcome, sample_from
from app.envpack.model import EnvPack
from app.sandbox.persona import PersonaUnavailable, persona_of, persona_replies


def persona_models(pack: EnvPack) -> list[str]:
    """The models that play the package's persona users (for their keys)."""
    models = {str((persona_of(t.record) or {}).get("model") or "").strip() for t in pack.tasks}
    return sorted(m for m in models if m)


@dataclass(frozen=True, slots=True)
class Wanted:
    """A conversation that needs the persona's replies."""

    key: str
    task: dict[str, Any]
    turns: list[dict[str, Any]]
    index: int  # the sample's index


class _Unasked(Exception):
    def __init__(self, request: SampleRequest) -> None:
        super().__init__(request.model)
        self.request = request


@dataclass(slots=True)
class PersonaUser:
    sampler: Sampler
    heard: dict[str, Sample] = field(default_factory=dict)  # cache key -> the reply used

    def replies(
        self, wanted: list[Wanted], outcome: SamplingOutcome
    ) -> dict[str, list[str] | str | None]:
        """For each conversation (by key): the persona's replies; or why the persona could not
        be asked (text); or None when the cap or the provider stopped the run."""
        answered: dict[str, list[str] | str | None] = {}
        pending = list(wanted)
        while pending:
            unasked: list[tuple[Wanted, SampleRequest]] = []
            for item in pending:
                persona = persona_of(item.task) or {}
                try:
                    answered[item.key] = persona_replies(
                        item.task, persona, item.turns, None, ask=self._from_cache(item, outcome)
                    )
                except _Unasked as missing:
                    unasked.append((item, missing.request))
                except PersonaUnavailable as exc:
                    answered[item.key] = str(exc)
            if not unasked:
                break
            answers = self.sampler.ask_round([request for _, request in unasked], outcome)
            pending = []
            for (item, request), answer in zip(unasked, answers, strict=True):
                if isinstance(answer, Sample):
                    self.heard[self._key(request)] = answer
                    pending.append(item)  # its next missing reply, if any, in the next round
                elif answer is None:
                    answered[item.key] = None
                else:
                    answered[item.key] = f"the persona's model could not be asked: {answer.message}"
        return answered

    def costs(self) -> dict[str, Any]:
        """What the persona's replies cost this run (for the card)."""
        made = [s for s in self.heard.values() if not s.cached]
        return {
            "models": sorted({s.request.model for s in self.heard.values()}),
            "replies": len(self.heard),
            "cache_hits": len(self.heard) - len(made),
            "spent_usd": round(sum(s.cost_usd or 0.0 for s in made), 6),
        }

    def _key(self, request: SampleRequest) -> str:
        return self.sampler.cache.key(request, self.sampler.settings.params())

    def _from_cache(self, item: Wanted, outcome: SamplingOutcome):
        def ask(model: str, messages: list[dict[str, str]]) -> str:
            chat = json.dumps(messages, ensure_ascii=False, sort_keys=True)
            request = SampleRequest(
                model, str(item.task.get("id", "")), item.index, (), "persona", chat
            )
            key = self._key(request)
            if key not in self.heard:
                record = self.sampler.cache.get(key)
                if record is None:
                    raise _Unasked(request)
                self.heard[key] = sample_from(request, record, cached=True)
                outcome.cache_hits += 1
            return self.heard[key].text.strip()

        return ask
