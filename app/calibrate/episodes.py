"""Calibrating a multi-turn package (DESIGN §4.2): each sample is one conversation the model
plays, not one reply.

An episode starts from the replay's opening (the task's "system" message and its prompt). Each
turn, the model is asked with the conversation so far and offered the package's tools; its reply
(text and tool calls) becomes the next assistant turn, and the trajectory so far is replayed in
the sandbox, which runs the tool calls against tools.py and has the user speak next (the scripted
reply, or the persona's, asked on the host). The replayed messages are the next turn's prompt,
and the replay's grade is the grade of the trajectory so far: the last one is the sample's.

Every live episode moves in lockstep: one round asks all their next turns (in parallel, within
the concurrency bound, through the sampler's cache and cap), then grades all their trajectories
in one sandbox batch. A calibration therefore starts at most max_turns sandboxes, never one per
episode or per turn. An episode ends when the model answers and the user has nothing more to say,
or at the task's max_turns. One cut by the budget cap (or by the provider failing) is "not
sampled": its turns so far are cached, and the next run resumes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from app.calibrate.episode_cost import (
    EpisodeEstimate,
    episode_key,
    estimate_episodes,
    remember_episode,
)
from app.calibrate.grading import Graded, Grading, passes
from app.calibrate.persona_user import PersonaUser, Wanted
from app.calibrate.sampling import (
    ProgressFn,
    Sample,
    Sampler,
    SampleRequest,
    SamplingOutcome,
    SamplingSettings,
)
from app.envpack.checks.multiturn import read_package_tools
from app.envpack.model import EnvPack, Task
from app.envpack.source import PackageSource
from app.envpack.trajectory import encode_turns
from app.funnel.pipeline import FunnelOptions
from app.sandbox.backends import backend_for
from app.sandbox.base import GradingItem, GradingResult, SandboxUnavailable
from app.sandbox.guard import guard_for
from app.sandbox.persona import persona_of, turns_without_replies

DEFAULT_MAX_TURNS = 6  # as the replay reads a task without one


def max_turns(task: Task) -> int:
    value = task.record.get("max_turns", DEFAULT_MAX_TURNS)
    ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    return value if ok else DEFAULT_MAX_TURNS


def opening(task: Task) -> tuple[tuple[str, str], ...]:
    """The conversation's first messages, as the replay starts it."""
    system = task.record.get("system")
    first = (("system", system),) if isinstance(system, str) else ()
    return (*first, ("user", task.prompt))


def offered_tools(pack: EnvPack) -> list[dict[str, Any]]:
    """The OpenAI schemas of tools.py's tools ([] without a readable tools.py)."""
    tools = read_package_tools(PackageSource(pack.root))
    if tools is None or tools.error:
        return []
    return [tool.openai() for tool in tools.tools]


def opening_requests(pack: EnvPack, models: list[str], samples: int) -> list[SampleRequest]:
    """One per episode, model by model, task by task, sample by sample (as single-turn runs)."""
    return [
        SampleRequest(model, task.id, index, opening(task))
        for model in models
        for task in pack.tasks
        for index in range(samples)
    ]


