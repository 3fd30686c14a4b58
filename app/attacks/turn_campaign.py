"""Stage 3 for multi-turn packages: the attack campaign over trajectories.

The same run as a qa campaign (app/attacks/campaign.py): every reference, baseline and attack
trajectory of the sampled tasks is graded in ONE warm sandbox batch (each grading replays its
episode in a fresh fork; never a container per episode), hits are decided against the task's
plain wrong answers, and every hit is confirmed by replaying it in fresh sandboxes (2 of 3).

What differs:
- the baseline is the reference's work with a plain wrong final message (and the package's
  negatives), so a hit beats a wrong answer given *the way the task is done*;
- the attacks are trajectories (app/attacks/turn_*.py), each already wrong by construction
  (a wrong final message) or wrong in its process (turn_process.py says when that is a hit);
- "repeat the steps" counts only when its replay shows the duplicated calls changed the
  tools' state: the replayed tool results are compared with the reference's replay;
- a hit keeps the replayed conversation of a confirmation run as evidence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from app.attacks.baseline import plain_wrong
from app.attacks.campaign import AttackCampaign, GradeFn
from app.attacks.campaign_result import Hit, TaskScores
from app.attacks.model import CATEGORIES, Attack, Candidate
from app.attacks.sampling import sample_tasks
from app.attacks.turn_library import turn_library
from app.attacks.turn_process import REPEAT_ID
from app.attacks.turns_context import TurnsContext, turns_context
from app.envpack.model import EnvPack, Task
from app.envpack.tool_schemas import read_tools
from app.sandbox.base import GradingItem, GradingResult

log = logging.getLogger(__name__)

MAX_TASKS = 8  # tasks attacked per package (every trajectory of them goes in one batch)
MAX_CANDIDATES_PER_ATTACK = 12  # per task
EXCERPT_MESSAGES = 14
EXCERPT_CHARS = 400

# (task record, trajectory turns) -> the persona's replies; raises when it cannot be asked
AskPersona = Callable[[dict[str, Any], list[dict[str, Any]]], list[str]]


class TurnCampaign(AttackCampaign):
    def __init__(
        self, pack: EnvPack, grade: GradeFn, *, ask_persona: AskPersona | None = None, **kwargs
    ) -> None:
        kwargs.setdefault("library", turn_library())
        kwargs.setdefault("max_tasks", MAX_TASKS)
        super().__init__(pack, grade, **kwargs)
        self.ask_persona = ask_persona
        self.tools = _tools(pack)
        self.persona_problems: dict[str, str] = {}  # task id -> why its persona was not asked
        self._confirm_episodes: dict[str, dict] = {}

    def context(self, task: Task) -> TurnsContext:
        asker = None
        if self.ask_persona is not None:
            ask = self.ask_persona

            def asker(turns: list[dict[str, Any]]) -> list[str]:
                try:
                    return ask(task.record, turns)
                except Exception as exc:  # noqa: BLE001 - PersonaUnavailable, said in the report
                    self.persona_problems[task.id] = str(exc)
                    return []

        return turns_context(self.pack, task, self.tools, self.source, asker)

    # -- planning --------------------------------------------------------------------------

    def plan(self):
        tasks = sample_tasks(self.pack, self.max_tasks)
        self.result.tasks_attacked = len(tasks)
        attacks = self.library.applicable(self.pack, self.categories)
        for item in attacks:
            self.result.categories[item.category].attacks += 1
        references: list[GradingItem] = []
        baselines: dict[str, list[Candidate]] = {}
        candidates: list[Candidate] = []
        uses: dict[str, int] = {}
        for task in tasks:
            ctx = self.context(task)
            for i, ref in enumerate(self.pack.references_for(task.id)):
                references.append(GradingItem(f"ref:{task.id}:{i}", task.record, ref.response))
            baselines[task.id] = [
                Candidate(
                    plain_wrong.id,
                    plain_wrong.category,
                    task.id,
                    variant,
                    ctx.with_final(text),
                    full_reward_only=True,
                )
                for variant, text in ctx.wrong_finals()
            ]
            for item in attacks:
                if item.max_tasks is not None and uses.get(item.id, 0) >= item.max_tasks:
                    continue
                made = self._turn_candidates(item, ctx)
                uses[item.id] = uses.get(item.id, 0) + bool(made)
                candidates.extend(made)
                self.result.categories[item.category].candidates += len(made)
        order = {c: i for i, c in enumerate(CATEGORIES)}
        candidates.sort(key=lambda c: order[c.category])
        return tasks, references, baselines, candidates

    def _turn_candidates(self, attack: Attack, ctx: TurnsContext) -> list[Candidate]:
        made: list[Candidate] = []
        seen: set[str] = set()
        try:
            generated = list(attack.generate(ctx))
        except Exception:  # noqa: BLE001 - a generator bug costs one attack, never the stage
            log.exception("attack %s failed to generate for task %s", attack.id, ctx.task.id)
            return []
        for variant, response in generated:
            if response in seen or len(made) >= MAX_CANDIDATES_PER_ATTACK:
                continue
            seen.add(response)
            label = (
                variant if variant not in {c.variant for c in made} else f"{variant}-{len(made)}"
            )
            made.append(
                Candidate(
                    attack.id,
                    attack.category,
                    ctx.task.id,
                    label,
                    response,
                    attack.full_reward_only,
                )
            )
        return made

    # -- hits ------------------------------------------------------------------------------

    def _hits(self, baselines, candidates, results, scores) -> list[Hit]:
        kept = [
            c
            for c in candidates
            if not _cut_short(results.get(c.key))
            and (c.attack_id != REPEAT_ID or self.changed_state(c, results))
        ]
        return super()._hits(baselines, kept, results, scores)

    def changed_state(self, cand: Candidate, results: dict[str, GradingResult]) -> bool:
        """The duplicated calls changed what the tools return: a call's result differs from the
        reference's replay, or a duplicate's result differs from its original's."""
        reference = results.get(f"ref:{cand.task_id}:0")
        attacked = results.get(cand.key)
        if reference is None or attacked is None:
            return False
        before = _results_by_id(reference.episode)
        after = _results_by_id(attacked.episode)
        if not before or not after:
            return False
        for call_id, text in after.items():
            original = call_id.split("_again_")[0]
            if original in before and before[original] != text:
                return True
            if original != call_id and after.get(original) not in (None, text):
                return True
        return False

    def make_hit(
        self, cand: Candidate, reward: float, score: TaskScores, result: GradingResult | None
    ) -> Hit:
        hit = super().make_hit(cand, reward, score, result)
        if result is not None and result.episode:
            hit.conversation = conversation_excerpt(result.episode)
        return hit

    # -- confirmation: keep the replayed conversation of a run that reproduced the hit -------

    def grade(self, items, phase, pack=None):
        results = super().grade(items, phase, pack)
        for key, result in results.items():
            if key.startswith("confirm:") and result.episode:
                self._confirm_episodes[key] = result.episode
        return results

    def _confirmation_run(self, pending, baselines, records, run, need):
        self._confirm_episodes.clear()
        still = super()._confirmation_run(pending, baselines, records, run, need)
        for i, hit in enumerate(pending):
            episode = self._confirm_episodes.get(f"confirm:{i}")
            if episode and hit.runs and hit.runs[-1]:
                hit.conversation = conversation_excerpt(episode)
        return still


