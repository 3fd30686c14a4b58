"""Starting points for new packages: the bundled templates in resources/templates/<name>/.

`create_from_template` copies one into a new folder and fills in the package's name, title,
description, bounty and tags (editing env.toml with tomlkit, so the template's explanatory
comments stay). It builds the package in a temporary folder beside the destination and moves
it into place at the end: a failure never leaves a half-made package.
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

from app.envpack.checks.metadata import NAME
from app.envpack.manifest_edit import ManifestDocument
from app.envpack.provenance import record_created
from app.envpack.staging import refuse_non_empty, staged_folder
from app.envpack.walk import package_entries
from app.errors import UserError
from app.resources import resource_path


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    name: str  # "qa-exact"
    title: str
    description: str
    kind: str  # "qa" | "code"
    grader: str  # "match/exact", "python", "judge", "tests"
    path: Path


def templates_root() -> Path:
    return resource_path("templates")


def list_templates() -> list[TemplateInfo]:
    root = templates_root()
    found: list[TemplateInfo] = []
    if not root.is_dir():
        return found
    for folder in sorted(p for p in root.iterdir() if (p / "env.toml").is_file()):
        try:
            data = tomllib.loads((folder / "env.toml").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        package = data.get("package", {})
        grader = data.get("grader", {})
        kind = grader.get("type", "match")
        if kind == "match":
            kind = f"match/{grader.get('mode', 'exact')}"
        found.append(
            TemplateInfo(
                name=folder.name,
                title=str(package.get("title", folder.name)),
                description=str(package.get("description", "")).strip(),
                kind=str(data.get("kind", "qa")),
                grader=kind,
                path=folder,
            )
        )
    return found


def get_template(name: str) -> TemplateInfo:
    templates = {t.name: t for t in list_templates()}
    if name not in templates:
        known = ", ".join(sorted(templates)) or "none installed"
        raise UserError(
            f'There is no template called "{name}".',
            f"Choose one of: {known} (`gauntlet templates` lists them).",
        )
    return templates[name]


def slug(text: str) -> str:
    """A package-name-safe version of `text`: "Enzyme Kinetics!" -> "enzyme-kinetics"."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return cleaned[:64].strip("-") or "environment"


def create_from_template(
    name: str,
    dest: str | os.PathLike[str],
    *,
    package_name: str | None = None,
    title: str | None = None,
    description: str | None = None,
    bounty_id: str | None = None,
    tags: list[str] | None = None,
) -> Path:
    """Create a new package at `dest` from template `name`; returns `dest`.

    `dest` must not exist or be an empty folder. `package_name` defaults to "local/<folder>".
    """
    template = get_template(name)
    dest = Path(dest).expanduser()
    refuse_non_empty(dest)
    package_name = package_name or f"local/{slug(dest.resolve().name)}"
    if not NAME.match(package_name):
        raise UserError(
            f'"{package_name}" is not a valid package name.',
            (
                'Use "owner/name" in lower case letters, '
                'digits and dashes, e.g. "acme/enzyme-kinetics".'
            ),
        )
    with staged_folder(dest) as staging:
        for entry in package_entries(template.path):
            if entry.kind != "file":
                continue
            target = staging / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(template.path / entry.path, target)
            shutil.copymode(template.path / entry.path, target)  # solve.sh, test.sh: executable
        manifest = ManifestDocument.load(staging / "env.toml")
        manifest.set("package.name", package_name)
        if title is not None:
            manifest.set("package.title", title)
        if description is not None:
            manifest.set("package.description", description)
        if bounty_id is not None:
            manifest.set("package.bounty", bounty_id)
        if tags is not None:
            manifest.set("package.tags", list(tags))
        manifest.save()
    record_created(dest)  # made here: this machine's own package (app.envpack.provenance)
    return dest
