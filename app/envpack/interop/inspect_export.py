"""Export an env pack as an Inspect AI task (inspect-ai 0.3): a folder Inspect can list and run.

    <out>/<module>.py                 the task file: `@task <module>` (dataset, solver, scorer)
         <module>_gauntlet/rewards.py  the grading entry point (standard library only)
         <module>_gauntlet/gauntlet_runtime/   Gauntlet Studio's own graders
         <module>_gauntlet/data/       tasks.jsonl, grader.json, pack.json, grader/ (python
                                       graders)
         README.md

`inspect list tasks <out>` lists it and `inspect eval <out>/<module>.py --model ...` runs it.
The scorer grades the completion with the same grader files as the verifiers export (the
sandbox runner's match and code-test graders, or the package's grader.py), so scores match
the funnel; a rubric's score carries each criterion's score in its metadata ("criteria").
Judge packages (and rubrics with judge criteria) are not exported (Gauntlet's judge protocol
is not Inspect's model-graded scorer); agentic packages export to Harbor, whose task folders
they already are.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.envpack.interop.harbor_agentic_export import reject_agentic
from app.envpack.interop.inspect_multiturn import export_inspect_multiturn
from app.envpack.interop.multiturn_package import is_multiturn_package
from app.envpack.interop.pack_io import read_for_export
from app.envpack.interop.rubric_export import refuse_judge_criteria
from app.envpack.interop.runtime import GraderRuntime
from app.envpack.interop.verifiers_export import module_name, write_grading_package
from app.envpack.staging import staged_folder
from app.errors import UserError

EXPORT_FORMAT = "gauntlet-inspect/1"
ASSETS = Path(__file__).parent / "assets"


def export_inspect(
    root: str | os.PathLike[str], dest: str | os.PathLike[str], runtime: GraderRuntime
) -> str:
    """Write the Inspect task folder for the env pack at `root`; returns the task's name."""
    reject_agentic(root, "Inspect")
    if is_multiturn_package(root):  # conversations: app/envpack/interop/inspect_multiturn.py
        return export_inspect_multiturn(root, dest, runtime)
    source = read_for_export(root)
    pack = source.pack
    if pack.grader.type == "judge":
        raise UserError(
            f"{pack.name} uses an LLM judge, which the Inspect export does not carry over.",
            "Export it with `--to verifiers` (it has a judge rubric), or use a match, python or "
            "tests grader for Inspect.",
        )
    refuse_judge_criteria(pack, "Inspect")
    name = module_name(pack.manifest.package.name)
    grader_package = f"{name}_gauntlet"
    with staged_folder(dest) as staging:
        init = '"""Gauntlet Studio\'s grading for the Inspect task next to this folder."""\n'
        # the verifiers export's grading package: one implementation for both exports
        write_grading_package(staging / grader_package, source, runtime, EXPORT_FORMAT, init)
        task_file = (ASSETS / "inspect_task.py").read_text(encoding="utf-8")
        task_file = task_file.replace("__GRADER_PACKAGE__", grader_package)
        (staging / f"{name}.py").write_text(
            task_file.replace("__TASK_NAME__", name), encoding="utf-8"
        )
        (staging / "README.md").write_text(_readme(source, name), encoding="utf-8")
    return name


def _readme(source, name: str) -> str:
    info = source.pack.manifest.package
    return (
        f"# {info.title or info.name} (Inspect AI task)\n\n"
        f"Exported by Gauntlet Studio from `{info.name}` {info.version} "
        f"(license {info.license}) for inspect-ai 0.3.\n\n"
        "```\n"
        "inspect list tasks .\n"
        f"inspect eval {name}.py --model openai/gpt-4o-mini\n"
        "```\n\n"
        f"`{name}.py` defines the task `{name}`: one sample per task, a single `generate()` and "
        f"a scorer that grades the completion with Gauntlet Studio's own grader "
        f"(`{name}_gauntlet/`), so scores match the verification funnel.\n"
    )
