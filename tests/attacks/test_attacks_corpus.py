"""The attack corpus against the real Docker sandbox: every vulnerable package gets a confirmed
hit of its planted class; no robust package (every built-in grader among them) gets any; and no
package of the precision corpus (robust graders of the kinds experts write) gets any error."""

from __future__ import annotations

import pytest
from support.attack_corpus import CORPUS, corpus_expectation, corpus_names

from app.findings import Stage
from app.funnel.pipeline import FunnelOptions, run_funnel
from app.funnel.report import StageStatus

pytestmark = [pytest.mark.docker, pytest.mark.slow]
HIT_CODES = ("GX301", "GX302")


def test_corpus_is_big_enough_and_spread_over_every_category():
    vulnerable = corpus_names(robust=False)
    robust = corpus_names(robust=True)
    assert len(vulnerable) >= 30 and len(robust) >= 10
    planted = {corpus_expectation(n)["planted"] for n in vulnerable}
    assert planted == {
        "answer-format",
        "parser",
        "judge",
        "code-execution",
        "environment",
        "leakage",
        "resource",
    }
    graders = {(CORPUS / n / "env.toml").read_text() for n in robust}
    for mode in ("exact", "numeric", "choice", "regex", "set", "json"):
        assert any(f'mode = "{mode}"' in g and 'type = "match"' in g for g in graders), mode
    assert any('type = "tests"' in g for g in graders)


PRECISION_KINDS = {
    "tag": "<answer>",
    "boxed": "\\boxed{",
    "task tolerance": '"tolerance"',
    "unit-aware": "kJ/mol",
    "synonyms": '"synonyms"',
    "strict JSON": "json.loads",
    "chemistry": "ELEMENTS",
    "citation": "doi",
    "multiple choice with explanation": '"choices"',
}


def test_precision_corpus_has_twenty_expert_graders_of_every_kind():
    names = [n for n in corpus_names(robust=True) if corpus_expectation(n).get("precision")]
    assert len(names) >= 20
    text = "".join(
        (CORPUS / n / f).read_text(encoding="utf-8")
        for n in names
        for f in ("grader.py", "tasks.jsonl", "env.toml")
        if (CORPUS / n / f).exists()
    )
    for kind, marker in PRECISION_KINDS.items():
        assert marker in text, kind


def _attack(name: str, categories: tuple[str, ...] = ()):
    options = FunnelOptions(backend="docker", attack_categories=list(categories))
    report = run_funnel(CORPUS / name, stages=(Stage.ATTACK,), options=options)
    stage = report.stage(Stage.ATTACK)
    assert stage is not None and stage.status not in (StageStatus.ERROR, StageStatus.SKIPPED), (
        stage,
        report.findings,
    )
    return report, stage


@pytest.mark.parametrize("name", corpus_names(robust=False))
def test_vulnerable_package_gets_a_confirmed_hit_of_its_planted_class(name, docker_sandbox):
    # Only the planted class's attacks: the whole library on every vulnerable package (which
    # other classes also break it) is bench/attack_recall.py's run, 6x longer. The robust
    # packages below do get the whole library: a false alarm may come from any class.
    expect = corpus_expectation(name)
    report, stage = _attack(name, (expect["planted"],))
    hits = [f for f in report.findings_for(Stage.ATTACK) if f.code in HIT_CODES]
    planted = [f for f in hits if f.attack.category == expect["planted"]]
    assert planted, (
        f"{name}: no confirmed {expect['planted']} hit; "
        f"got {[(f.attack.id, f.attack.category) for f in hits]}"
    )
    assert any(f.attack.id in expect["attacks"] for f in planted), [f.attack.id for f in planted]
    finding = planted[0]
    # the report carries what an expert needs: task, the response, rewards, the fix
    assert finding.task_id and finding.hint and finding.file
    assert (
        "response" in finding.evidence
        and finding.evidence["reward"] >= finding.evidence["baseline_reward"]
    )
    assert finding.evidence["reproduced"].split("/")[0] >= "2"
    assert stage.status == StageStatus.FAIL and report.verdict == "fail"
    assert stage.details["categories"][expect["planted"]]["confirmed"] >= 1


@pytest.mark.parametrize("name", corpus_names(robust=True))
def test_robust_package_gets_no_confirmed_hit(name, docker_sandbox):
    report, stage = _attack(name)
    hits = [f for f in report.findings_for(Stage.ATTACK) if f.code in HIT_CODES]
    assert not hits, [(f.attack.id, f.task_id, f.evidence.get("response", "")[:120]) for f in hits]
    assert stage.status in (StageStatus.PASS, StageStatus.WARN)
    if corpus_expectation(name).get("precision"):
        # A sound grader gets no error at all; a warning (GX310) names an unstated assumption.
        errors = [f for f in report.findings_for(Stage.ATTACK) if f.is_error]
        assert not errors, [(f.code, f.message[:200]) for f in errors]
        for warning in report.findings_for(Stage.ATTACK):
            if warning.code == "GX310":
                assert warning.evidence["assumption"] in warning.message
    assert stage.details["confirmed_hits"] == 0 and stage.details["gradings"] > 50


@pytest.mark.parametrize("name", ["qa-loose-tolerance", "code-eq-compare", "qa-ascii-fold"])
def test_planted_weaknesses_pass_stage_2(name, docker_sandbox):
    """The corpus is realistic: stage 2 (references pass, negatives and the empty answer fail)
    does not see these weaknesses; only stage 3 does."""
    report = run_funnel(CORPUS / name, options=FunnelOptions(backend="docker"))
    assert report.stage(Stage.VERIFY).status in (StageStatus.PASS, StageStatus.WARN), (
        report.findings
    )
    assert report.stage(Stage.ATTACK).status == StageStatus.FAIL