def conversation_excerpt(episode: dict | None) -> list[dict[str, Any]]:
    """The replayed conversation, short: the last messages, each cut to a few hundred
    characters (tool calls as name(arguments))."""
    messages = (episode or {}).get("messages") or []
    shown = []
    for message in messages[-EXCERPT_MESSAGES:]:
        item: dict[str, Any] = {"role": message.get("role")}
        content = message.get("content")
        if content:
            text = str(content)
            item["content"] = text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "")
        calls = message.get("tool_calls") or []
        if calls:
            item["tool_calls"] = [
                f"{(c.get('function') or {}).get('name')}"
                f"({str((c.get('function') or {}).get('arguments'))[:EXCERPT_CHARS]})"
                for c in calls
                if isinstance(c, dict)
            ]
        if message.get("role") == "tool":
            item["name"] = message.get("name")
        shown.append(item)
    if len(messages) > EXCERPT_MESSAGES:
        shown.insert(0, {"role": "note", "content": f"{len(messages) - EXCERPT_MESSAGES} earlier"})
    return shown


def _cut_short(result: GradingResult | None) -> bool:
    """The replay left turns of the attack out (max_turns, or nobody to answer a question): its
    wrong final message may never have been graded, so it cannot be a hit."""
    notes = ((result.episode or {}).get("notes") or []) if result is not None else []
    return any("left out" in str(note) for note in notes)


def _results_by_id(episode: dict | None) -> dict[str, str]:
    return {
        str(m.get("tool_call_id")): str(m.get("content"))
        for m in (episode or {}).get("messages") or []
        if m.get("role") == "tool"
    }


def _tools(pack: EnvPack) -> tuple:
    try:
        source = (pack.root / "tools.py").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    read = read_tools(source)
    return tuple(read.tools) if not read.error else ()
