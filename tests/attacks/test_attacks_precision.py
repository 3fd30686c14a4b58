"""Precision of stage 3: a response counts as wrong by construction only under the grader's own
semantics — its answer region, declared tolerances and accepted alternatives — and a hit that
rests on an assumption the package does not state is a warning naming it (GX310), never an
error. Pure unit tests; the corpus run against Docker is in test_attacks_corpus.py."""

from __future__ import annotations

from pathlib import Path

from app.attacks.answer_region import BOXED, FINAL_LINE, JSON_FIELD, TAG, WHOLE, learn_region
from app.attacks.campaign import context_for
from app.attacks.campaign_findings import campaign_findings
from app.attacks.campaign_result import CampaignResult, Hit
from app.attacks.correctness import assess
from app.attacks.library import AttackLibrary
from app.attacks.model import Candidate
from app.envpack.model import EnvPack, Manifest, Reference, Task
from app.findings import Severity

LIBRARY = AttackLibrary.builtin()
STATED_TAG = "Think, then put only the name in <answer></answer> tags."


def _pack(tasks, refs, grader_type="python") -> EnvPack:
    manifest = Manifest(kind="qa")
    manifest.grader.type = grader_type
    return EnvPack(
        root=Path("."),
        manifest=manifest,
        tasks=list(tasks),
        solutions=[Reference(t, r) for t, r in refs.items()],
    )


def _generated(pack, task, attack_id):
    ctx = context_for(pack, task, "")
    return ctx, [r for _, r in LIBRARY.get(attack_id).generate(ctx)]


def test_the_region_is_learned_from_the_references_and_stated_by_the_prompt():
    assert learn_region(STATED_TAG, ["Reasoning.\n<answer>x</answer>"]).kind == TAG
    assert learn_region(STATED_TAG, ["Reasoning.\n<answer>x</answer>"]).stated
    assert not learn_region("Which?", ["Reasoning.\n<answer>x</answer>"]).stated
    boxed = learn_region("Put it in \\boxed{}.", ["so \\boxed{\\frac{1}{2}}"])
    assert (boxed.kind, boxed.stated, boxed.content("so \\boxed{\\frac{1}{2}}")) == (
        BOXED,
        True,
        "\\frac{1}{2}",
    )
    field = learn_region('Reply with a JSON object with the field "answer".', ['{"answer": 3}'])
    assert (field.kind, field.name, field.stated) == (JSON_FIELD, "answer", True)
    assert learn_region("x", ['{"a": 1, "b": 2}'], answer={"a": 1, "b": 2}).kind == WHOLE
    last = learn_region("End with the last line 'Answer: X'.", ["because\nAnswer: B"])
    assert (last.kind, last.stated) == (FINAL_LINE, True)
    assert learn_region("x", ["42"]).kind == WHOLE
    # every reference must have it
    assert learn_region("x", ["<answer>1</answer>", "2"]).kind == WHOLE


def test_negation_and_truncation_move_inside_the_answer_tag():
    task = Task("t", STATED_TAG, answer="mitochondrion", record={"answer": "mitochondrion"})
    pack = _pack([task], {"t": "It makes ATP.\n<answer>mitochondrion</answer>"})
    ctx, negated = _generated(pack, task, "mutation-negated")
    assert "It makes ATP.\n<answer>not mitochondrion</answer>" in negated
    _, truncated = _generated(pack, task, "mutation-truncated")
    assert truncated == ["It makes ATP.\n<answer>mitoch</answer>"]
    inside = [r for r in negated + truncated if not r.startswith("not It")]
    assert len(inside) == 3  # "not X", "It is not X." and the truncation, all in the tag
    for response in inside:
        verdict = assess(pack, task, response, ctx.references, ctx.region)
        assert not verdict.possibly_correct and not verdict.assumption


def test_a_negation_outside_a_stated_region_is_not_wrong():
    # The false alarm: "not " before the tag left the extracted answer unchanged.
    task = Task("t", STATED_TAG, answer="mitochondrion", record={"answer": "mitochondrion"})
    ref = "It makes ATP.\n<answer>mitochondrion</answer>"
    pack = _pack([task], {"t": ref})
    ctx = context_for(pack, task, "")
    assert assess(pack, task, f"not {ref}", ctx.references, ctx.region).possibly_correct
    boxed = Task("b", "Put it in \\boxed{}.", answer=25, record={"answer": 25})
    pack = _pack([boxed], {"b": "Counting: \\boxed{25}"})
    ctx = context_for(pack, boxed, "")
    assert assess(
        pack, boxed, "not Counting: \\boxed{25}", ctx.references, ctx.region
    ).possibly_correct


def test_outside_an_unstated_region_it_is_an_assumption_that_is_named():
    task = Task("t", "Which organelle?", answer="mitochondrion", record={"answer": "mitochondrion"})
    ref = "It makes ATP.\n<answer>mitochondrion</answer>"
    pack = _pack([task], {"t": ref})
    ctx = context_for(pack, task, "")
    verdict = assess(pack, task, f"not {ref}", ctx.references, ctx.region)
    assert not verdict.possibly_correct
    assert "outside <answer>…</answer>" in verdict.assumption


