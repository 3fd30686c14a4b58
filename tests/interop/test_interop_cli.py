"""`gauntlet export` / `gauntlet import` through the real CLI entry point (a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GAUNTLET = [
    sys.executable,
    "-c",
    "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))",
]


def gauntlet(*args, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, GAUNTLET_HOME=str(home), NO_COLOR="1")
    return subprocess.run(
        [*GAUNTLET, *map(str, args)], capture_output=True, text=True, timeout=300, env=env
    )


def test_export_then_import_then_check(template, tmp_path):
    pack = template("qa-choice")
    done = gauntlet("export", pack, "--to", "harbor", "-o", tmp_path / "tasks", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Wrote 4 Harbor task folder(s)" in done.stdout
    done = gauntlet(
        "import", tmp_path / "tasks", "--from", "harbor", "-o", tmp_path / "back", home=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "example/contract-formation (4 task(s))" in done.stdout
    done = gauntlet("check", tmp_path / "back", home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr

    done = gauntlet("export", pack, "--to", "verifiers", "-o", tmp_path / "env", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "env" / "contract_formation" / "__init__.py").is_file()


def test_exit_codes_and_messages_for_bad_input(template, tmp_path):
    pack = template("qa-exact")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep")
    done = gauntlet("export", pack, "--to", "harbor", "-o", tmp_path / "full", home=tmp_path)
    assert done.returncode == 2
    assert "already exists and is not empty" in done.stderr and "Traceback" not in done.stderr

    (pack / "env.toml").write_text(
        (pack / "env.toml").read_text().replace('mode = "exact"', 'mode = "fuzzy"')
    )
    done = gauntlet("export", pack, "--to", "verifiers", "-o", tmp_path / "out", home=tmp_path)
    assert done.returncode == 1
    assert "cannot be exported" in done.stderr and not (tmp_path / "out").exists()

    (tmp_path / "nothing").mkdir()
    done = gauntlet(
        "import", tmp_path / "nothing", "--from", "harbor", "-o", tmp_path / "p", home=tmp_path
    )
    assert done.returncode == 2 and "No Harbor tasks" in done.stderr

    done = gauntlet("export", pack, "--to", "gym", "-o", tmp_path / "o", home=tmp_path)
    assert done.returncode == 2


def test_export_to_inspect_and_its_refusals(template, tmp_path):
    done = gauntlet(
        "export", template("qa-numeric"), "--to", "inspect", "-o", tmp_path / "ev", home=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "Wrote the Inspect AI task `enzyme_kinetics`" in done.stdout
    assert (tmp_path / "ev" / "enzyme_kinetics.py").is_file()
    done = gauntlet(
        "export", template("qa-judge"), "--to", "inspect", "-o", tmp_path / "j", home=tmp_path
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "LLM judge" in done.stderr and "--to verifiers" in done.stderr
    assert not (tmp_path / "j").exists()
    done = gauntlet(
        "import", tmp_path / "ev", "--from", "inspect", "-o", tmp_path / "b", home=tmp_path
    )
    assert done.returncode == 2 and "invalid choice" in done.stderr  # export only
