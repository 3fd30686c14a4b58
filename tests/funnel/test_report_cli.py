"""`gauntlet run DIR --html` and `gauntlet report REPORT.json --html`: a real run on a package
made from a template, in the Docker sandbox, written as the report page."""

from __future__ import annotations

import json

import pytest
from support.services import docker_available, need, sandbox_image_available

from app.cli import main
from app.envpack.templates import create_from_template


@pytest.fixture
def package(tmp_path):
    need(
        "docker sandbox",
        docker_available() and sandbox_image_available(),
        "needs a running Docker engine and the sandbox image "
        "(`gauntlet sandbox image --from-debian`)",
    )
    return create_from_template("qa-numeric", tmp_path / "pkg", package_name="test/numeric")


@pytest.mark.docker
def test_run_writes_the_page_and_report_rewrites_it_from_the_json(package, tmp_path, capsys):
    page = tmp_path / "out" / "run.html"
    code = main(["run", str(package), "--json", "--html", str(page), "--backend", "docker"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == (0 if report["verdict"] == "pass" else 1), captured.err
    assert f"report page written to {page}" in captured.err
    text = page.read_text(encoding="utf-8")
    assert "Gauntlet report: test/numeric" in text
    assert 'aria-label="Rewards by role"' in text and 'aria-label="Time per stage"' in text
    assert f"references ({report['stages'][1]['details']['rewards']['references']['count']})" in (
        text
    )
    saved = tmp_path / "report.json"
    saved.write_text(captured.out, encoding="utf-8")
    again = tmp_path / "again.html"
    assert main(["report", str(saved), "--html", str(again)]) == 0
    assert again.read_text(encoding="utf-8").count("<svg") == text.count("<svg")


def test_report_refuses_a_file_that_is_no_report(tmp_path, capsys):
    bad = tmp_path / "notes.json"
    bad.write_text('{"hello": 1}', encoding="utf-8")
    assert main(["report", str(bad), "--html", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: error: not a gauntlet-report/1 report" in err and "hint:" in err
    assert "Traceback" not in err and not (tmp_path / "x.html").exists()
    assert main(["report", str(tmp_path / "missing.json"), "--html", str(tmp_path / "x.html")]) == 2
    assert "the file does not exist" in capsys.readouterr().err


def test_report_refuses_a_folder_as_the_page(tmp_path, capsys):
    saved = tmp_path / "r.json"
    saved.write_text(
        json.dumps({"schema": "gauntlet-report/1", "stages": [], "findings": []}), encoding="utf-8"
    )
    assert main(["report", str(saved), "--html", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
