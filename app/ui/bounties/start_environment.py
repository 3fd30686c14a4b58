"""From a bounty to a new env pack on disk: which template, which folder, which names.

Plain Python (no widgets) so the rules are easy to test; the browser runs `create` in a
worker thread and then opens the folder in the Workspace.
"""

from __future__ import annotations

import getpass
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import UserError

# What a bounty may say about its grader -> the template that starts closest to it.
_GRADER_TEMPLATES = {
    "exact": "qa-exact",
    "numeric": "qa-numeric",
    "choice": "qa-choice",
    "multiple-choice": "qa-choice",
    "python": "qa-python",
    "judge": "qa-judge",
    "rubric": "qa-judge",
    "llm-judge": "qa-judge",
    "tests": "code-tests",
}


@dataclass(slots=True)
class EnvironmentPlan:
    template: str
    dest: Path
    package_name: str
    title: str
    description: str
    bounty_id: str
    tags: list[str] = field(default_factory=list)


def template_for(bounty: Any) -> str:
    """The template that fits the bounty: its explicit choice, else its grader, else its kind."""
    detail = getattr(bounty, "detail", None) or {}
    constraints = getattr(bounty, "constraints", None) or {}
    explicit = detail.get("template") or (
        constraints.get("template") if isinstance(constraints, dict) else None
    )
    if isinstance(explicit, str) and explicit:
        return explicit
    grader = None
    for source in (constraints, detail):
        if isinstance(source, dict):
            grader = source.get("grader") or source.get("grader_type") or grader
    if isinstance(grader, dict):
        grader = grader.get("mode") or grader.get("type")
    if isinstance(grader, str) and grader.lower() in _GRADER_TEMPLATES:
        return _GRADER_TEMPLATES[grader.lower()]
    kind = getattr(bounty, "env_kind", "") or detail.get("env_kind", "")
    return "code-tests" if kind == "code" else "qa-exact"


def slug(text: str, fallback: str = "environment") -> str:
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return words[:48].rstrip("-") or fallback


def owner_name() -> str:
    try:
        return slug(getpass.getuser(), "me")
    except Exception:  # no login name (containers, some Windows setups)
        return "me"


def plan_for(bounty: Any, chosen_folder: Path, owner: str | None = None) -> EnvironmentPlan:
    """Where and how to create the package. An empty chosen folder is used as it is; otherwise
    a new sub-folder named after the bounty is made inside it (never overwriting anything)."""
    chosen_folder = chosen_folder.expanduser()
    if chosen_folder.exists() and not chosen_folder.is_dir():
        raise UserError(
            f"{chosen_folder} is a file, not a folder.", "Pick a folder for the new environment."
        )
    name = slug(bounty.title)
    if chosen_folder.is_dir() and not any(chosen_folder.iterdir()):
        dest = chosen_folder
    else:
        dest = chosen_folder / name
        n = 2
        while dest.exists():
            dest = chosen_folder / f"{name}-{n}"
            n += 1
    return EnvironmentPlan(
        template=template_for(bounty),
        dest=dest,
        package_name=f"{owner or owner_name()}/{name}",
        title=bounty.title,
        description=(getattr(bounty, "summary", "") or bounty.title)[:300],
        bounty_id=bounty.id,
        tags=[t for t in (getattr(bounty, "tags", ()) or ())][:8]
        or ([bounty.domain] if bounty.domain else []),
    )


def create(plan: EnvironmentPlan) -> Path:
    """Write the package (blocking: run it in a worker thread)."""
    from app.envpack.templates import create_from_template, list_templates

    available = {t.name for t in list_templates()}
    if plan.template not in available:  # a bounty may name a template this app does not ship
        plan.template = "code-tests" if plan.template.startswith("code") else "qa-exact"
    try:
        create_from_template(
            plan.template,
            plan.dest,
            package_name=plan.package_name,
            title=plan.title,
            description=plan.description,
            bounty_id=plan.bounty_id,
            tags=plan.tags,
        )
    except PermissionError as exc:
        raise UserError(
            f"Cannot write the new environment into {plan.dest.parent}: permission denied.",
            "Pick a folder you can write to, such as one in your Documents.",
        ) from exc
    return plan.dest
