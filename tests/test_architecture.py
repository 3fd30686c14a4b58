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


def _contract_modules() -> set[str]:
    """Every module or package some import-linter contract in pyproject.toml names."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    named: set[str] = set()
    for contract in config["tool"]["importlinter"]["contracts"]:
        for key in ("layers", "source_modules"):
            for entry in contract.get(key, []):
                named.update(part.strip() for part in entry.split(":"))
    return named


def test_every_package_and_top_level_module_is_in_an_import_contract() -> None:
    """A new package or foundation module must take its place in the layer map on day one."""
    named = _contract_modules()
    ours = {f"app.{p.name}" for p in (ROOT / "app").iterdir() if (p / "__init__.py").exists()}
    ours |= {f"app.{p.stem}" for p in (ROOT / "app").glob("*.py")}
    ours -= {"app.__init__", "app.__main__"}  # the package itself and `python -m app`
    missing = sorted(ours - named)
    assert not missing, f"not in any import-linter contract (pyproject.toml): {missing}"


MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60
# The sandbox runner is copied into the sandbox on its own and must stay standard-library-only
# and self-contained; migrations and data tables are data.
SIZE_EXEMPT = ("app/sandbox/runner/server.py",)


def test_no_module_over_600_lines_and_no_function_over_60() -> None:
    too_long = []
    for path in sorted(ROOT.glob("app/**/*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if "/migrations/" in rel:
            continue
        text = path.read_text(encoding="utf-8")
        if rel not in SIZE_EXEMPT and text.count("\n") > MAX_MODULE_LINES:
            too_long.append(f"{rel}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text, filename=rel)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{rel}:{node.lineno} {node.name}() is {length} lines")
    assert not too_long, "split these along their seams:\n" + "\n".join(too_long)


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


def test_command_texts_come_from_the_handler_docstring(capsys: pytest.CaptureFixture[str]) -> None:
    """app.commands.subcommand: help is the docstring's first paragraph, the description the
    rest (white space folded); a handler without both is refused; a group alone prints its
    help and exits 2."""
    import argparse

    from app.cli import main
    from app.commands.subcommand import add_command, handler_texts

    def handler(args) -> int:
        """do a thing

        Do the thing, at length,
            over two lines.
        """
        return 0

    def bare(args) -> int:
        """only a help line"""
        return 0

    parser = argparse.ArgumentParser(prog="gauntlet")
    sub = add_command(parser.add_subparsers(), "thing", handler, stage="x")
    assert (sub.description, parser.parse_args(["thing"]).stage) == (
        "Do the thing, at length, over two lines.",
        "x",
    )
    assert handler_texts(handler)[0] == "do a thing"
    with pytest.raises(ValueError, match="bare"):
        handler_texts(bare)
    capsys.readouterr()
    assert main(["admin"]) == 2
    assert capsys.readouterr().out.startswith("usage: gauntlet admin")
