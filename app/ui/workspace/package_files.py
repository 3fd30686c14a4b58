"""The package's files on disk, as the workspace names, creates and renames them.

Plain Python (no Qt): names typed by the user are checked here, and every failure is a
UserError naming the file and what to do. The workspace view keeps its tabs in step.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from app.atomic import write_text_atomic
from app.errors import UserError

MANIFEST = "env.toml"


def create_package_file(root: Path, relpath: str) -> str:
    """Create an empty file (and its folders) inside the package; returns its clean relpath."""
    relpath, target = package_path(root, relpath)
    if target.exists():
        raise UserError(
            f"{relpath} already exists.",
            "Choose another name, or open the existing file.",
            where=relpath,
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(target, "")
    except OSError as exc:
        raise UserError(
            f"Could not create {relpath}: {exc.strerror or exc}.",
            "Check that the package folder is writable.",
            where=relpath,
        ) from exc
    return relpath


def check_rename(root: Path, old: str, new: str) -> tuple[str, str]:
    """Both names, cleaned, once renaming `old` to `new` is known to be possible."""
    old, source = package_path(root, old)
    new, target = package_path(root, new)
    if old == MANIFEST:
        raise UserError(
            "env.toml cannot be renamed: it is how the app recognises the package.",
            "Rename other files; env.toml keeps its name.",
            where=old,
        )
    if not source.is_file():
        raise UserError(
            f"{old} does not exist any more.", "Refresh the file list and try again.", where=old
        )
    if target.exists():
        raise UserError(
            f"{new} already exists.",
            "Choose another name, or rename that file first.",
            where=new,
        )
    return old, new


def move_package_file(root: Path, old: str, new: str) -> None:
    """Rename checked names (see `check_rename`), creating the target's folders."""
    target = root / new
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(root / old, target)
    except OSError as exc:
        raise UserError(
            f"Could not rename {old} to {new}: {exc.strerror or exc}.",
            "Check that the package folder is writable and the name is allowed.",
            where=old,
        ) from exc


def package_path(root: Path, relpath: str) -> tuple[str, Path]:
    """A user-typed package-relative name, checked: (clean posix relpath, absolute path)."""
    cleaned = relpath.strip().replace("\\", "/").strip("/")
    parts = [p for p in cleaned.split("/") if p not in ("", ".")]
    if not parts:
        raise UserError(
            "The file name is empty.", "Type a name such as notes.md or data/extra.jsonl."
        )
    if ".." in parts or Path(relpath.strip()).is_absolute():
        raise UserError(
            f"{relpath.strip()} is outside the package.",
            "Use a name inside the package folder, e.g. data/extra.jsonl.",
            where=relpath.strip(),
        )
    bad = next((p for p in parts if any(ch in p for ch in '<>:"|?*\0') or p != p.strip()), None)
    if bad is not None:
        raise UserError(
            f"{bad!r} is not a usable file name.",
            'Avoid the characters < > : " | ? * and spaces at either end.',
            where=relpath.strip(),
        )
    clean = "/".join(parts)
    return clean, root / clean


def _manifest_data(root: Path) -> dict | None:
    """env.toml as a table, or None when it cannot be read (the live checks say why)."""
    try:
        data = tomllib.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def package_kind(root: Path) -> str:
    """env.toml's kind ("qa", "code", "agentic"...); "qa", its default, when unreadable."""
    kind = (_manifest_data(root) or {}).get("kind")
    return kind if isinstance(kind, str) else "qa"


def file_roles(root: Path) -> dict[str, str]:
    """Where env.toml says the tasks, solutions and negatives are (defaults when unreadable)."""
    roles = {"tasks": "tasks.jsonl", "solutions": "solutions.jsonl", "negatives": "negatives.jsonl"}
    data = _manifest_data(root)
    if data is None:
        return roles
    for role in roles:
        table = data.get(role)
        if isinstance(table, dict) and isinstance(table.get("path"), str) and table["path"].strip():
            roles[role] = table["path"].strip().lstrip("./")
    return roles


def first_file(root: Path, roles: dict[str, str]) -> str | None:
    """The file to show first: the tasks file, or the first task's instruction (agentic)."""
    if package_kind(root) == "agentic":
        tasks = sorted(p for p in (root / "tasks").glob("*/instruction.md") if p.is_file())
        return tasks[0].relative_to(root).as_posix() if tasks else None
    tasks_file = roles.get("tasks", "tasks.jsonl")
    return tasks_file if (root / tasks_file).is_file() else None


def package_title(root: Path) -> str:
    """The package's title from env.toml, else its name, else the folder's name."""
    data = _manifest_data(root)
    if data is None:
        return root.name
    package = data.get("package", {})
    package = package if isinstance(package, dict) else {}
    return package.get("title") or package.get("name") or root.name
