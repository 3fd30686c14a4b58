"""One attack run on one package: plan every candidate, grade them in as few sandbox batches
as possible, decide which are hits, and confirm each hit in fresh sandboxes.

The grading function is injected (`GradeFn`): every call is one *fresh* sandbox batch. That
keeps this module independent of how sandboxes are chosen, and lets confirmation be honest:
a hit must reproduce in new sandboxes, not just in the one where it was found.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from app.attacks.answer_region import learn_region
from app.attacks.answers import answer_text
from app.attacks.baseline import plain_wrong, plain_wrong_answers
from app.attacks.campaign_result import CampaignResult, FeedbackLeak, Hit, TaskScores
from app.attacks.correctness import assess
from app.attacks.library import AttackLibrary
from app.attacks.model import CATEGORIES, Attack, AttackContext, Candidate
from app.attacks.rubric_hits import (
    criteria_baseline,
    criterion_hit,
    moved_criteria,
    negative_items,
)
from app.attacks.sampling import DEFAULT_MAX_TASKS, sample_tasks
from app.envpack.model import EnvPack, Task
from app.findings import Stage
from app.progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress
from app.sandbox.base import GradingItem, GradingResult
from app.sandbox.rubric import criterion_scores

log = logging.getLogger(__name__)

# grade(pack, items, on_result) -> results in item order; each call is one fresh sandbox.
GradeFn = Callable[
    [EnvPack, list[GradingItem], Callable[[GradingResult], None] | None], list[GradingResult]
]

MAX_CONFIRM_TASKS_PER_ATTACK = 3
MAX_CONFIRM_CANDIDATES = 150
MAX_GRADER_SOURCE_CHARS = 200_000
# Categories whose responses could disturb the sandbox for later items go last in a batch.
_LATE = ("environment", "resource")
# Attacks on the harness rather than on the answer (exit early, patch builtins, master keys)
# work the same on every task: one task is enough evidence and keep code packages fast
# (each code grading starts a process).
TASK_AGNOSTIC = ("code-execution", "environment", "resource", "judge")
TASK_AGNOSTIC_TASKS = 1
JUDGE_MAX_TASKS = 3
JUDGE_MAX_VARIANTS = 2


def grader_source(pack: EnvPack) -> str:
    """What a white-box attacker reads: grader.py for python graders, the rubric for judges."""
    grader = pack.grader
    names = (
        [grader.entry_file]
        if grader.type == "python"
        else [grader.rubric]
        if grader.type == "judge"
        else grader.rubric_files()  # a rubric's code criteria (none for other graders)
    )
    texts = []
    for name in names:
        try:
            texts.append((Path(pack.root) / name).read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    return "\n".join(texts)[:MAX_GRADER_SOURCE_CHARS]


def context_for(pack: EnvPack, task: Task, source: str) -> AttackContext:
    references = tuple(r.response for r in pack.references_for(task.id))
    return AttackContext(
        pack=pack,
        task=task,
        references=references,
        neighbours=tuple(t for t in pack.tasks if t.id != task.id),
        grader_source=source,
        region=learn_region(str(task.prompt or ""), references, task.answer),
    )


def is_hit(
    reward: float, baseline: float, pass_threshold: float, margin: float, full_reward_only: bool
) -> bool:
    """DESIGN §6: reward ≥ pass threshold, or above a plain wrong answer (wrong by construction
    is the caller's job)."""
    if reward >= pass_threshold:
        return True
    return not full_reward_only and reward > baseline + margin


class AttackCampaign:
    def __init__(
        self,
        pack: EnvPack,
        grade: GradeFn,
        *,
        library: AttackLibrary | None = None,
        categories: list[str] | tuple[str, ...] = (),
        confirm_runs: int = 3,
        max_tasks: int = DEFAULT_MAX_TASKS,
        progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
    ) -> None:
        self.pack = pack
        self._grade = grade
        self.library = library or AttackLibrary.builtin()
        self.categories = list(categories)
        self.confirm_runs = max(1, confirm_runs)
        self.max_tasks = max_tasks
        self.progress = progress
        self.cancel = cancel or CancelToken()
        self.source = grader_source(pack)
        self.floor = pack.grader.floor
        self.threshold = pack.grader.pass_threshold
        # a hit "above a plain wrong answer" must clear it by 1% of the reward range
        self.margin = 0.01 * max(pack.grader.ceiling - pack.grader.floor, 1e-9)
        self.result = CampaignResult(tasks_total=len(pack.tasks))

    # -- grading ---------------------------------------------------------------------------

    def grade(
        self, items: list[GradingItem], phase: str, pack: EnvPack | None = None
    ) -> dict[str, GradingResult]:
        """One fresh sandbox batch; progress per result."""
        self.cancel.raise_if_cancelled()
        total = len(items)
        done = 0

        def on_result(_result: GradingResult) -> None:
            nonlocal done
            done += 1
            if done == total or done % 10 == 0:
                self.progress(
                    ProgressEvent(Stage.ATTACK, "progress", done=done, total=total, message=phase)
                )

        self.progress(
            ProgressEvent(Stage.ATTACK, "log", message=f"{phase}: {total} gradings in one sandbox")
        )
        results = self._grade(pack or self.pack, items, on_result) if items else []
        self.result.gradings += len(items)
        self.result.batches += 1 if items else 0
        return {r.key: r for r in results}

    def reward_of(self, result: GradingResult | None) -> float:
        if result is None or not result.ok:
            return self.floor
        return float(result.reward)

    # -- planning --------------------------------------------------------------------------

    def plan(
        self,
    ) -> tuple[list[Task], list[GradingItem], dict[str, list[Candidate]], list[Candidate]]:
        """Tasks, reference items, baseline candidates per task, attack candidates."""
        judge = "judge" in self.pack.grader.graded_as
        # every judge grading is a paid model call: fewer tasks, fewer variants per attack
        tasks = sample_tasks(
            self.pack, min(self.max_tasks, JUDGE_MAX_TASKS) if judge else self.max_tasks
        )
        self.result.tasks_attacked = len(tasks)
        references: list[GradingItem] = []
        baselines: dict[str, list[Candidate]] = {}
        candidates: list[Candidate] = []
        attacks = [
            a for a in self.library.applicable(self.pack, self.categories) if a.id != plain_wrong.id
        ]
        for attack in attacks:
            self.result.categories[attack.category].attacks += 1
        uses: dict[str, int] = defaultdict(int)
        for task in tasks:
            ctx = context_for(self.pack, task, self.source)
            for i, ref in enumerate(ctx.references):
                references.append(GradingItem(f"ref:{task.id}:{i}", task.record, ref))
            baselines[task.id] = self._candidates(plain_wrong, ctx, plain_wrong_answers(ctx))
            for attack in attacks:
                limit = attack.max_tasks
                if limit is None and attack.category in TASK_AGNOSTIC:
                    limit = TASK_AGNOSTIC_TASKS
                if limit is not None and uses[attack.id] >= limit:
                    continue
                made = self._candidates(attack, ctx, _safe_generate(attack, ctx))
                if judge:
                    made = made[:JUDGE_MAX_VARIANTS]
                if made:
                    uses[attack.id] += 1
                    candidates.extend(made)
                    self.result.categories[attack.category].candidates += len(made)
        order = {c: i for i, c in enumerate(CATEGORIES)}
        candidates.sort(key=lambda c: (c.category in _LATE, order[c.category]))
        return tasks, references, baselines, candidates

    def _candidates(self, attack: Attack, ctx: AttackContext, responses) -> list[Candidate]:
        made: list[Candidate] = []
        seen: set[str] = set()
        for variant, response in responses:
            if response in seen:
                continue
            seen.add(response)
            verdict = assess(self.pack, ctx.task, response, ctx.references, ctx.region)
            if verdict.possibly_correct:
                self.result.dropped_possibly_correct += 1
                continue
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
                    assumption=verdict.assumption,
                )
            )
        return made

    # -- the run ---------------------------------------------------------------------------

    def run(
        self,
        red_team: Callable[[CampaignResult, dict[str, list[Candidate]]], list[Hit]] | None = None,
    ) -> CampaignResult:
        tasks, references, baselines, candidates = self.plan()
        records = {t.id: t.record for t in tasks}
        baseline_items = [
            GradingItem(c.key, records[c.task_id], c.response)
            for cs in baselines.values()
            for c in cs
        ]
        # Attack responses may be built to hang or crash a grader: not a sign it does not answer.
        attack_items = [
            GradingItem(c.key, records[c.task_id], c.response, expect_answer=False)
            for c in candidates
        ]
        negatives = negative_items(self.pack, [t.id for t in tasks], records)
        results = self.grade(
            references + baseline_items + negatives + attack_items, "built-in attacks"
        )

        scores = self._scores(tasks, baselines, results)
        self.result.scores = scores
        self._find_feedback_leaks(tasks, baselines, results)
        hits = self._hits(baselines, candidates, results, scores)
        if red_team is not None:
            hits.extend(red_team(self.result, baselines))
        self._confirm(self._for_confirmation(hits), baselines, records)
        return self.result

    def _scores(self, tasks, baselines, results) -> dict[str, TaskScores]:
        scores: dict[str, TaskScores] = {}
        for task in tasks:
            refs = [
                self.reward_of(r) for k, r in results.items() if k.startswith(f"ref:{task.id}:")
            ]
            base = [self.reward_of(results.get(c.key)) for c in baselines[task.id]]
            scores[task.id] = TaskScores(
                max(refs) if refs else None, max(base) if base else self.floor
            )
            if self.pack.grader.is_rubric:
                keys = [c.key for c in baselines[task.id]]
                scores[task.id].criteria_baseline, scores[task.id].criteria_checked = (
                    criteria_baseline(task.id, keys, results, self.floor)
                )
            if refs and max(refs) < self.threshold:
                # a broken task is stage 2's finding; attacking it would report noise
                self.result.skipped_tasks[task.id] = (
                    "no reference reaches the pass threshold (see gauntlet verify)"
                )
        return scores

    def _hits(self, baselines, candidates, results, scores) -> list[Hit]:
        hits: list[Hit] = []
        open_tasks = set()
        for task_id, base in baselines.items():
            if task_id in self.result.skipped_tasks:
                continue
            for cand in base:
                reward = self.reward_of(results.get(cand.key))
                if reward >= self.threshold:
                    hits.append(self.make_hit(cand, reward, scores[task_id], results.get(cand.key)))
                    break
            else:
                open_tasks.add(task_id)
        for cand in candidates:
            if cand.task_id not in open_tasks:
                continue  # skipped, or the grader passes a plain wrong answer there already
            score = scores[cand.task_id]
            reward = self.reward_of(results.get(cand.key))
            if self.counts_as_hit(cand, reward, score, results.get(cand.key)):
                hits.append(self.make_hit(cand, reward, score, results.get(cand.key)))
        for hit in hits:
            self.result.categories[hit.candidate.category].candidate_hits += 1
        return hits

    def counts_as_hit(
        self, cand: Candidate, reward: float, score: TaskScores, result: GradingResult | None
    ) -> bool:
        """A hit on the combined reward, or (a rubric) on a criterion it moved alone."""
        if is_hit(reward, score.baseline, self.threshold, self.margin, cand.full_reward_only):
            return True
        moved = moved_criteria(result, score.criteria_baseline, self.margin)
        return criterion_hit(moved, score.criteria_checked, self.threshold, cand.full_reward_only)

    def make_hit(
        self, cand: Candidate, reward: float, score: TaskScores, result: GradingResult | None
    ) -> Hit:
        hit = Hit(
            cand,
            reward,
            score.baseline,
            score.reference,
            self.threshold,
            feedback=(result.feedback if result else "")[:300],
        )
        if result is not None and result.criteria:
            hit.criteria = criterion_scores(result)
            hit.criteria_moved = moved_criteria(result, score.criteria_baseline, self.margin)
            hit.criteria_baseline = dict(score.criteria_baseline)
        return hit

    def _for_confirmation(self, hits: list[Hit]) -> list[Hit]:
        """Per attack: the shortest working response on each of up to 3 tasks."""
        best: dict[tuple[str, str], Hit] = {}
        for hit in hits:
            key = (hit.candidate.attack_id, hit.candidate.task_id)
            if key not in best or len(hit.candidate.response) < len(best[key].candidate.response):
                best[key] = hit
        per_attack: dict[str, list[Hit]] = defaultdict(list)
        for (attack_id, _task), hit in best.items():
            per_attack[attack_id].append(hit)
        chosen: list[Hit] = []
        for group in per_attack.values():
            group.sort(key=lambda h: (not h.full_reward, len(h.candidate.response)))
            chosen.extend(group[:MAX_CONFIRM_TASKS_PER_ATTACK])
        return chosen[:MAX_CONFIRM_CANDIDATES]

    # -- confirmation ----------------------------------------------------------------------

    def _confirm(self, hits: list[Hit], baselines, records) -> None:
        hits = self._drop_solutions(hits, records)
        need = self.confirm_runs // 2 + 1  # 2 of 3
        pending = list(hits)
        for run in range(1, self.confirm_runs + 1):
            if not pending:
                break
            pending = self._confirmation_run(pending, baselines, records, run, need)
        for hit in hits:
            stats = self.result.categories[hit.candidate.category]
            if hit.reproduced >= need:
                self.result.confirmed.append(hit)
                if hit.candidate.assumption:
                    stats.assumed += 1
                else:
                    stats.confirmed += 1
            else:
                hit.note = hit.note or (
                    f"reproduced in {hit.reproduced} of "
                    f"{len(hit.runs)} fresh sandbox runs (needs {need})"
                )
                self.result.unconfirmed.append(hit)
                stats.unconfirmed += 1

    def _confirmation_run(
        self, pending: list[Hit], baselines, records, run: int, need: int
    ) -> list[Hit]:
        """Grades every pending hit again in a fresh sandbox, beside its tasks' plain wrong
        answers; returns the hits still undecided (neither `need` successes nor too many
        failures to reach them)."""
        tasks = sorted({h.candidate.task_id for h in pending})
        items = [
            GradingItem(c.key, records[t], c.response) for t in tasks for c in baselines.get(t, [])
        ]
        items += _again("confirm", pending, records)
        results = self.grade(
            items, f"confirming {len(pending)} hit(s), run {run} of {self.confirm_runs}"
        )
        base = {
            t: max(
                [self.reward_of(results.get(c.key)) for c in baselines.get(t, [])] or [self.floor]
            )
            for t in tasks
        }
        still = []
        for i, hit in enumerate(pending):
            reward = self.reward_of(results.get(f"confirm:{i}"))
            hit.rewards.append(reward)
            cand = hit.candidate
            score = self.result.scores.get(cand.task_id)
            moved = (
                moved_criteria(results.get(f"confirm:{i}"), score.criteria_baseline, self.margin)
                if score is not None
                else {}
            )
            hit.runs.append(
                is_hit(
                    reward, base[cand.task_id], self.threshold, self.margin, cand.full_reward_only
                )
                or criterion_hit(
                    moved,
                    bool(score and score.criteria_checked),
                    self.threshold,
                    cand.full_reward_only,
                )
            )
            failures = len(hit.runs) - hit.reproduced
            if hit.reproduced < need and failures <= self.confirm_runs - need:
                still.append(hit)
        return still

    def _drop_solutions(self, hits: list[Hit], records) -> list[Hit]:
        """Code responses whose wrongness is not certain (an LLM's proposal, another task's
        solution) must fail the strict built-in tests grader; a response that passes it may
        simply be a correct solution, so it is never reported."""
        uncertain = [
            h
            for h in hits
            if self.pack.manifest.kind == "code"
            and (
                h.candidate.source == "llm" or h.candidate.attack_id == "mutation-neighbour-answer"
            )
        ]
        if not uncertain:
            return hits
        oracle = strict_tests_pack(self.pack)
        checkable = [
            h
            for h in uncertain
            if oracle is not None and _has_tests(records.get(h.candidate.task_id))
        ]
        dropped: set[int] = set()
        if checkable:
            items = _again("oracle", checkable, records)
            results = self.grade(
                items, "checking that the hits are not real solutions", pack=oracle
            )
            for i, hit in enumerate(checkable):
                if self.reward_of(results.get(f"oracle:{i}")) >= self.threshold:
                    dropped.add(id(hit))
        checked = {id(h) for h in checkable}
        for hit in uncertain:
            if id(hit) not in checked:
                hit.note = (
                    "could not be checked against the task's tests, so it may be a correct solution"
                )
                self.result.unconfirmed.append(hit)
                self.result.categories[hit.candidate.category].unconfirmed += 1
                dropped.add(id(hit))
            elif id(hit) in dropped:
                self.result.dropped_possibly_correct += 1
        return [h for h in hits if id(h) not in dropped]

    # -- leakage through feedback ----------------------------------------------------------

    def _find_feedback_leaks(self, tasks, baselines, results) -> None:
        for task in tasks:
            answer = answer_text(task).strip()
            if len(answer) < 2 or answer in task.prompt:
                continue
            pattern = re.compile(rf"(?<![\w.]){re.escape(answer)}(?![\w])")
            for cand in baselines[task.id]:
                result = results.get(cand.key)
                if result is None or answer in cand.response:
                    continue
                for where, text in (
                    ("feedback", result.feedback or ""),
                    ("metrics", _dump(result.metrics)),
                ):
                    found = pattern.search(text)
                    if found:
                        start = max(0, found.start() - 60)
                        self.result.feedback_leaks.append(
                            FeedbackLeak(task.id, answer, where, text[start : found.end() + 60])
                        )
                        break
                else:
                    continue
                break