@dataclass(slots=True)
class Episode:
    opening: SampleRequest  # who plays which task, which sample: the episode's identity
    task: Task
    messages: list[dict[str, Any]]  # the conversation so far, as the last replay gave it
    turns: list[dict[str, Any]] = field(default_factory=list)  # the assistant's turns
    replies: list[Sample] = field(default_factory=list)  # each turn's completion
    result: GradingResult | None = None  # the grade of the trajectory so far
    ended: str = ""  # why it ended; "" while it is being played
    cut: bool = False  # the cap or the provider stopped it: not sampled

    def next_request(self, tools: str) -> SampleRequest:
        chat = json.dumps(
            [_for_model(m) for m in self.messages], ensure_ascii=False, sort_keys=True
        )
        return replace(self.opening, chat=chat, tools=tools)

    def play(self, sample: Sample) -> None:
        calls = [
            {
                "id": call.id or f"call_{len(self.turns) + 1}_{position}",
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments or "{}"},
            }
            for position, call in enumerate(sample.tool_calls, start=1)
        ]
        turn: dict[str, Any] = {"role": "assistant", "content": sample.text or None}
        if calls:
            turn["tool_calls"] = calls
        elif not sample.text:
            turn["content"] = ""  # an empty reply is still a turn
        self.turns.append(turn)
        self.replies.append(sample)

    def advance(self, result: GradingResult) -> None:
        """The replay of the trajectory so far: its messages are the next prompt; or the end."""
        self.result = result
        messages = (result.episode or {}).get("messages")
        if not messages:
            self.ended = "the replay gave no conversation back: " + (
                result.detail or result.error or "no reason given"
            )
            return
        self.messages = messages
        if len(self.turns) >= max_turns(self.task):
            self.ended = f"max_turns ({max_turns(self.task)}) reached"
        elif messages[-1].get("role") == "assistant":
            self.ended = "the model answered and the user had nothing more to say"

    def sample(self) -> Sample:
        """The episode as one sample: its trajectory, and what all its turns cost."""
        costs = [r.cost_usd for r in self.replies if r.cost_usd is not None]
        return Sample(
            request=self.opening,
            text=encode_turns(self.turns),
            prompt_tokens=sum(r.prompt_tokens for r in self.replies),
            completion_tokens=sum(r.completion_tokens for r in self.replies),
            cost_usd=sum(costs) if costs else None,
            finish_reason=self.ended,
            cached=all(r.cached for r in self.replies),
        )


@dataclass(slots=True)
class Played:
    """What playing the episodes left for grading (no second grading pass is needed)."""

    episodes: list[Episode]
    reference_results: dict[int, GradingResult] = field(default_factory=dict)
    backend: str = ""
    weak_backend: bool = False
    stopped: str | None = None  # why a round's guard stopped grading
    sandbox_error: SandboxUnavailable | None = None
    rounds: int = 0  # sandbox batches started


