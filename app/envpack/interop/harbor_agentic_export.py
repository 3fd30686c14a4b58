"""Export an agentic package (`kind = "agentic"`) as Harbor task folders: `<out>/<id>/` per task.

A task folder is copied byte for byte, modes included (an imported Harbor task comes back exactly
as it was). What a task authored here lacks is filled in from the package:

- `task.toml`, when the task has none: its name, the package's metadata, the agent and
  verifier time limits and the sandbox resources;
- `environment/`, when the task has no Dockerfile of its own: the package's `environment/`
  folder (the image's build context).

A Dockerfile written for the sandbox starts `ARG GAUNTLET_BASE` / `FROM ${GAUNTLET_BASE}`; Harbor
passes no such argument, so a bare `ARG GAUNTLET_BASE` gets a default image (sandbox.image, or
python:3.12-slim). Only the structural errors that concern building offline in Gauntlet Studio's
sandbox (GX126-GX128) do not stop an export: Harbor builds with its own base images and network.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from pathlib import Path

import tomlkit

from app.envpack.checks import run_checks
from app.envpack.dockerfile import BASE_ARG
from app.envpack.interop.file_tree import copy_tree
from app.envpack.interop.harbor_agentic_import import GENERATED_README
from app.envpack.interop.pack_io import PackHasErrors
from app.envpack.loader import MANIFEST_FILE, load_envpack
from app.envpack.model import AgenticTask, EnvPack
from app.envpack.staging import staged_folder
from app.errors import UserError

DEFAULT_IMAGE = "python:3.12-slim"
SANDBOX_ONLY_CODES = frozenset({"GX126", "GX127", "GX128"})  # offline builds on our image
_BARE_ARG = re.compile(rf"^(\s*ARG\s+{BASE_ARG})\s*$", re.MULTILINE | re.IGNORECASE)
_AUTHOR = re.compile(r"^\s*(?P<name>[^<]*?)\s*(?:<(?P<email>[^>]+)>)?\s*$")


def is_agentic_package(root: str | os.PathLike[str]) -> bool:
    """Whether env.toml says kind = "agentic" (False when it cannot be read: the normal export
    path then reports the problem)."""
    try:
        data = tomllib.loads((Path(root) / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return data.get("kind") == "agentic"


def reject_agentic(root: str | os.PathLike[str], target: str) -> None:
    """Stop an export to `target` (a format of single-turn tasks) for an agentic package."""
    if is_agentic_package(root):
        raise UserError(
            f"{root} is an agentic package; the {target} export covers qa and code packages.",
            "Export it with `--to harbor`: its tasks already are Harbor task folders.",
        )


def export_agentic(root: str | os.PathLike[str], dest: str | os.PathLike[str]) -> list[str]:
    pack = _read_agentic(Path(root).expanduser())
    names: list[str] = []
    with staged_folder(dest) as staging:
        for task in pack.agentic_tasks:
            _write_task(staging / task.id, pack, task)
            names.append(task.id)
        readme = pack.root / "README.md"
        if readme.is_file() and not readme.read_text(encoding="utf-8").startswith(GENERATED_README):
            copy_readme = staging / "README.md"
            copy_readme.write_bytes(readme.read_bytes())
    return names


def _read_agentic(root: Path) -> EnvPack:
    loaded = load_envpack(root)
    findings = loaded.findings + (run_checks(loaded) if loaded.pack else [])
    errors = [f for f in findings if f.is_error and f.code not in SANDBOX_ONLY_CODES]
    if loaded.pack is None or errors or not loaded.pack.agentic_tasks:
        first = errors[0] if errors else None
        detail = f" First: {first.location()}: {first.code} {first.message}" if first else ""
        raise PackHasErrors(
            f"{root} has {len(errors) or 'structural'} error(s), so it cannot be exported.{detail}",
            f"Run `gauntlet check {root}` and fix every error first.",
        )
    return loaded.pack


def _write_task(folder: Path, pack: EnvPack, task: AgenticTask) -> None:
    copy_tree(pack.root / task.folder, folder)
    if not (folder / "task.toml").is_file():
        (folder / "task.toml").write_text(_task_toml(pack, task), encoding="utf-8")
    if not task.has_dockerfile and (pack.root / "environment").is_dir():
        copy_tree(pack.root / "environment", folder / "environment")
    dockerfile = folder / "environment" / "Dockerfile"
    if dockerfile.is_file():
        text = dockerfile.read_text(encoding="utf-8")
        image = pack.manifest.sandbox.image or DEFAULT_IMAGE
        fixed = _BARE_ARG.sub(lambda m: f"{m.group(1)}={image}", text)
        if fixed != text:
            dockerfile.write_text(fixed, encoding="utf-8")


def _task_toml(pack: EnvPack, task: AgenticTask) -> str:
    manifest = pack.manifest
    info = manifest.package
    owner, _, short = info.name.partition("/")
    doc = tomlkit.document()
    doc.add(
        tomlkit.comment(f"Harbor task exported by Gauntlet Studio from {info.name} {info.version}.")
    )
    doc["schema_version"] = "1.1"
    section = tomlkit.table()
    section["name"] = f"{owner}/{short}.{task.id}"
    section["description"] = f"{info.title or info.name}: task {task.id}"
    authors = tomlkit.array()
    for author in info.authors:
        match = _AUTHOR.match(author)
        entry = tomlkit.inline_table()
        entry["name"] = (match.group("name") if match else author) or author
        if match and match.group("email"):
            entry["email"] = match.group("email")
        authors.append(entry)
    section["authors"] = authors
    section["keywords"] = list(info.tags)
    doc["task"] = section
    doc["metadata"] = {
        "license": info.license,
        "gauntlet_package": info.name,
        "gauntlet_version": info.version,
        "gauntlet_task_id": task.id,
    }
    doc["verifier"] = {"timeout_sec": manifest.verifier.timeout_s}
    doc["agent"] = {"timeout_sec": manifest.agent.timeout_s}
    sandbox = manifest.sandbox
    doc["environment"] = {
        "build_timeout_sec": 600.0,
        "cpus": max(1, math.ceil(sandbox.cpus)),
        "memory_mb": sandbox.memory_mb,
        "storage_mb": sandbox.disk_mb,
        "allow_internet": manifest.agent.network != "none",
    }
    return tomlkit.dumps(doc)
