"""Rubric graders (grader.type = "rubric") in stage 1: every rubric code has a package that
triggers it at the right line of env.toml, with a hint, and a fixed package that is clean; the
loader reads the criteria and points at the exact key of a bad one."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.envpack_packages import set_grader, write_files
from support.rubric_packages import RUBRIC_CASES, RUBRIC_GRADER, RubricCase, rubric_files

from app.envpack.loader import load_envpack
from app.envpack.rules import RULES
from app.funnel.structure import run_structure_stage


def _last_line(text: str, marker: str) -> int:
    lines = [n for n, line in enumerate(text.splitlines(keepends=True), 1) if marker in line]
    assert lines, f"{marker!r} not in env.toml"
    return lines[-1]


def _pack(tmp_path: Path, name: str, grader: str) -> Path:
    files = rubric_files()
    set_grader(files, grader)
    return write_files(tmp_path / name, files)


@pytest.mark.parametrize("case", RUBRIC_CASES, ids=lambda c: c.id or c.code)
def test_rubric_check_triggers_at_its_line_and_the_fix_clears(
    tmp_path: Path, case: RubricCase
) -> None:
    broken = _pack(tmp_path, "broken", case.breaks(case.fixed))
    _, findings = run_structure_stage(broken)
    matching = [f for f in findings if f.code == case.code]
    assert matching, [(f.code, f.message) for f in findings]
    finding = matching[0]
    text = (broken / "env.toml").read_text()
    marker_line = _last_line(text, case.marker)
    assert (finding.file, finding.line) == ("env.toml", marker_line), finding.message
    assert finding.message and finding.hint
    assert finding.severity == RULES[case.code].severity

    fixed = _pack(tmp_path, "fixed", case.fixed)
    _, fixed_findings = run_structure_stage(fixed)
    assert [(f.code, f.message) for f in fixed_findings] == []


def test_the_rubric_package_loads_every_criterion(tmp_path: Path) -> None:
    pack = load_envpack(_pack(tmp_path, "ok", RUBRIC_GRADER)).pack
    grader = pack.grader
    assert grader.is_rubric and grader.combine == "all-pass"
    assert [(c.name, c.weight, c.function) for c in grader.criteria] == [
        ("exact", 0.7, "exact"),
        ("short", 0.3, "short"),
    ]
    assert grader.to_dict()["criteria"][1]["name"] == "short"
    assert pack.where("grader.criteria.1.weight").line == _last_line(
        (tmp_path / "ok" / "env.toml").read_text(), "weight = 0.3"
    )


def test_design_spellings_are_accepted(tmp_path: Path) -> None:
    """DESIGN §4.3 writes combine = "weighted_mean" and entry = "grader.py:name"."""
    grader = RUBRIC_GRADER.replace('"all-pass"', '"weighted_mean"').replace(
        'function = "short"', 'entry = "grader.py:short"'
    )
    loaded, findings = run_structure_stage(_pack(tmp_path, "design", grader))
    assert [f.code for f in findings] == []
    assert loaded.pack.grader.combine == "weighted-mean"
    assert loaded.pack.grader.criterion_function(loaded.pack.grader.criteria[1]) == (
        "grader.py",
        "short",
    )


@pytest.mark.parametrize(
    ("change", "code", "marker", "words"),
    [
        (('function = "short"', 'fnction = "short"'), "GX103", "fnction", "function"),
        (("weight = 0.3", 'weight = "heavy"'), "GX104", "heavy", "number"),
        (('"all-pass"', '"majority"'), "GX105", "majority", "weighted-mean"),
    ],
)
def test_a_bad_criterion_key_is_located(tmp_path: Path, change, code, marker, words) -> None:
    root = _pack(tmp_path, "bad", RUBRIC_GRADER.replace(*change))
    _, findings = run_structure_stage(root)
    finding = next(f for f in findings if f.code == code)
    assert finding.line == _last_line((root / "env.toml").read_text(), marker)
    assert words in finding.message


def test_rubric_settings_on_another_grader_are_flagged_as_ignored(tmp_path: Path) -> None:
    grader = RUBRIC_GRADER.replace('type = "rubric"', 'type = "python"').replace(
        'entry = "grader.py:exact"', 'entry = "grader.py:exact"'
    )
    _, findings = run_structure_stage(_pack(tmp_path, "python", grader))
    ignored = {f.message.split(" ")[0] for f in findings if f.code == "GX160"}
    assert ignored == {"grader.combine", "grader.criteria"}
