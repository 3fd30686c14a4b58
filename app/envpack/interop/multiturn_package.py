"""What every export of a multi-turn package ships (verifiers, Inspect AI, Harbor): the grading
package that replays and grades conversations exactly as Gauntlet Studio does.

    <package>/gauntlet_episodes.py     PackGrading: replay + grade (assets/multiturn_grading.py)
              gauntlet_runtime/        the sandbox runner's own files, episode.py included
              data/tasks.jsonl         the tasks as written
                   grader.json         the grader (python or rubric of code criteria)
                   tools.json          tools.py's tool schemas (OpenAI format)
                   pack.json           manifest, README, references and negatives (re-import)
                   pack/               every .py file of the package: tools.py, grader.py, helpers

Only what grades the same everywhere is exported: a persona user needs Gauntlet's model on the
trusted side, and a rubric's judge criteria an LLM judge, so both stop the export with a reason.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.envpack.checks import run_checks
from app.envpack.interop.pack_io import PackHasErrors, jsonl_line
from app.envpack.interop.runtime import GraderRuntime
from app.envpack.loader import MANIFEST_FILE, load_envpack
from app.envpack.model import EnvPack
from app.envpack.tool_schemas import read_tools
from app.errors import UserError

ASSETS = Path(__file__).parent / "assets"
GRADING_MODULE = "gauntlet_episodes"


@dataclass(slots=True)
class MultiTurnSource:
    pack: EnvPack
    manifest: dict[str, Any]
    readme: str
    python_files: dict[str, str] = field(default_factory=dict)  # path in the package -> text
    tools: list[dict[str, Any]] = field(default_factory=list)  # OpenAI tool schemas


def is_multiturn_package(root: str | os.PathLike[str]) -> bool:
    """Whether env.toml says kind = "multi-turn" (False when unreadable: the normal export
    path reports that)."""
    try:
        data = tomllib.loads((Path(root) / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return data.get("kind") == "multi-turn"


def read_multiturn_for_export(root: str | os.PathLike[str], target: str) -> MultiTurnSource:
    """The package at `root`, checked: no structural error, no persona user, no judge."""
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
    _refuse_what_does_not_carry(pack, target)
    files = {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*.py"))
        if not any(part.startswith(".") or part == "__pycache__" for part in path.parts)
    }
    tools_file = read_tools(files["tools.py"]) if "tools.py" in files else None
    readme = root / "README.md"
    return MultiTurnSource(
        pack=pack,
        manifest=tomllib.loads((root / MANIFEST_FILE).read_text(encoding="utf-8")),
        readme=readme.read_text(encoding="utf-8") if readme.is_file() else "",
        python_files=files,
        tools=[t.openai() for t in tools_file.tools] if tools_file else [],
    )


def _refuse_what_does_not_carry(pack: EnvPack, target: str) -> None:
    persona = [t.id for t in pack.tasks if isinstance(t.record.get("user"), dict)]
    if persona:
        raise UserError(
            f'{pack.name}: task "{persona[0]}" has a persona user, which the {target} export '
            "cannot carry: Gauntlet plays a persona with its own model on the trusted side, "
            "so the export would not grade the same conversations.",
            'Give the task a scripted user ("user": ["reply 1", ...]) to export it, or verify '
            "it with Gauntlet only.",
        )
    judged = [c.name for c in pack.grader.criteria if c.is_judge]
    if judged:
        raise UserError(
            f'{pack.name}: the rubric criterion "{judged[0]}" is an LLM judge, which the '
            f"{target} export of a multi-turn package does not carry (only code criteria "
            "grade the same offline).",
            "Make the criterion a code criterion (function = ...) to export the package.",
        )


def write_multiturn_grading(
    package: Path, source: MultiTurnSource, runtime: GraderRuntime, export_format: str
) -> Path:
    """Write the grading package (see the module doc) into the new folder `package`; returns
    its data/ folder."""
    pack = source.pack
    data = package / "data"
    (data / "pack").mkdir(parents=True)
    runtime.write_package(package)
    (package / f"{GRADING_MODULE}.py").write_text(
        (ASSETS / "multiturn_grading.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (data / "tasks.jsonl").write_text(
        "".join(jsonl_line(t.record) for t in pack.tasks), encoding="utf-8"
    )
    _dump(data / "grader.json", pack.grader.to_dict())
    _dump(data / "tools.json", source.tools)
    negatives = [
        {"task_id": n.task_id, "response": n.response, **({"note": n.note} if n.note else {})}
        for n in pack.negatives
    ]
    _dump(
        data / "pack.json",
        {
            "format": export_format,
            "manifest": source.manifest,
            "readme": source.readme,
            "solutions": [{"task_id": r.task_id, "response": r.response} for r in pack.solutions],
            "negatives": negatives,
        },
    )
    for name, text in source.python_files.items():
        target = data / "pack" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return data


def _dump(path: Path, value: Any) -> None:
    path.write_text(
        json.dumps(value, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
    )