def _again(prefix: str, hits: list[Hit], records) -> list[GradingItem]:
    """Each hit's response to grade once more (keys `prefix:0`, `prefix:1`...), as the wrong
    answer it was built to be."""
    return [
        GradingItem(
            f"{prefix}:{i}", records[h.candidate.task_id], h.candidate.response, expect_answer=False
        )
        for i, h in enumerate(hits)
    ]


def _safe_generate(attack: Attack, ctx: AttackContext):
    """A generator bug must cost one attack, never the whole stage."""
    try:
        return list(attack.generate(ctx))
    except Exception:  # noqa: BLE001 - logged; the other attacks still run
        log.exception("attack %s failed to generate for task %s", attack.id, ctx.task.id)
        return []


def _dump(value) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _has_tests(record) -> bool:
    return (
        isinstance(record, dict)
        and isinstance(record.get("tests"), list)
        and bool(record.get("tests"))
        and isinstance(record.get("entry"), str)
    )


def strict_tests_pack(pack: EnvPack) -> EnvPack | None:
    """The same package graded by the built-in, type-strict `tests` grader."""
    if pack.manifest.kind != "code":
        return None
    clone = copy.copy(pack)
    clone.manifest = copy.deepcopy(pack.manifest)
    clone.manifest.grader.type = "tests"
    return clone
