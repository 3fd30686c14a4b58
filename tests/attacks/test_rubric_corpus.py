"""The rubric attack corpus (tests/attacks/rubric_corpus) in the Docker sandbox: stage 3 flags
every vulnerable rubric package on the criterion with the planted weakness (the finding's
evidence names it among the criteria the attack moved above the negative baseline, and points
at that criterion's function), and no robust rubric package gets any hit."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from app.envpack.loader import load_envpack
from app.findings import Stage
from app.funnel.pipeline import FunnelOptions, run_funnel
from app.funnel.report import StageStatus

pytestmark = [pytest.mark.docker, pytest.mark.slow]
CORPUS = Path(__file__).parent / "rubric_corpus"
HIT_CODES = ("GX301", "GX302")


def expectation(name: str) -> dict:
    return tomllib.loads((CORPUS / name / "expect.toml").read_text(encoding="utf-8"))


def names(*, robust: bool) -> list[str]:
    return sorted(
        p.name
        for p in CORPUS.iterdir()
        if (p / "expect.toml").is_file() and expectation(p.name)["robust"] is robust
    )


def test_corpus_has_vulnerable_and_robust_rubrics_of_both_kinds() -> None:
    vulnerable, robust = names(robust=False), names(robust=True)
    assert len(vulnerable) >= 4 and len(robust) >= 2
    kinds = set()
    for name in vulnerable + robust:
        loaded = load_envpack(CORPUS / name)
        assert loaded.ok, [f.message for f in loaded.findings if f.is_error]
        grader = loaded.pack.grader
        assert grader.is_rubric and len(grader.criteria) >= 2
        kinds.add(loaded.pack.manifest.kind)
        if name in vulnerable:
            assert expectation(name)["criterion"] in {c.name for c in grader.criteria}
    assert kinds == {"qa", "code"}


def _attack(name: str):
    report = run_funnel(
        CORPUS / name,
        stages=(Stage.VERIFY, Stage.ATTACK),
        options=FunnelOptions(backend="docker"),
    )
    verify = report.stage(Stage.VERIFY)
    # realistic packages: stage 2 (references pass, negatives fail) does not see the weakness
    assert verify.status in (StageStatus.PASS, StageStatus.WARN), report.findings
    stage = report.stage(Stage.ATTACK)
    assert stage is not None and stage.status not in (StageStatus.ERROR, StageStatus.SKIPPED)
    return report, stage


@pytest.mark.parametrize("name", names(robust=False))
def test_vulnerable_rubric_is_flagged_on_its_planted_criterion(name, docker_sandbox) -> None:
    expect = expectation(name)
    report, stage = _attack(name)
    hits = [f for f in report.findings_for(Stage.ATTACK) if f.code in HIT_CODES]
    on_criterion = [f for f in hits if expect["criterion"] in f.evidence["criteria_moved"]]
    assert on_criterion, [(f.attack.id, f.evidence.get("criteria_moved")) for f in hits]
    assert any(f.attack.id in expect["attacks"] for f in on_criterion), [
        f.attack.id for f in on_criterion
    ]
    finding = next(f for f in on_criterion if f.attack.id in expect["attacks"])
    criterion = expect["criterion"]
    assert f'criterion "{criterion}"' in finding.message
    moved_score = finding.evidence["criteria"][criterion]
    assert moved_score > finding.evidence["criteria_baseline"][criterion]
    # the fix is in the criterion's function
    pack = load_envpack(CORPUS / name).pack
    spec = next(c for c in pack.grader.criteria if c.name == criterion)
    file, function = pack.grader.criterion_function(spec)
    source = (CORPUS / name / file).read_text().splitlines()
    assert finding.file == file and source[finding.line - 1].startswith(f"def {function}(")
    assert stage.status == StageStatus.FAIL


@pytest.mark.parametrize("name", names(robust=True))
def test_robust_rubric_gets_no_hit(name, docker_sandbox) -> None:
    report, stage = _attack(name)
    hits = [f for f in report.findings_for(Stage.ATTACK) if f.code in HIT_CODES]
    assert not hits, [(f.attack.id, f.evidence.get("criteria_moved")) for f in hits]
    assert stage.details["confirmed_hits"] == 0 and stage.details["gradings"] > 50
