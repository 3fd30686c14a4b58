"""The multi-turn attack corpus (tests/attacks/multiturn_corpus, README there) in the Docker
sandbox: stage 3 flags every vulnerable package with its planted code (GX340-GX347) and no
robust one with any hit. A vulnerable package runs the attack category of its planted family
(one batch to screen, fresh ones to confirm); the robust ones run the whole multi-turn library.
The whole library on every package is bench/attack_recall.py's multi-turn row."""

from __future__ import annotations

import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support.services import docker_available, need, sandbox_image_available

from app.attacks.turn_library import code_for, turn_library
from app.envpack.loader import load_envpack
from app.findings import Severity, Stage
from app.funnel.pipeline import FunnelOptions, run_funnel
from app.funnel.report import StageStatus

CORPUS = Path(__file__).parent / "multiturn_corpus"
RUBRIC_CORPUS = Path(__file__).parent / "rubric_corpus"
HIT_CODES = {f"GX34{i}" for i in range(9)} | {"GX301", "GX302", "GX310"}


def expectation(folder: Path) -> dict:
    return tomllib.loads((folder / "expect.toml").read_text(encoding="utf-8"))


def names(*, robust: bool) -> list[str]:
    return sorted(
        p.name
        for p in CORPUS.iterdir()
        if (p / "expect.toml").is_file() and expectation(p)["robust"] is robust
    )


def family_categories(code: str) -> list[str]:
    return sorted({a.category for a in turn_library() if code_for(a.id) == code})


def test_corpus_has_8_vulnerable_and_2_robust_multi_turn_packages() -> None:
    vulnerable, robust = names(robust=False), names(robust=True)
    assert len(vulnerable) >= 8 and len(robust) >= 2
    planted = set()
    for name in vulnerable + robust:
        loaded = load_envpack(CORPUS / name)
        assert loaded.ok, [f.message for f in loaded.findings if f.is_error]
        assert loaded.pack.is_multi_turn
        if name in vulnerable:
            planted.add(expectation(CORPUS / name)["code"])
    assert planted >= {f"GX34{i}" for i in range(8)}
    # with the rubric corpus: the 12 vulnerable and 4 robust packages
    rubric = [expectation(p)["robust"] for p in RUBRIC_CORPUS.iterdir() if p.is_dir()]
    assert len(vulnerable) + rubric.count(False) >= 12
    assert len(robust) + rubric.count(True) >= 4


def _run(name: str):
    expect = expectation(CORPUS / name)
    categories = [] if expect["robust"] else family_categories(expect["code"])
    return run_funnel(
        CORPUS / name,
        stages=(Stage.ATTACK,),
        options=FunnelOptions(backend="docker", attack_categories=categories),
    )


@pytest.fixture(scope="module")
def reports():
    """Every package's stage 3, three at a time (most of a run is the sandboxes starting)."""
    need(
        "docker sandbox",
        docker_available() and sandbox_image_available(),
        "needs a running Docker engine and the sandbox image",
    )
    every = names(robust=False) + names(robust=True)
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(every, pool.map(_run, every), strict=True))


def _attack(reports, name: str):
    report = reports[name]
    stage = report.stage(Stage.ATTACK)
    assert stage is not None and stage.status not in (StageStatus.ERROR, StageStatus.SKIPPED)
    return report, stage


@pytest.mark.docker
@pytest.mark.parametrize("name", names(robust=False))
def test_vulnerable_package_is_flagged_with_its_planted_code(name, reports) -> None:
    code = expectation(CORPUS / name)["code"]
    report, stage = _attack(reports, name)
    found = [f for f in report.findings_for(Stage.ATTACK) if f.code == code]
    assert found, [(f.code, f.message) for f in report.findings_for(Stage.ATTACK)]
    finding = found[0]
    evidence = finding.evidence
    # the minimal evidence: the trajectory, its replay in a fresh sandbox, the fix hint
    assert evidence["response"].startswith('{"turns"')
    assert evidence["replayed_conversation"][-1]["role"] in ("assistant", "user", "tool")
    assert evidence["reproduced"] in ("2/2", "2/3", "3/3")
    assert finding.hint and finding.file == "grader.py"
    assert stage.status in (StageStatus.FAIL, StageStatus.WARN)
    if finding.severity == Severity.ERROR:
        assert stage.status == StageStatus.FAIL


@pytest.mark.docker
@pytest.mark.parametrize("name", names(robust=True))
def test_robust_package_gets_no_hit(name, reports) -> None:
    report, stage = _attack(reports, name)
    hits = [f for f in report.findings_for(Stage.ATTACK) if f.code in HIT_CODES]
    assert not hits, [(f.code, f.attack.id if f.attack else "", f.message) for f in hits]
    assert stage.details["confirmed_hits"] == 0 and stage.details["gradings"] > 100
