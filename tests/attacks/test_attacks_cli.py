"""`gauntlet attack` and `gauntlet run`: exit codes, human and JSON output."""

from __future__ import annotations

import json
import shutil

import pytest
from support.attack_corpus import CORPUS

from app.cli import main


def test_not_a_package_is_unusable_input(tmp_path, capsys):
    assert main(["attack", str(tmp_path / "missing")]) == 2
    assert main(["attack", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no env.toml" in err and "Traceback" not in err


def test_unknown_category_names_the_valid_ones(capsys):
    assert main(["attack", str(CORPUS / "robust-match-exact"), "--only", "parsers"]) == 2
    err = capsys.readouterr().err
    assert "unknown attack category: parsers" in err and "answer-format" in err


def test_llm_options_without_a_model_are_refused(capsys):
    assert main(["attack", str(CORPUS / "robust-match-exact"), "--budget-usd", "1"]) == 2
    assert "--llm MODEL" in capsys.readouterr().err
    assert (
        main(
            [
                "attack",
                str(CORPUS / "robust-match-exact"),
                "--llm",
                "openai/x",
                "--budget-usd",
                "-1",
            ]
        )
        == 2
    )


def test_save_trajectories_needs_a_model_and_a_file_in_an_existing_folder(tmp_path, capsys):
    package = str(CORPUS / "robust-match-exact")
    assert main(["attack", package, "--save-trajectories", str(tmp_path / "runs.json")]) == 2
    assert "--llm MODEL" in capsys.readouterr().err
    for bad in (tmp_path, tmp_path / "missing" / "runs.json"):
        args = ["attack", package, "--llm", "openai/x", "--save-trajectories", str(bad)]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "not a file in an existing folder" in err and "Traceback" not in err


@pytest.mark.docker
def test_robust_package_exits_0_with_a_summary_per_category(docker_sandbox, capsys):
    code = main(["attack", str(CORPUS / "robust-match-exact"), "--json", "--backend", "docker"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["verdict"] == "pass"
    attack = next(s for s in report["stages"] if s["name"] == "attack")
    assert attack["status"] == "pass"
    assert attack["details"]["categories"]["answer-format"]["candidates"] > 0
    assert (
        attack["details"]["llm"]["model"] is None
        and "only the built-in" in attack["details"]["llm"]["note"]
    )


@pytest.mark.docker
def test_confirmed_hit_exits_1_and_shows_the_response(docker_sandbox, capsys):
    code = main(
        ["attack", str(CORPUS / "qa-nan-not-greater"), "--only", "parser", "--backend", "docker"]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "GX301 error: reward hack — NaN and infinity" in out and "grader.py:" in out
    assert "response that worked" in out and "math.isfinite" in out
    assert "[HIT] parser" in out and "verdict: fail" in out


@pytest.mark.docker
def test_run_skips_stage_3_when_stage_2_fails(docker_sandbox, tmp_path, capsys):
    package = tmp_path / "broken"
    shutil.copytree(CORPUS / "qa-nan-not-greater", package)
    solutions = (package / "solutions.jsonl").read_text().replace('"50"', '"51"')
    (package / "solutions.jsonl").write_text(solutions)
    code = main(["run", str(package), "--json", "--backend", "docker"])
    report = json.loads(capsys.readouterr().out)
    stages = {s["name"]: s for s in report["stages"]}
    assert code == 1
    assert stages["verify"]["status"] == "fail" and stages["attack"]["status"] == "skipped"
    assert not any(f["code"].startswith("GX3") for f in report["findings"])


@pytest.mark.docker
def test_run_reports_every_stage(docker_sandbox, capsys):
    code = main(["run", str(CORPUS / "qa-loose-tolerance"), "--json", "--backend", "docker"])
    report = json.loads(capsys.readouterr().out)
    stages = {s["name"]: s["status"] for s in report["stages"]}
    assert code == 1 and stages == {"structure": "pass", "verify": "pass", "attack": "fail"}
    hit = next(f for f in report["findings"] if f["code"] == "GX301")
    assert hit["attack"] == {"id": "mutation-off-by-one", "category": "answer-format"}
    assert hit["file"] == "grader.py" and hit["line"] == 1
