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
the funnel. Judge packages are not exported (Gauntlet's judge protocol is not Inspect's
model-graded scorer); agentic packages export to Harbor, whose task folders they already are.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from app.envpack.interop.harbor_agentic_export import reject_agentic
from app.envpack.interop.pack_io import jsonl_line, read_for_export, write_grader_files
from app.envpack.interop.runtime import GraderRuntime
from app.envpack.interop.verifiers_export import module_name
from app.envpack.staging import staged_folder
from app.errors import UserError

EXPORT_FORMAT = "gauntlet-inspect/1"
ASSETS = Path(__file__).parent / "assets"


def export_inspect(
    root: str | os.PathLike[str], dest: str | os.PathLike[str], runtime: GraderRuntime
) -> str:
    """Write the Inspect task folder for the env pack at `root`; returns the task's name."""
    reject_agentic(root, "Inspect")
    source = read_for_export(root)
    pack = source.pack
    if pack.grader.type == "judge":
        raise UserError(
            f"{pack.name} uses an LLM judge, which the Inspect export does not carry over.",
            "Export it with `--to verifiers` (it has a judge rubric), or use a match, python or "
            "tests grader for Inspect.",
        )
    name = module_name(pack.manifest.package.name)
    grader_package = f"{name}_gauntlet"
    with staged_folder(dest) as staging:
        package = staging / grader_package
        data = package / "data"
        data.mkdir(parents=True)
        (package / "__init__.py").write_text(
            '"""Gauntlet Studio\'s grading for the Inspect task next to this folder."""\n',
            encoding="utf-8",
        )
        # The verifiers export's grading module: one implementation for both exports.
        (package / "rewards.py").write_text(
            (ASSETS / "verifiers_rewards.py").read_text(encoding="utf-8"), encoding="utf-8"
        )
        runtime.write_package(package)
        (data / "tasks.jsonl").write_text(
            "".join(jsonl_line(t.record) for t in pack.tasks), encoding="utf-8"
        )
        _dump(data / "grader.json", pack.grader.to_dict())
        _dump(data / "pack.json", _pack_json(source))
        if pack.grader.type == "python":
            write_grader_files(data / "grader", source.extra_files)
        task_file = (ASSETS / "inspect_task.py").read_text(encoding="utf-8")
        task_file = task_file.replace("__GRADER_PACKAGE__", grader_package)
        (staging / f"{name}.py").write_text(
            task_file.replace("__TASK_NAME__", name), encoding="utf-8"
        )
        (staging / "README.md").write_text(_readme(source, name), encoding="utf-8")
    return name


def _pack_json(source) -> dict:
    pack = source.pack
    return {
        "format": EXPORT_FORMAT,
        "manifest": source.manifest,
        "readme": source.readme,
        "solutions": [{"task_id": r.task_id, "response": r.response} for r in pack.solutions],
        "negatives": [
            {"task_id": n.task_id, "response": n.response, **({"note": n.note} if n.note else {})}
            for n in pack.negatives
        ],
    }


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


def _dump(path: Path, value) -> None:
    path.write_text(
        json.dumps(value, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
    )
