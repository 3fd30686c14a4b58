"""Reading a package that is about to be exported, and writing one that was imported.

An export starts only from a package without structural errors: converting a broken package
would hand the problem to someone who cannot see our checks. An import writes the plain files
of `gauntlet/1` (env.toml, README.md, the three JSONL files, grader or rubric files).
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit

from app.envpack.checks import run_checks
from app.envpack.loader import MANIFEST_FILE, load_envpack
from app.envpack.model import EnvPack
from app.errors import UserError


class PackHasErrors(UserError):
    """The package fails its structural checks: an error in the input, as `gauntlet check` says."""

    exit_code = 1


@dataclass(slots=True)
class ExportSource:
    pack: EnvPack
    manifest: dict[str, Any]  # env.toml as written
    readme: str
    extra_files: dict[str, str] = field(default_factory=dict)  # grader.py, rubric.md, helpers


def read_for_export(root: str | os.PathLike[str]) -> ExportSource:
    root = Path(root).expanduser()
    loaded = load_envpack(root)
    errors = [
        f for f in loaded.findings + (run_checks(loaded) if loaded.pack else []) if f.is_error
    ]
    if loaded.pack is None or errors:
        first = errors[0] if errors else None
        detail = f" First: {first.location()}: {first.code} {first.message}" if first else ""
        raise PackHasErrors(
            f"{root} has {len(errors) or 'structural'} error(s), so it cannot be exported.{detail}",
            f"Run `gauntlet check {root}` and fix every error first.",
        )
    pack = loaded.pack
    manifest = tomllib.loads((root / MANIFEST_FILE).read_text(encoding="utf-8"))
    readme_path = root / "README.md"
    readme = readme_path.read_text(encoding="utf-8") if readme_path.is_file() else ""
    extra: dict[str, str] = {}
    grader = pack.grader
    if grader.type == "python" or grader.is_rubric:
        for path in sorted(root.glob("*.py")):  # the grader and any helper module it imports
            extra[path.name] = path.read_text(encoding="utf-8")
        # the grader (or a criterion's file) may also live in a sub-folder
        for name in grader.rubric_files() if grader.is_rubric else [grader.entry_file]:
            if (root / name).is_file():
                extra[name] = (root / name).read_text(encoding="utf-8")
    if grader.type == "judge":
        rubric = root / grader.rubric
        extra[grader.rubric] = rubric.read_text(encoding="utf-8") if rubric.is_file() else ""
    return ExportSource(pack, manifest, readme, extra)


@dataclass(slots=True)
class ImportedPack:
    """Everything an importer produced, written by `write_pack`."""

    manifest: dict[str, Any]
    readme: str
    tasks: list[dict[str, Any]]
    solutions: list[dict[str, Any]]
    negatives: list[dict[str, Any]] = field(default_factory=list)
    extra_files: dict[str, str] = field(default_factory=dict)

    @property
    def task_count(self) -> int:
        return len(self.tasks)


def foreign_qa_manifest(
    *, name: str, title: str, description: str, source: str, grader: dict[str, Any]
) -> dict[str, Any]:
    """The env.toml of a qa package imported from a foreign format (`source`: "harbor",
    "verifiers"): license left as NOASSERTION for the author to set before submitting."""
    return {
        "schema": "gauntlet/1",
        "kind": "qa",
        "package": {
            "name": name,
            "version": "0.1.0",
            "title": title,
            "description": description,
            "authors": [],
            "license": "NOASSERTION",
            "tags": ["imported", source],
        },
        "tasks": {"path": "tasks.jsonl"},
        "grader": grader,
        "solutions": {"path": "solutions.jsonl"},
        "negatives": {"path": "negatives.jsonl"},
        "sandbox": {"network": "none"},
    }


def write_pack(folder: Path, imported: ImportedPack) -> None:
    manifest = imported.manifest
    (folder / MANIFEST_FILE).write_text(tomlkit.dumps(manifest), encoding="utf-8")
    (folder / "README.md").write_text(imported.readme, encoding="utf-8")
    paths = {
        "tasks": manifest.get("tasks", {}).get("path", "tasks.jsonl"),
        "solutions": manifest.get("solutions", {}).get("path", "solutions.jsonl"),
        "negatives": manifest.get("negatives", {}).get("path", "negatives.jsonl"),
    }
    for role, records in (
        ("tasks", imported.tasks),
        ("solutions", imported.solutions),
        ("negatives", imported.negatives),
    ):
        target = _inside(folder, paths[role])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(jsonl_line(r) for r in records), encoding="utf-8")
    for name, text in imported.extra_files.items():
        target = _inside(folder, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def write_grader_files(folder: Path, files: dict[str, str]) -> None:
    """Copy a python grader's files (by their path in the package) into the new `folder`."""
    folder.mkdir()
    for name, text in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def read_grader_files(folder: Path) -> dict[str, str]:
    """The python files an export copied into `folder` (see `write_grader_files`), by path."""
    if not folder.is_dir():
        return {}
    return {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(folder.rglob("*.py"))
    }


def jsonl_line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False) + "\n"


def _inside(folder: Path, relative: str) -> Path:
    """A package-relative path from foreign input, refused if it would leave the package."""
    target = (folder / relative).resolve()
    if not target.is_relative_to(folder.resolve()) or target == folder.resolve():
        raise UserError(
            f'The file name "{relative}" points outside the package.',
            "Only plain file names inside the package can be imported.",
        )
    return target
