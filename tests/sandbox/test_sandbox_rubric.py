"""Rubric graders (DESIGN §4.3) in the sandbox and in stage 2: every criterion's score is kept
beside the combined reward; weighted-mean, all-pass and threshold combine as documented; a
criterion that fails fails the grading, naming the criterion; judge criteria are asked of the
judge once each; and the stage 2 gates say which criterion is to blame."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.fake_llm import ScriptedLLMServer
from support.sandbox_packages import load, write_pack

from app.envpack.model import CriterionSpec, GraderSpec
from app.findings import Stage
from app.funnel.pipeline import FunnelOptions, run_funnel
from app.sandbox.backends import get_backend
from app.sandbox.base import GradingItem
from app.sandbox.judge import JudgeGrader
from app.sandbox.rubric import combine, criterion, judge_rubric

TASKS = [
    {"id": "t1", "prompt": "What is 6 times 7? Reply `Answer: N`.", "answer": 42},
    {"id": "t2", "prompt": "What is 2 plus 2? Reply `Answer: N`.", "answer": 4},
]
REFS = [{"task_id": "t1", "response": "Answer: 42"}, {"task_id": "t2", "response": "Answer: 4"}]
NEGS = [{"task_id": "t1", "response": "Answer: 41", "note": "off by one"}]
CRITERIA_PY = """
import re


def correct(task, response):
    match = re.fullmatch(r"Answer: (-?[0-9]+)", response.strip())
    return 1.0 if match and int(match.group(1)) == task["answer"] else 0.0


def formatted(task, response):
    return 1.0 if re.fullmatch(r"Answer: \\S+", response.strip()) else 0.0


def explained(task, response):
    ok = response.startswith("Answer:")
    return {"reward": 1.0 if ok else 0.0, "metrics": {"chars": len(response)}, "feedback": "ok"}


def fragile(task, response):
    return 1.0 / len(response)  # raises on the empty response
