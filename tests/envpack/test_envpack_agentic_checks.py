"""Agentic packages (kind = "agentic") under the structural checks: every agentic code has a
package that triggers it (code, file, line and fix hint asserted) and a fixed one that does not;
the qa/code checks stay quiet on a good agentic package and never crash on a bad one."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.agentic_packages import AGENTIC_CASES, AgenticCase, agentic_files, put, sub
from support.envpack_packages import base_files, write_files

from app.envpack.checks import CHECKS, LOADER_CODES
from app.envpack.rules import RULES
from app.funnel.structure import run_structure_stage

AGENTIC_STRUCTURE_CODES = {
    "GX162", "GX163", "GX164", "GX165", "GX166", "GX167", "GX168", "GX169", "GX183", "GX184",
    "GX194",
}  # fmt: skip


def _write(tmp_path: Path, name: str, case: AgenticCase, *, broken: bool) -> Path:
    files = agentic_files()
    case.fix(files)
    if broken:
        case.breaks(files)
    return write_files(tmp_path / name, files)


def _expected_line(root: Path, case: AgenticCase) -> int | None:
    if not isinstance(case.line, str):
        return case.line
    lines = (root / case.file).read_text(encoding="utf-8").splitlines()
    return next(n for n, text in enumerate(lines, 1) if text.startswith(case.line))


@pytest.mark.parametrize("case", AGENTIC_CASES, ids=lambda c: c.id or c.code)
def test_agentic_check_triggers_and_fix_clears(tmp_path: Path, case: AgenticCase) -> None:
    root = _write(tmp_path, "broken", case, broken=True)
    _, findings = run_structure_stage(root)
    matching = [f for f in findings if f.code == case.code and f.file == case.file]
    assert matching, [(f.code, f.file, f.line, f.message) for f in findings]
    finding = matching[0]
    assert finding.line == _expected_line(root, case), (finding.line, finding.message)
    assert finding.severity == RULES[case.code].severity
    assert finding.message.strip() and finding.hint.strip()
    assert finding.hint == RULES[case.code].hint or case.code in ("GX163", "GX166", "GX194")

    _, fixed = run_structure_stage(_write(tmp_path, "fixed", case, broken=False))
    assert [f for f in fixed if f.code == case.code] == []
    assert [f for f in fixed if f.is_error] == [], [f.message for f in fixed]


def test_every_agentic_code_has_a_case_and_an_owner() -> None:
    assert {case.code for case in AGENTIC_CASES} == AGENTIC_STRUCTURE_CODES
    owned = set(LOADER_CODES) | {code for check in CHECKS for code in check.codes}
    assert AGENTIC_STRUCTURE_CODES <= owned <= set(RULES) | {"GX199"}


def test_a_good_agentic_package_is_clean(tmp_path: Path) -> None:
    loaded, findings = run_structure_stage(write_files(tmp_path / "p", agentic_files()))
    assert findings == [], [(f.code, f.file, f.message) for f in findings]
    [task] = loaded.pack.agentic_tasks
    assert (task.id, task.negatives, task.has_dockerfile) == ("sum-b", ["wrong-column"], False)


def test_a_task_dockerfile_gets_the_offline_build_checks(tmp_path: Path) -> None:
    files = agentic_files()
    files["tasks/sum-b/environment/Dockerfile"] = "FROM ubuntu:24.04\nRUN apt-get update\n"
    _, findings = run_structure_stage(write_files(tmp_path / "p", files))
    got = {(f.code, f.file, f.line) for f in findings}
    assert ("GX126", "tasks/sum-b/environment/Dockerfile", 1) in got
    assert ("GX128", "tasks/sum-b/environment/Dockerfile", 2) in got
    [from_line] = [f for f in findings if f.code == "GX126"]
    assert from_line.message.startswith("tasks/sum-b/environment/Dockerfile starts a stage FROM")


def test_the_verifier_grader_type_outside_agentic_packages_is_gx183(tmp_path: Path) -> None:
    files = base_files()
    files["env.toml"] = files["env.toml"].replace('type = "match"', 'type = "verifier"')
    _, findings = run_structure_stage(write_files(tmp_path / "p", files))
    codes = [f.code for f in findings if f.is_error]
    assert "GX183" in codes and "GX159" not in codes  # one finding, not two for the same thing


@pytest.mark.parametrize(
    "breaks",
    [
        put("env.toml", "schema = 'gauntlet/1'\nkind = 'agentic'\n"),  # almost empty
        sub("env.toml", 'type = "verifier"', 'type = "match"\nmode = "exact"'),
        put("tasks/sum-b/tests/test.sh", b"\xff\xfe not utf-8"),
        put("tasks/sum-b/instruction.md", b"\xff"),
        put("environment/Dockerfile", 'COPY ["tests", "/t"]\n'),
        put("tasks/sum-b/environment/Dockerfile", ""),
        put("tasks.jsonl", '{"id": "x", "prompt": "p", "answer": 1}\n'),
    ],
)
def test_no_check_crashes_or_talks_about_jsonl_on_agentic_packages(tmp_path: Path, breaks) -> None:
    files = agentic_files()
    breaks(files)
    _, findings = run_structure_stage(write_files(tmp_path / "p", files))
    assert [f for f in findings if f.code == "GX199"] == [], [f.message for f in findings]
    assert not any("solutions.jsonl" in f.message for f in findings)
    assert not any(f.file == "tasks.jsonl" and f.code != "GX121" for f in findings)