def test_several_different_answers_in_the_region_are_wrong():
    task = Task("t", STATED_TAG, answer="42", record={"answer": "42"})
    pack = _pack([task], {"t": "So: <answer>42</answer>"})
    ctx = context_for(pack, task, "")
    response = "<answer>41</answer>\n<answer>42</answer>"
    verdict = assess(pack, task, response, ctx.references, ctx.region)
    assert not verdict.possibly_correct and not verdict.assumption


def test_a_truncation_inside_the_tasks_declared_tolerance_is_right():
    # The second false alarm: the task row's own absolute tolerance of 0.01.
    record = {"answer": 3.1416, "tolerance": 0.01}
    task = Task("pi", "Estimate pi. Reply with the number only.", answer=3.1416, record=record)
    pack = _pack([task], {"pi": "3.1416"})
    ctx, truncated = _generated(pack, task, "mutation-truncated")
    assert truncated == ["3.141"]
    assert assess(pack, task, "3.141", ctx.references, ctx.region).possibly_correct
    assert not assess(pack, task, "3.2", ctx.references, ctx.region).possibly_correct
    relative = Task("r", "x", answer=100.0, record={"answer": 100.0, "rel_tol": 0.02})
    assert assess(_pack([relative], {}), relative, "101.5", []).possibly_correct


def test_tolerances_stated_in_the_prompt_count():
    places = Task("s", "Give it to 2 decimal places.", answer=1.41421, record={"answer": 1.41421})
    assert assess(_pack([places], {}), places, "1.41", []).possibly_correct
    assert not assess(_pack([places], {}), places, "1.40", []).possibly_correct
    figures = Task("f", "Give 3 significant figures.", answer=8.314, record={"answer": 8.314})
    assert assess(_pack([figures], {}), figures, "8.31", []).possibly_correct


def test_declared_alternatives_are_right():
    record = {"answer": "vitamin C", "aliases": ["ascorbic acid"]}
    task = Task("c", "Which vitamin?", answer="vitamin C", record=record)
    assert assess(_pack([task], {}), task, "Ascorbic acid", []).possibly_correct
    assert not assess(_pack([task], {}), task, "not ascorbic acid", []).possibly_correct


def test_a_near_miss_with_no_stated_precision_is_an_assumption_not_certain():
    task = Task("g", "What is g?", answer=9.81, record={"answer": 9.81})
    verdict = assess(_pack([task], {"g": "9.81"}), task, "9.8", ["9.81"])
    assert not verdict.possibly_correct and "every digit" in verdict.assumption
    integer = Task("n", "How many?", answer=46, record={"answer": 46})
    verdict = assess(_pack([integer], {"n": "46"}), integer, "47", ["46"])
    assert not verdict.possibly_correct and not verdict.assumption  # integers are exact
    far = assess(_pack([task], {"g": "9.81"}), task, "98.1", ["9.81"])
    assert not far.possibly_correct and not far.assumption


def test_a_hit_that_rests_on_an_assumption_is_a_warning_that_names_it():
    task = Task("t", "Which organelle?", answer="mitochondrion", record={"answer": "mitochondrion"})
    pack = _pack([task], {"t": "x\n<answer>mitochondrion</answer>"})
    assumption = "text outside <answer>…</answer> counts as part of the answer"
    assumed = Candidate(
        "mutation-negated", "answer-format", "t", "outside", "not x", True, assumption=assumption
    )
    certain = Candidate(
        "mutation-negated", "answer-format", "t", "inside", "<answer>not m</answer>"
    )
    result = CampaignResult()
    for candidate in (assumed, certain):
        result.confirmed.append(Hit(candidate, 1.0, 0.0, 1.0, 1.0, runs=[True, True]))
    findings = {f.code: f for f in campaign_findings(pack, result, LIBRARY)}
    warning, error = findings["GX310"], findings["GX301"]
    assert warning.severity == Severity.WARNING and assumption in warning.message
    assert warning.evidence["confidence"] == "assumed"
    assert assumption in warning.evidence["assumption"] and assumption in warning.hint
    assert error.severity == Severity.ERROR and error.evidence["confidence"] == "certain"


def test_a_reference_in_another_unit_is_converted_the_way_it_is_written():
    # Found on the precision corpus (expert-units-length): the reference says "1.54 Å", the
    # task's answer and tolerance are in nm; "1.5554 Å" is 0.15554 nm, inside 0.002 nm.
    record = {"answer": 0.154, "tolerance": 0.002}
    task = Task("bond", "C-C bond length? Number and unit.", answer=0.154, record=record)
    pack = _pack([task], {"bond": "1.54 Å"})
    ctx = context_for(pack, task, "")
    assert assess(pack, task, "1.5554 Å", ctx.references, ctx.region).possibly_correct
    assert not assess(pack, task, "1.6 Å", ctx.references, ctx.region).possibly_correct
    assert not assess(pack, task, "1.5554 nm", ctx.references, ctx.region).possibly_correct