class EpisodePlayer:
    def __init__(
        self, pack: EnvPack, sampler: Sampler, options: FunnelOptions, settings: SamplingSettings
    ) -> None:
        self.pack, self.sampler = pack, sampler
        self.options = persona_options(options, settings)
        self.tools = offered_tools(pack)
        self.tools_json = json.dumps(self.tools, ensure_ascii=False, sort_keys=True)
        self.tools_json = self.tools_json if self.tools else ""
        self.persona_user = PersonaUser(sampler)

    def estimate(self, openings: list[SampleRequest]) -> EpisodeEstimate:
        turns = [
            (o, max_turns(task), persona_of(task.record))
            for o, task in ((o, self.pack.task(o.task_id)) for o in openings)
        ]
        return estimate_episodes(turns, self.tools_json, self.sampler.settings, self.sampler.cache)

    def card_sampling(self, played: Played | None) -> dict[str, Any]:
        """What the card says about how the conversations were played."""
        names = [tool["function"]["name"] for tool in self.tools]
        offered = (
            f"the tools of tools.py offered on every turn ({', '.join(names)})"
            if names
            else "no tools offered (the package has no tools.py)"
        )
        return {
            "prompt": "a conversation the model plays: the task's system message (if any) and "
            "prompt, then one request per assistant turn holding the whole conversation so "
            f"far, with {offered}; tool results and the user's replies (scripted, or a "
            "persona's) come from replaying the conversation in the sandbox. It ends when the "
            "model answers and the user has nothing more to say, or at the task's max_turns; "
            "the grade is the grader's on the whole conversation",
            "multi_turn": {
                "max_turns": max((max_turns(t) for t in self.pack.tasks), default=0),
                "tools": names,
                "sandbox_rounds": played.rounds if played is not None else 0,
                "format_check": "not told: the grader reads the whole conversation",
            },
        }

    def play(
        self,
        openings: list[SampleRequest],
        progress: ProgressFn | None = None,
        cancelled: Callable[[], bool] = bool,
    ) -> tuple[SamplingOutcome, Played]:
        """Every conversation, round by round; once `cancelled()`, the ones still going are cut
        (not sampled: their turns so far are cached, and the next run resumes them)."""
        outcome = SamplingOutcome()
        episodes = [
            Episode(o, self.pack.task(o.task_id), o.message_dicts()) for o in openings
        ]  # fmt: skip
        played = Played(episodes)
        try:
            finisher = self._finisher(len(episodes), progress)
            self._rounds(episodes, outcome, played, finisher, cancelled)
        except SandboxUnavailable as exc:
            played.sandbox_error = exc  # grading says so; the turns asked so far are cached
            for episode in episodes:
                episode.cut = episode.cut or not episode.ended
        outcome.samples = [e.sample() for e in episodes if e.ended and not e.cut]
        outcome.not_sampled = len(episodes) - len(outcome.samples)
        return outcome, played

    def _rounds(
        self,
        episodes: list[Episode],
        outcome: SamplingOutcome,
        played: Played,
        finished: Callable[[Episode], None],
        cancelled: Callable[[], bool],
    ) -> None:
        backend = backend_for(self.options)
        played.backend, played.weak_backend = backend.info.name, backend.info.weak
        live = list(episodes)
        while live:
            if cancelled():
                for episode in live:
                    episode.cut = True
                return
            answers = self.sampler.ask_round(
                [e.next_request(self.tools_json) for e in live], outcome
            )
            for episode, answer in zip(live, answers, strict=True):
                if isinstance(answer, Sample):
                    episode.play(answer)
                elif answer is not None and episode.turns:  # graded as it stood
                    episode.ended = f"the provider refused the next turn: {answer.message}"
                    finished(episode)
                else:  # the cap, or an error (a refused first turn is one: nothing to grade)
                    outcome.error = outcome.error or answer
                    episode.cut = True
            live = [e for e in live if not e.cut and not e.ended]
            if not self._round(backend, live, played, outcome):
                break
            for episode in live:
                if episode.ended and not episode.cut:
                    finished(episode)
            live = [e for e in live if not e.ended and not e.cut]

    def _round(
        self, backend, live: list[Episode], played: Played, outcome: SamplingOutcome
    ) -> bool:
        """One sandbox batch: every live episode's trajectory so far (the references ride along
        in the first). False when there was nothing to grade."""
        references = [] if played.rounds else self._references()
        items, failed = self._items(live, references, outcome)
        if not items:
            return False
        results = self._batch(backend, items, played)
        played.reference_results.update(
            {int(k[4:]): r for k, r in results.items() if k.startswith("ref:")}
        )
        played.reference_results.update(
            {int(k[4:]): r for k, r in failed.items() if k.startswith("ref:")}
        )
        for index, episode in enumerate(live):
            if episode.cut:
                continue
            episode.advance(failed.get(f"e:{index}") or results[f"e:{index}"])
            if played.stopped and not episode.ended:
                episode.ended = "grading stopped: " + played.stopped
        return True

    def _references(self) -> list[GradingItem]:
        references = [r for r in self.pack.solutions if self.pack.task(r.task_id) is not None]
        return [
            GradingItem(f"ref:{i}", self.pack.task(r.task_id).record, r.response)
            for i, r in enumerate(references)
        ]

    def _items(
        self, live: list[Episode], references: list[GradingItem], outcome: SamplingOutcome
    ) -> tuple[list[GradingItem], dict[str, GradingResult]]:
        """The round's gradings, a persona user's replies asked first (through the sampler: its
        cache and its cap); a result already for each one whose persona could not be asked (it
        is not sent to the sandbox). An episode the cap stops while its persona is asked is cut."""
        items = [
            GradingItem(f"e:{i}", e.task.record, encode_turns(e.turns)) for i, e in enumerate(live)
        ]
        items += references
        wanted = [w for w in (self._wanted(item, live) for item in items) if w is not None]
        if not wanted:
            return items, {}
        answered = self.persona_user.replies(wanted, outcome)
        ready, failed = [], {}
        for item in items:
            replies = answered.get(item.key, ())
            if isinstance(replies, list):
                turns = next(w.turns for w in wanted if w.key == item.key)
                if item.key.startswith("e:"):  # without the placeholder for the next turn
                    turns = live[int(item.key[2:])].turns
                    if replies and not replies[-1].strip():
                        replies = replies[:-1]  # an empty reply ends the conversation
                ready.append(replace(item, response=encode_turns(turns, replies)))
            elif item.key not in answered:
                ready.append(item)  # not a persona's conversation
            elif item.key.startswith("e:") and replies is None:
                live[int(item.key[2:])].cut = True  # the cap or the provider stopped the run
            else:
                detail = replies or "the run stopped (the budget cap, or the provider failing) "
                detail += "" if replies else "before the persona user answered"
                failed[item.key] = GradingResult(
                    item.key, None, error="judge-unavailable", detail=detail
                )
        return ready, failed

    def _wanted(self, item: GradingItem, live: list[Episode]) -> Wanted | None:
        """What the persona must answer in this conversation; None without a persona. An
        episode's last turn is answered too when the conversation can go on (an empty reply
        ends it): the placeholder turn stands for the model's next one."""
        if persona_of(item.task) is None:
            return None
        if not item.key.startswith("e:"):
            turns = turns_without_replies(item.response)
            return Wanted(item.key, item.task, turns, 0) if turns is not None else None
        episode = live[int(item.key[2:])]
        turns = list(episode.turns)
        if not turns[-1].get("tool_calls") and len(turns) < max_turns(episode.task):
            turns.append({"role": "assistant", "content": ""})
        return Wanted(item.key, item.task, turns, episode.opening.index)

    def _finisher(self, total: int, progress: ProgressFn | None) -> Callable[[Episode], None]:
        """Called as each episode ends: remembered in the cache (for the next estimate), and
        reported."""
        done = {"n": 0}
        params = self.sampler.settings.params()

        def finished(episode: Episode) -> None:
            key = episode_key(episode.opening, self.tools_json, params)
            remember_episode(self.sampler.cache, key, len(episode.turns))
            done["n"] += 1
            if progress is not None:
                progress(done["n"], total, episode.sample())

        return finished

    def _batch(self, backend, items: list[GradingItem], played: Played) -> dict:
        guard = guard_for(self.pack, self.options.jobs)  # one per round: model time is not its
        guard.admit(len(items))
        played.rounds += 1
        results = backend.grade_batch(self.pack, items, jobs=self.options.jobs, guard=guard)
        if guard.stopped is not None:
            played.stopped = played.stopped or guard.reason()
        return {r.key: r for r in results}


