"""Stage 3 per criterion, without a sandbox: the negative baseline of each criterion, which
criteria a response moved, when a criterion alone makes a hit, and what the attacks see of a
rubric (its grader files, the grader types whose attacks apply)."""

from __future__ import annotations

from pathlib import Path

from app.attacks.campaign import grader_source
from app.attacks.library import AttackLibrary
from app.attacks.redteam import _grader_description
from app.attacks.rubric_hits import (
    criteria_baseline,
    criterion_hit,
    moved_criteria,
    negative_items,
)
from app.envpack.loader import load_envpack
from app.resources import resource_path
from app.sandbox.base import GradingResult
from app.sandbox.rubric import criterion

TEMPLATE = resource_path("templates", "qa-rubric")
CORPUS = Path(__file__).parent / "rubric_corpus"


def graded(key: str, **scores: float | None) -> GradingResult:
    return GradingResult(key, None, criteria={n: criterion(s) for n, s in scores.items()})


def test_the_baseline_is_the_best_score_of_known_wrong_answers() -> None:
    results = {
        "plain": graded("plain", correct=0.0, format=0.0),
        "negbase:t1:0": graded("negbase:t1:0", correct=0.0, format=1.0),
        "negbase:t2:0": graded("negbase:t2:0", correct=1.0, format=1.0),  # another task
    }
    baseline, checked = criteria_baseline("t1", ["plain"], results, floor=0.0)
    assert baseline == {"correct": 0.0, "format": 1.0} and checked
    baseline, checked = criteria_baseline("t3", ["plain"], results, floor=0.0)
    assert baseline == {"correct": 0.0, "format": 0.0} and not checked


def test_only_criteria_above_their_baseline_moved() -> None:
    attack = graded("a", correct=1.0, format=1.0)
    assert moved_criteria(attack, {"correct": 0.0, "format": 1.0}, 0.01) == {"correct": 1.0}
    assert moved_criteria(GradingResult("x", 1.0), {"correct": 0.0}, 0.01) == {}  # no rubric


def test_a_criterion_alone_is_a_hit_only_at_pass_with_negatives_and_not_for_near_misses() -> None:
    assert criterion_hit({"correct": 1.0}, True, 1.0, False)
    assert not criterion_hit({"correct": 0.5}, True, 1.0, False)  # partly moved: not alone
    assert not criterion_hit({"correct": 1.0}, False, 1.0, False)  # no negatives to compare
    assert not criterion_hit({"correct": 1.0}, True, 1.0, True)  # a near miss
    assert not criterion_hit({}, True, 1.0, False)


def test_negatives_are_graded_beside_the_baselines_for_rubrics_only() -> None:
    pack = load_envpack(TEMPLATE).pack
    records = {t.id: t.record for t in pack.tasks}
    items = negative_items(pack, ["simvastatin-cyp"], records)
    assert [i.key for i in items] == ["negbase:simvastatin-cyp:0", "negbase:simvastatin-cyp:1"]
    python_pack = load_envpack(resource_path("templates", "qa-python")).pack
    ids = [t.id for t in python_pack.tasks]
    assert negative_items(python_pack, ids, {t.id: t.record for t in python_pack.tasks}) == []


def test_attacks_see_a_rubric_as_python_code_and_read_its_criteria() -> None:
    pack = load_envpack(TEMPLATE).pack
    assert pack.grader.graded_as == ("python",)
    applicable = {a.id for a in AttackLibrary.builtin().applicable(pack)}
    assert {"judge-self-score", "nan-inf", "several-finals"} <= applicable
    assert "judge-rubric-echo" not in applicable  # only for LLM judges
    source = grader_source(pack)
    assert "def cites_support(task, response):" in source
    described = _grader_description(pack, source)
    assert "combined by all-pass" in described and "citation (weight 0.2, `cites_support`)" in (
        described
    )
