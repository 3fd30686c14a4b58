"""The house rules that keep the code base in shape, checked on every run."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QT_MODULES = ("PySide6", "qasync", "shiboken6")
QT_ALLOWED = ("app/ui/", "app/editor/")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_only_ui_and_editor_import_qt() -> None:
    offenders = []
    for path in sorted(ROOT.glob("app/**/*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(QT_ALLOWED):
            continue
        qt = {m for m in _imported_modules(path) if m.split(".")[0] in QT_MODULES}
        if qt:
            offenders.append(f"{rel}: {sorted(qt)}")
    assert not offenders, "Qt imported outside app/ui and app/editor:\n" + "\n".join(offenders)


def test_import_linter_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_core_imports_without_qt_installed_modules_loaded() -> None:
    """Importing the CLI and the core must not drag Qt in (the CLI runs on headless servers)."""
    code = (
        "import sys, app.cli, app.funnel.pipeline, app.envpack.model, app.sandbox.base;"
        "bad=[m for m in sys.modules if m.split('.')[0] in ('PySide6','qasync','shiboken6')];"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def _commands(parser, prefix=()):
    """Every (sub-)command as (words, parser), nested ones included (`sandbox image`)."""
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from _commands(sub, (*prefix, name))


def test_every_cli_command_has_its_own_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`gauntlet NAME --help` exits 0 and prints NAME's own usage and description, not the
    top-level help (a sub-command registered without `description=` fails here)."""
    from app.cli import build_parser

    commands = list(_commands(build_parser()))
    assert len(commands) > 20, [" ".join(words) for words, _ in commands]
    descriptions: dict[str, str] = {}
    for words, sub in commands:
        name = " ".join(words)
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args([*words, "--help"])
        assert exit_info.value.code == 0, f"`gauntlet {name} --help` exited {exit_info.value.code}"
        shown = capsys.readouterr().out
        assert shown.startswith(f"usage: gauntlet {name}"), f"`gauntlet {name} --help`:\n{shown}"
        description = (sub.description or "").strip()
        assert description, f"`gauntlet {name}` has no description of its own"
        assert " ".join(description.split()[:6]) in " ".join(shown.split()), name
        descriptions[name] = description
    values = list(descriptions.values())
    repeated = {d for d in values if values.count(d) > 1}
    assert not repeated, f"commands share one description: {repeated}"