def graded(pack: EnvPack, played: Played, on_result=None) -> Grading:
    """The grading the play left: each finished episode's last grade, and the references'."""
    if played.sandbox_error is not None:
        raise played.sandbox_error
    done = [e for e in played.episodes if e.ended and not e.cut and e.result is not None]
    references = [r for r in pack.solutions if pack.task(r.task_id) is not None]
    reference_passes: dict[str, bool] = {}
    for index, result in sorted(played.reference_results.items()):
        task_id = references[index].task_id
        reference_passes[task_id] = reference_passes.get(task_id, False) or passes(pack, result)
    results = [e.result for e in done] + list(played.reference_results.values())
    for result in results if on_result is not None else ():
        on_result(result)
    return Grading(
        [Graded(e.sample(), e.result, passes(pack, e.result)) for e in done],
        reference_passes,
        played.backend,
        played.weak_backend,
        played.stopped,
    )


def persona_options(options: FunnelOptions, settings: SamplingSettings) -> FunnelOptions:
    """A persona user's model is asked where the calibrated ones are when the run names one
    server for every model (`--llm-api-base`) and the options name none."""
    if options.llm_api_base or not settings.api_base:
        return options
    key = options.llm_api_key or next((k for k in settings.api_keys.values() if k), None)
    return replace(options, llm_api_base=settings.api_base, llm_api_key=key)


MODEL_FIELDS = {  # what a chat API takes of each message (the replay adds a tool's "name")
    "tool": ("role", "tool_call_id", "content"),
    "assistant": ("role", "content", "tool_calls"),
}


def _for_model(message: dict[str, Any]) -> dict[str, Any]:
    fields = MODEL_FIELDS.get(str(message.get("role")), ("role", "content"))
    return {k: message[k] for k in fields if k in message}
