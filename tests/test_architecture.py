"""The house rules that keep the code base in shape, checked on every run."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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
    for path in sorted([*ROOT.glob("app/**/*.py"), *ROOT.glob("server/**/*.py")]):
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


def test_every_cli_command_has_help() -> None:
    from app.cli import build_parser

    parser = build_parser()
    sub_actions = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    assert sub_actions, "no sub-commands registered"
    for name, sub in sub_actions[0].choices.items():
        assert sub.format_help().strip(), f"`gauntlet {name}` has no help"
