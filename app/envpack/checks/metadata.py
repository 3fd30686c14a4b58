"""Package metadata: a name and version the platform accepts, a license, a README."""

from __future__ import annotations

import re
from typing import Any

from app.envpack.checks.context import CheckContext
from app.envpack.model import Span

NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?/[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$")
# https://semver.org/#is-there-a-suggested-regular-expression-regex-to-check-a-semver-string
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
# The licenses datasets and code environments actually use; anything else gets a gentle warning.
KNOWN_LICENSES = frozenset(
    {
        "CC0-1.0",
        "CC-BY-4.0",
        "CC-BY-SA-4.0",
        "CC-BY-NC-4.0",
        "CC-BY-NC-SA-4.0",
        "CC-BY-ND-4.0",
        "CC-BY-3.0",
        "CC-BY-SA-3.0",
        "MIT",
        "Apache-2.0",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "ISC",
        "MPL-2.0",
        "GPL-2.0-only",
        "GPL-2.0-or-later",
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "LGPL-2.1-only",
        "LGPL-2.1-or-later",
        "LGPL-3.0-only",
        "LGPL-3.0-or-later",
        "AGPL-3.0-only",
        "AGPL-3.0-or-later",
        "Unlicense",
        "ODC-By-1.0",
        "ODbL-1.0",
        "PDDL-1.0",
        "CDLA-Permissive-2.0",
        "CDLA-Sharing-1.0",
        "Proprietary",
        "LicenseRef-Proprietary",
    }
)
_LICENSE_EXPRESSION = re.compile(r"\s+(?:AND|OR|WITH)\s+")


def check_metadata(ctx: CheckContext) -> None:
    data = ctx.result.manifest_data.get("package")
    written = data if isinstance(data, dict) else {}
    _check_name(ctx, written.get("name"))
    _check_version(ctx, written.get("version"))
    _check_license(ctx, written)
    _check_title_and_description(ctx, written)
    _check_readme(ctx)


def _check_name(ctx: CheckContext, name: object) -> None:
    if isinstance(name, str) and not NAME.match(name):
        suggestion = _suggest_name(name)
        hint = f'Try "{suggestion}".' if suggestion else None
        ctx.report(
            "GX110",
            (
                f'The package name "{name}" is not of the form '
                '"owner/name" (lower case letters, digits, dashes).'
            ),
            ctx.at_key("package.name"),
            hint=hint,
        )


def _check_version(ctx: CheckContext, version: object) -> None:
    if isinstance(version, str) and not SEMVER.match(version):
        ctx.report(
            "GX111",
            f'The version "{version}" is not a semantic version (MAJOR.MINOR.PATCH, e.g. "1.2.0").',
            ctx.at_key("package.version"),
        )


def _check_license(ctx: CheckContext, written: dict[str, Any]) -> None:
    """A license is written, and every identifier in it is one we know."""
    license_id = written.get("license")
    if "license" not in written or (isinstance(license_id, str) and not license_id.strip()):
        ctx.report(
            "GX112",
            "The package has no license, so a lab cannot legally use it.",
            ctx.at_key("package.license"),
        )
    elif isinstance(license_id, str):
        unknown = [
            part
            for part in _LICENSE_EXPRESSION.split(license_id.strip().strip("()"))
            if part not in KNOWN_LICENSES
        ]
        if unknown:
            ctx.report(
                "GX114",
                f'"{unknown[0]}" is not a license identifier Gauntlet Studio recognises.',
                ctx.at_key("package.license"),
            )


def _check_title_and_description(ctx: CheckContext, written: dict[str, Any]) -> None:
    package = ctx.pack.manifest.package
    for key in ("title", "description"):
        if not getattr(package, key).strip() and (
            key not in written or isinstance(written.get(key), str)
        ):
            ctx.report(
                "GX115",
                f"package.{key} is empty; reviewers and bounty owners see it first.",
                ctx.at_key(f"package.{key}"),
            )


def _check_readme(ctx: CheckContext) -> None:
    readme = ctx.source.read_text("README.md")
    if readme.problem in ("missing", "directory"):
        near = _readme_lookalike(ctx)
        if near:
            ctx.report(
                "GX113",
                f'The package has no README.md, but it has "{near}".',
                Span(near),
                hint=(
                    f'Rename "{near}" to "README.md" (reviewers '
                    "and the platform look for that name)."
                ),
            )
        else:
            ctx.report("GX113", "The package has no README.md.", Span("README.md"))
    elif readme.text is not None and not readme.text.strip():
        ctx.report("GX113", "README.md is empty.", Span("README.md", 1))


def _readme_lookalike(ctx: CheckContext) -> str | None:
    try:
        names = sorted(p.name for p in ctx.source.root.iterdir() if p.is_file())
    except OSError:
        return None
    return next(
        (n for n in names if n.lower() in ("readme.md", "readme", "readme.txt", "readme.markdown")),
        None,
    )


def _suggest_name(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9/._-]+", "-", name.strip().lower()).strip("-")
    if cleaned.count("/") != 1:
        return ""
    owner, _, rest = cleaned.partition("/")
    candidate = f"{owner.strip('-._')}/{rest.strip('-._')}"
    return candidate if NAME.match(candidate) else ""
