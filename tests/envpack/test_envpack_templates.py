"""The bundled templates: complete, realistic, clean under their own checks, and creatable."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main
from app.envpack.loader import load_envpack
from app.envpack.manifest_edit import ManifestDocument
from app.envpack.templates import create_from_template, list_templates
from app.errors import UserError
from app.funnel.structure import run_structure_stage

EXPECTED = {
    "qa-exact",
    "qa-numeric",
    "qa-choice",
    "qa-python",
    "qa-judge",
    "qa-rubric",
    "code-tests",
}
AGENTIC = {"agentic-data", "agentic-bugfix"}


def test_all_templates_are_listed() -> None:
    templates = {t.name: t for t in list_templates()}
    assert set(templates) >= EXPECTED | AGENTIC
    assert templates["qa-python"].grader == "python"
    assert templates["code-tests"].kind == "code"
    assert {(templates[n].kind, templates[n].grader) for n in AGENTIC} == {("agentic", "verifier")}
    assert all(t.title and t.description for t in templates.values())


@pytest.mark.parametrize("name", sorted(EXPECTED | AGENTIC))
def test_every_template_passes_check_with_no_findings(name: str, tmp_path: Path, capsys) -> None:
    dest = tmp_path / name
    create_from_template(name, dest)
    _, findings = run_structure_stage(dest)
    assert findings == [], [(f.code, f.location(), f.message) for f in findings]
    assert main(["check", str(dest)]) == 0
    assert "no problems found" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(AGENTIC))
def test_agentic_template_is_complete(name: str, tmp_path: Path) -> None:
    dest = create_from_template(name, tmp_path / name)
    pack = load_envpack(dest).pack
    assert pack.is_agentic and pack.grader.type == "verifier"
    assert (pack.manifest.sandbox.memory_mb, pack.manifest.sandbox.disk_mb) == (512, 256)
    assert pack.agentic_tasks and all(len(t.negatives) >= 2 for t in pack.agentic_tasks)
    for task in pack.agentic_tasks:
        for script in ("solution/solve.sh", "tests/test.sh"):
            mode = (dest / task.path(script)).stat().st_mode
            assert mode & 0o111, f"{task.path(script)} is not executable"
        test_sh = (dest / task.path("tests/test.sh")).read_text()
        assert "set -euo pipefail" in test_sh and "/usr/bin/python3 -I" in test_sh
        assert test_sh.rstrip().endswith("echo 1 > /logs/verifier/reward.txt")
    assert (dest / "README.md").read_text().strip()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_template_is_complete_and_clean(name: str, tmp_path: Path, capsys) -> None:
    dest = tmp_path / name
    create_from_template(name, dest)
    loaded, findings = run_structure_stage(dest)
    assert findings == [], [(f.code, f.location(), f.message) for f in findings]
    pack = loaded.pack
    assert len(pack.tasks) >= 3
    assert {t.id for t in pack.tasks} == {r.task_id for r in pack.solutions}
    assert {n.task_id for n in pack.negatives} <= {t.id for t in pack.tasks} and len(
        pack.negatives
    ) >= 3
    assert (dest / "README.md").read_text().strip()
    assert main(["check", str(dest)]) == 0
    assert "no problems found" in capsys.readouterr().out


def test_created_package_is_prefilled_from_a_bounty(tmp_path: Path) -> None:
    dest = create_from_template(
        "qa-numeric",
        tmp_path / "kinetics",
        package_name="acme/enzyme-kinetics",
        title="Enzyme kinetics",
        description="Rates and constants.",
        bounty_id="b_0042",
        tags=["biology", "kinetics"],
    )
    pack = load_envpack(dest).pack
    info = pack.manifest.package
    assert (info.name, info.title, info.description, info.bounty, info.tags) == (
        "acme/enzyme-kinetics",
        "Enzyme kinetics",
        "Rates and constants.",
        "b_0042",
        ["biology", "kinetics"],
    )
    text = (dest / "env.toml").read_text()
    assert "# relative: 50.04 is accepted for 50" in text  # the template's comments survive
    assert ManifestDocument.load(dest / "env.toml").get("grader.tolerance") == 1e-3


def test_default_name_comes_from_the_folder(tmp_path: Path) -> None:
    dest = create_from_template("qa-exact", tmp_path / "My Nomenclature Set")
    assert load_envpack(dest).pack.manifest.package.name == "local/my-nomenclature-set"


def test_refuses_a_non_empty_destination(tmp_path: Path) -> None:
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "notes.txt").write_text("keep me")
    with pytest.raises(UserError, match="not empty"):
        create_from_template("qa-exact", dest)
    assert (dest / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # no staging folder left behind


def test_an_empty_destination_folder_is_fine(tmp_path: Path) -> None:
    dest = tmp_path / "empty"
    dest.mkdir()
    create_from_template("qa-choice", dest)
    assert (dest / "env.toml").is_file()


def test_unknown_template_and_bad_name_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no template called"):
        create_from_template("qa-nope", tmp_path / "x")
    with pytest.raises(UserError, match="not a valid package name"):
        create_from_template("qa-exact", tmp_path / "y", package_name="Not A Name")
    assert list(tmp_path.iterdir()) == []


def test_funnel_structure_stage_reports_on_a_template(tmp_path: Path) -> None:
    from app.envpack.bundle import package_digest
    from app.findings import Stage
    from app.funnel.pipeline import run_funnel

    dest = create_from_template("qa-python", tmp_path / "p", package_name="acme/balance")
    report = run_funnel(dest, stages=(Stage.STRUCTURE,))
    assert report.verdict.value == "pass"
    assert (report.package.name, report.package.version) == ("acme/balance", "0.1.0")
    assert report.package.digest == package_digest(dest)
    assert [s.status.value for s in report.stages] == ["pass"]

    (dest / "grader.py").write_text("def grade(task, response)\n    return 1.0\n")
    report = run_funnel(dest)
    assert report.verdict.value == "fail"
    [finding] = report.findings
    assert (finding.code, finding.file, finding.line) == ("GX170", "grader.py", 1)
    assert [s.status.value for s in report.stages] == ["fail", "skipped", "skipped"]
