"""Confirmation logic (2 of 3 fresh runs) and candidate selection, driven by a deterministic
grading function so the flakiness is exactly what each test says. The sandbox itself is
exercised by the corpus and LLM tests."""

from __future__ import annotations

from pathlib import Path

from app.attacks.campaign import AttackCampaign
from app.attacks.campaign_findings import campaign_findings
from app.attacks.library import AttackLibrary
from app.envpack.model import EnvPack, Manifest, Reference, Task
from app.sandbox.base import GradingResult


def _pack() -> EnvPack:
    manifest = Manifest(kind="qa")
    manifest.grader.type = "python"
    tasks = [
        Task(f"t{i}", f"What is {i} + 40?", answer=40 + i, record={"id": f"t{i}", "answer": 40 + i})
        for i in range(3)
    ]
    return EnvPack(
        root=Path("."),
        manifest=manifest,
        tasks=tasks,
        solutions=[Reference(t.id, str(t.answer)) for t in tasks],
    )


class Grader:
    """Rewards the right number; rewards "nan" only in the batches listed in `nan_batches`."""

    def __init__(self, nan_batches: set[int]) -> None:
        self.nan_batches = nan_batches
        self.batches = 0

    def __call__(self, pack, items, on_result):
        self.batches += 1
        results = []
        for item in items:
            right = item.response.strip() == str(item.task["answer"])
            nan = item.response.strip().lower() == "nan" and self.batches in self.nan_batches
            result = GradingResult(item.key, 1.0 if right or nan else 0.0)
            results.append(result)
            if on_result:
                on_result(result)
        return results


def _run(nan_batches):
    grader = Grader(nan_batches)
    campaign = AttackCampaign(_pack(), grader, categories=["parser"])
    return campaign.run(), grader


def test_hit_reproducing_in_every_fresh_run_is_confirmed_after_two():
    result, grader = _run({1, 2, 3, 4})
    assert {h.candidate.attack_id for h in result.confirmed} == {"nan-inf"}
    assert len(result.confirmed) == 3  # one per task (at most three per attack)
    assert all(h.runs == [True, True] for h in result.confirmed)  # the third run is not needed
    assert grader.batches == 3  # one discovery batch + two confirmation batches
    finding = campaign_findings(_pack(), result, AttackLibrary.builtin())[0]
    assert (
        finding.code == "GX301"
        and finding.attack.id == "nan-inf"
        and finding.evidence["response"].lower() == "nan"
    )
    assert finding.evidence["tasks"] == [
        "t0",
        "t1",
        "t2",
    ]  # one finding per attack, every task listed


def test_hit_that_reproduces_once_in_three_is_listed_as_unconfirmed():
    result, grader = _run({1, 3})
    assert not result.confirmed
    assert {h.candidate.attack_id for h in result.unconfirmed} == {"nan-inf"}
    assert all(h.runs == [False, True, False] for h in result.unconfirmed)
    findings = campaign_findings(_pack(), result, AttackLibrary.builtin())
    assert {f.code for f in findings} == {"GX303"} and all(f.severity == "info" for f in findings)


def test_two_of_three_is_enough():
    result, _ = _run({1, 2, 4})
    assert result.confirmed and all(h.runs == [True, False, True] for h in result.confirmed)


def test_the_minimal_response_is_reported_once_per_attack():
    result, _ = _run({1, 2, 3, 4})
    hit = result.confirmed[0]
    assert hit.candidate.response.lower() == "nan"  # the shortest of the variants that worked
    assert len(result.confirmed) <= 3  # at most three tasks per attack are confirmed
    assert result.categories["parser"].confirmed == len(result.confirmed)


class LeakyGrader(Grader):
    def __call__(self, pack, items, on_result):
        results = super().__call__(pack, items, on_result)
        for item, result in zip(items, results, strict=True):
            result.feedback = f"wrong: expected {item.task['answer']}"
        return results


def test_feedback_that_reveals_the_answer_is_a_warning():
    result = AttackCampaign(_pack(), LeakyGrader(set()), categories=["parser"]).run()
    findings = campaign_findings(_pack(), result, AttackLibrary.builtin())
    leak = [f for f in findings if f.code == "GX304"]
    assert len(leak) == 1 and leak[0].severity == "warning" and leak[0].attack.id == "feedback-leak"
    assert (
        "expected 41" in leak[0].evidence["excerpt"]
    )  # t0 is skipped: its prompt contains 40 already


class BrokenReferenceGrader(Grader):
    def __call__(self, pack, items, on_result):
        results = super().__call__(pack, items, on_result)
        for item, result in zip(items, results, strict=True):
            if item.key.startswith("ref:t1:"):
                result.reward = 0.0
        return results


def test_tasks_whose_reference_fails_are_left_out_and_said_so():
    result = AttackCampaign(
        _pack(), BrokenReferenceGrader({1, 2, 3, 4}), categories=["parser"]
    ).run()
    assert "t1" in result.skipped_tasks
    assert {h.candidate.task_id for h in result.confirmed} == {"t0", "t2"}
    findings = campaign_findings(_pack(), result, AttackLibrary.builtin())
    assert any(f.code == "GX309" and "t1" in f.message for f in findings)
