"""The grader runtime an export ships: the sandbox runner's own standard-library graders.

An exported task set must grade exactly as Gauntlet Studio does, so it carries copies of the
very files the sandbox runs (`match.py`, `code_tests.py`, `harness.py`), not a second
implementation that could drift. The envpack layer may not import the sandbox, so the caller
(the CLI, the UI) hands them in: `GraderRuntime.from_folder(<app/sandbox/runner>)`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import UserError

RUNTIME_FILES = ("match.py", "code_tests.py", "harness.py", "episode.py", "rubric_combine.py")
PACKAGE_NAME = "gauntlet_runtime"
_INIT = (
    '"""Gauntlet Studio\'s built-in graders (standard library only), copied by the exporter."""\n'
)


@dataclass(frozen=True, slots=True)
class GraderRuntime:
    files: dict[str, str] = field(default_factory=dict)  # file name -> source text

    @classmethod
    def from_folder(cls, folder: str | os.PathLike[str]) -> GraderRuntime:
        folder = Path(folder)
        files: dict[str, str] = {}
        for name in RUNTIME_FILES:
            try:
                files[name] = (folder / name).read_text(encoding="utf-8")
            except OSError as exc:
                raise UserError(
                    f"The built-in grader file {name} is missing from {folder}.",
                    "The installation looks incomplete; reinstall Gauntlet Studio.",
                ) from exc
        return cls(files)

    def write_package(self, parent: Path) -> Path:
        """Write the runtime as the package `gauntlet_runtime` inside `parent`."""
        package = parent / PACKAGE_NAME
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text(_INIT, encoding="utf-8")
        for name, text in self.files.items():
            (package / name).write_text(text, encoding="utf-8")
        return package