"""


def rubric(combine_mode: str = "all-pass", *extra: str, second: str = "formatted") -> str:
    return "\n".join(
        [
            'type = "rubric"',
            'entry = "grader.py:correct"',
            f'combine = "{combine_mode}"',
            *extra,
            "reward_range = [0.0, 1.0]",
            "pass_threshold = 1.0",
            "timeout_s = 5",
            "",
            '[[grader.criteria]]\nname = "correct"\nweight = 0.75\nfunction = "correct"',
            f'[[grader.criteria]]\nname = "format"\nweight = 0.25\nfunction = "{second}"',
        ]
    )


def pack(tmp_path: Path, grader: str, refs=REFS, negs=NEGS) -> Path:
    return write_pack(
        tmp_path / "pack",
        grader=grader,
        tasks=TASKS,
        solutions=refs,
        negatives=negs,
        grader_py=CRITERIA_PY,
    )


def spec(combine_mode: str, threshold: float | None = None) -> GraderSpec:
    return GraderSpec(
        type="rubric",
        combine=combine_mode,
        threshold=threshold,
        criteria=[CriterionSpec("a", 3.0, "a"), CriterionSpec("b", 1.0, "b")],
    )


@pytest.mark.parametrize(
    ("mode", "threshold", "scores", "expected"),
    [
        ("weighted-mean", None, (1.0, 0.0), 0.75),
        ("weighted-mean", None, (0.5, 1.0), 0.625),
        ("all-pass", None, (1.0, 0.99), 0.0),
        ("all-pass", None, (1.0, 1.0), 1.0),
        ("threshold", 0.7, (1.0, 0.0), 1.0),
        ("threshold", 0.8, (1.0, 0.0), 0.0),
    ],
)
def test_combine_modes(mode, threshold, scores, expected) -> None:
    outcome = {"a": criterion(scores[0]), "b": criterion(scores[1])}
    assert combine(spec(mode, threshold), outcome) == (expected, "", "")


def test_a_failed_criterion_fails_the_grading_by_name() -> None:
    outcome = {"a": criterion(1.0), "b": criterion(None, "exception", "ZeroDivisionError")}
    assert combine(spec("weighted-mean"), outcome) == (
        None,
        "exception",
        'criterion "b": ZeroDivisionError',
    )
    assert combine(spec("weighted-mean"), {"a": criterion(1.0)})[1] == "invalid-reward"


def test_the_sandbox_keeps_every_criterions_score(tmp_path, process_backend) -> None:
    root = pack(tmp_path, rubric("weighted-mean", second="fragile"))
    items = [
        GradingItem("ref", TASKS[0], "Answer: 42"),
        GradingItem("neg", TASKS[0], "Answer: 41"),
        GradingItem("empty", TASKS[0], ""),
    ]
    results = {r.key: r for r in process_backend.grade_batch(load(root), items)}
    ref, neg, empty = results["ref"], results["neg"], results["empty"]
    assert ref.ok and ref.criteria["correct"]["score"] == 1.0
    assert ref.criteria["format"]["score"] == pytest.approx(0.1)
    assert ref.reward == pytest.approx(0.75 + 0.25 * 0.1)
    assert neg.reward == pytest.approx(0.025) and neg.criteria["correct"]["score"] == 0.0
    # one criterion raised: the grading is that error, the other criterion's score is kept
    assert empty.error == "exception" and empty.reward is None
    assert empty.detail.startswith('criterion "format":') and "ZeroDivisionError" in empty.detail
    assert empty.criteria["correct"]["score"] == 0.0


def test_an_invalid_criterion_score_is_that_criterions_error(tmp_path, process_backend) -> None:
    root = pack(tmp_path, rubric("all-pass", second="nan_score"))
    (root / "grader.py").write_text(
        CRITERIA_PY + "\n\ndef nan_score(task, response):\n    return float('nan')\n"
    )
    [result] = process_backend.grade_batch(load(root), [GradingItem("x", TASKS[0], "Answer: 42")])
    assert result.error == "invalid-reward" and 'criterion "format"' in result.detail
    assert "nan" in result.criteria["format"]["detail"]


def _judge_reply(score: float):
    def reply(request):
        text = request["messages"][-1]["content"]
        nonce = re.search(r"<<<RESPONSE-([0-9a-f]+)>>>", text).group(1)
        return json.dumps({"nonce": nonce, "score": score, "reason": "scripted"})

    return reply


def test_judge_criteria_are_asked_once_each_and_snap_to_a_choice(tmp_path) -> None:
    grader = rubric(
        "weighted-mean",
        'model = "openai/scripted"',
    ) + (
        '\n[[grader.criteria]]\nname = "clear"\nweight = 1.0\n'
        'judge = "Is the answer stated plainly?"\nchoices = ["no", "partly", "yes"]\n'
    )
    root = pack(tmp_path, grader)
    with ScriptedLLMServer([], default=_judge_reply(0.6)) as llm:
        backend = get_backend(
            "process", own_package=True, judge=JudgeGrader(api_key="k", api_base=llm.url)
        )
        results = backend.grade_batch(load(root), [GradingItem("ref", TASKS[0], "Answer: 42")])
        prompt = llm.requests[0]["messages"][-1]["content"]
    [result] = results
    assert len(llm.requests) == 1  # one judge criterion, one item
    assert "Is the answer stated plainly?" in prompt and '"partly": score 0.5' in prompt
    assert result.criteria["clear"]["score"] == 0.5  # 0.6 is nearest to "partly"
    assert result.reward == pytest.approx((0.75 + 0.25 + 0.5) / 2.0)


def test_judge_rubric_lists_the_choices_worst_to_best() -> None:
    grader = GraderSpec(type="rubric", reward_range=(0.0, 10.0))
    text = judge_rubric(grader, CriterionSpec("c", judge="Cites a source?", choices=["no", "yes"]))
    assert text.index('"no": score 0') < text.index('"yes": score 1')


def verify(root: Path):
    report = run_funnel(root, stages=(Stage.VERIFY,), options=FunnelOptions(backend="process"))
    return report, report.stage(Stage.VERIFY), report.findings_for(Stage.VERIFY)


def test_stage_2_reports_each_criterions_score_per_reference_and_negative(tmp_path) -> None:
    report, stage, findings = verify(pack(tmp_path, rubric("all-pass")))
    assert [f.code for f in findings if f.is_error] == []
    assert stage.details["runs"] == 2 and stage.details["flakiness_checked"]
    table = stage.details["rubric"]
    assert table["combine"] == "all-pass"
    assert [c["name"] for c in table["criteria"]] == ["correct", "format"]
    rows = {row["key"]: row for row in table["gradings"]}
    assert rows["ref:0"]["criteria"] == {"correct": 1.0, "format": 1.0}
    assert rows["neg:0"]["criteria"] == {"correct": 0.0, "format": 1.0}
    assert rows["neg:0"]["reward"] == 0.0 and rows["neg:0"]["role"] == "negative"


def test_a_reference_failing_one_criterion_names_it(tmp_path) -> None:
    refs = [REFS[0], {"task_id": "t2", "response": "answer: 4"}]
    _, _, findings = verify(pack(tmp_path, rubric("all-pass"), refs=refs))
    [finding] = [f for f in findings if f.code == "GX201"]
    assert 'it fails criteria "correct" (0, weight 0.75), "format" (0, weight 0.25)' in (
        finding.message
    )
    assert finding.evidence["criteria"] == {"correct": 0.0, "format": 0.0}
    assert (finding.file, finding.line) == ("solutions.jsonl", 2)


def test_a_negative_above_the_floor_says_which_criterion_let_it_through(tmp_path) -> None:
    _, _, findings = verify(pack(tmp_path, rubric("weighted-mean")))
    [finding] = [f for f in findings if f.code == "GX202"]
    assert "scores 0.25, above the floor 0" in finding.message
    assert 'let through by criterion "format" (1, weight 0.25)' in finding.message
    assert (finding.file, finding.line) == ("negatives.jsonl", 1)


def test_a_reference_passing_overall_but_failing_a_criterion_is_gx215(tmp_path) -> None:
    """threshold 0.7: the correct answer alone (weight 0.75) passes; the reference's extra
    words fail the format criterion, which the report says."""
    refs = [REFS[0], {"task_id": "t2", "response": "Answer: 4 (two plus two)"}]
    root = pack(tmp_path, rubric("threshold", "threshold = 0.7"), refs=refs)
    lenient = CRITERIA_PY.replace('fullmatch(r"Answer: (-?', 'match(r"Answer: (-?')
    (root / "grader.py").write_text(lenient)
    _, stage, findings = verify(root)
    [finding] = [f for f in findings if f.code == "GX215"]
    assert finding.severity.value == "warning" and finding.task_id == "t2"
    assert 'criterion "format" (0, weight 0.25) below pass_threshold 1' in finding.message
    assert finding.evidence["criteria_failed"] == ["format"]
    assert (finding.file, finding.line) == ("solutions.jsonl", 2)
    assert stage.details["references_passed"] == {"ok": 2, "total": 2}


def test_judge_criteria_without_a_model_are_reported_once(tmp_path) -> None:
    grader = rubric("weighted-mean") + (
        '\n[[grader.criteria]]\nname = "clear"\nweight = 1.0\n'
        'judge = "Is the answer stated plainly?"\nchoices = ["no", "yes"]\n'
    )
    _, stage, findings = verify(pack(tmp_path, grader))
    assert stage.details["runs"] == 1  # a judge is asked once (replies vary, calls cost)
    assert [f.code for f in findings if f.is_error] == ["GX212"]
    assert "no judge model is set" in findings[[f.code for f in findings].index("GX212")].message


def test_the_funnel_child_gets_the_judge_key_of_a_rubric(tmp_path, monkeypatch) -> None:
    """The child runs with no credentials of its own: a rubric's judge criteria need the key
    handed over like a judge grader's."""
    from app.funnel.child import _with_judge_key

    grader = rubric("weighted-mean", 'model = "scriptedprovider/some-model"')
    root = pack(tmp_path, grader)
    monkeypatch.setenv("SCRIPTEDPROVIDER_API_KEY", "key-from-the-environment")
    options = _with_judge_key(root, FunnelOptions(backend="process"))
    assert options.llm_api_key == "key-from-the-environment"


def test_a_criterions_feedback_and_metrics_are_kept_under_its_name(tmp_path, process_backend):
    root = pack(tmp_path, rubric("all-pass", second="explained"))
    [result] = process_backend.grade_batch(load(root), [GradingItem("x", TASKS[0], "Answer: 42")])
    assert result.reward == 1.0 and result.feedback == "format: ok"
    assert result.metrics == {"criteria": {"format": {"chars": 10}}}
