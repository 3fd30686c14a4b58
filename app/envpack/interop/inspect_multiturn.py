"""Export a multi-turn package as an Inspect AI task (inspect-ai 0.3).

    <out>/<module>.py                  `@task <module>`: dataset, conversation solver, scorer
         <module>_gauntlet/            the grading package (app/envpack/interop/multiturn_package)
         README.md

Each sample is one conversation. The solver (assets/inspect_multiturn_task.py) lets the model
call the package's tools as Inspect tools (a fresh tools.py module per sample) and speaks the
scripted user's lines; the scorer replays the conversation with Gauntlet's own episode runner
and grader, so Inspect's score is the reward Gauntlet's verification gives for the same turns.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.envpack.interop.multiturn_package import (
    read_multiturn_for_export,
    write_multiturn_grading,
)
from app.envpack.interop.runtime import GraderRuntime
from app.envpack.interop.verifiers_export import module_name
from app.envpack.staging import staged_folder

EXPORT_FORMAT = "gauntlet-inspect-multiturn/1"
TASK_ASSET = Path(__file__).parent / "assets" / "inspect_multiturn_task.py"


def export_inspect_multiturn(
    root: str | os.PathLike[str], dest: str | os.PathLike[str], runtime: GraderRuntime
) -> str:
    """Write the Inspect task folder for the multi-turn package at `root`; returns the task's
    name."""
    source = read_multiturn_for_export(root, "Inspect")
    name = module_name(source.pack.manifest.package.name)
    grader_package = f"{name}_gauntlet"
    with staged_folder(dest) as staging:
        package = staging / grader_package
        package.mkdir()
        (package / "__init__.py").write_text(
            '"""Gauntlet Studio\'s grading for the Inspect task next to this folder."""\n',
            encoding="utf-8",
        )
        write_multiturn_grading(package, source, runtime, EXPORT_FORMAT)
        text = TASK_ASSET.read_text(encoding="utf-8").replace("__GRADER_PACKAGE__", grader_package)
        (staging / f"{name}.py").write_text(text.replace("__TASK_NAME__", name), encoding="utf-8")
        (staging / "README.md").write_text(_readme(source, name), encoding="utf-8")
    return name


def _readme(source, name: str) -> str:
    info = source.pack.manifest.package
    tools = ", ".join(t["function"]["name"] for t in source.tools) or "none"
    return (
        f"# {info.title or info.name} (Inspect AI task, multi-turn)\n\n"
        f"Exported by Gauntlet Studio from `{info.name}` {info.version} "
        f"(license {info.license}) for inspect-ai 0.3.\n\n"
        "```\n"
        "inspect list tasks .\n"
        f"inspect eval {name}.py --model openai/gpt-4o-mini\n"
        "```\n\n"
        f"Each sample is one conversation. The model may call the package's tools ({tools}); "
        "each sample starts from a fresh copy of tools.py. After each reply without tool calls "
        "the scripted user says their next line, until the script ends or the task's "
        "`max_turns` replies were given. The scorer replays the conversation with Gauntlet "
        f"Studio's own episode runner and grader (`{name}_gauntlet/`), so scores match the "
        "verification funnel.\n"
    )
