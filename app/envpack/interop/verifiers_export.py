"""Export an env pack as a Prime Intellect `verifiers` environment (an installable package).

    <out>/pyproject.toml        name, version, dependencies (verifiers 0.4)
         README.md
         <module>/__init__.py   the Taskset subclass (in __all__), its Task with a @vf.reward
         <module>/rewards.py    the reward function (standard library only)
         <module>/gauntlet_runtime/   Gauntlet Studio's own graders
         <module>/data/         tasks.jsonl, grader.json, pack.json (for re-import),
                                grader/ (python graders), rubric.md and judge.json
                                (judge graders and a rubric's judge criteria)

`pip install <out>` then `vf-eval <module>` runs it and `vf-validate <module>` checks the
references with no model. The module name is the
package's short name with underscores: "acme/enzyme-kinetics" -> `enzyme_kinetics`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import tomlkit

from app.envpack.interop.harbor_agentic_export import reject_agentic
from app.envpack.interop.multiturn_package import is_multiturn_package
from app.envpack.interop.pack_io import jsonl_line, read_for_export, write_grader_files
from app.envpack.interop.rubric_export import verifiers_judge
from app.envpack.interop.runtime import GraderRuntime
from app.envpack.staging import staged_folder

EXPORT_FORMAT = "gauntlet-verifiers/1"
# verifiers 0.4 removed the classic API (vf.SingleTurnEnv, vf.Rubric) for `verifiers.v1`
# tasksets; tested against the release pinned in .ci/peers/verifiers.txt.
VERIFIERS_REQUIREMENT = "verifiers>=0.4,<0.5"
ASSETS = Path(__file__).parent / "assets"


def module_name(package_name: str) -> str:
    short = package_name.partition("/")[2] or package_name
    name = short.replace("-", "_")
    return name if name.isidentifier() else f"env_{name}"


def export_verifiers(
    root: str | os.PathLike[str], dest: str | os.PathLike[str], runtime: GraderRuntime
) -> str:
    """Write the environment package for the env pack at `root`; returns its module name."""
    reject_agentic(root, "verifiers")  # it would be a taskset with no tasks
    if is_multiturn_package(root):  # conversations: app/envpack/interop/verifiers_multiturn.py
        from app.envpack.interop.verifiers_multiturn import export_verifiers_multiturn

        return export_verifiers_multiturn(root, dest, runtime)
    source = read_for_export(root)
    pack = source.pack
    info = pack.manifest.package
    module = module_name(info.name)
    judge = verifiers_judge(pack)  # a rubric's judge criteria: verifiers' rubric judge
    with staged_folder(dest) as staging:
        package = staging / module
        init = (ASSETS / "verifiers_env.py").read_text(encoding="utf-8")
        data = write_grading_package(package, source, runtime, EXPORT_FORMAT, init)
        if pack.grader.type == "judge":
            rubric = source.extra_files.get(pack.grader.rubric, "")
            (data / "rubric.md").write_text(rubric, encoding="utf-8")
            criteria = [{"name": "rubric", "text": rubric.strip()}]
            dump_json(data / "judge.json", {"criteria": criteria})
        if judge is not None:
            dump_json(data / "judge.json", judge)
        (staging / "pyproject.toml").write_text(_pyproject(info, module), encoding="utf-8")
        (staging / "README.md").write_text(
            _readme(info, module, pack.grader.type), encoding="utf-8"
        )
    return module


def write_grading_package(
    package: Path, source, runtime: GraderRuntime, export_format: str, init: str
) -> Path:
    """The grading package both the verifiers and the Inspect exports ship: `init` as its
    __init__.py, rewards.py, Gauntlet's grader runtime, and data/ (tasks, grader, the pack's
    manifest, references and negatives for re-import, a python grader's files); returns data/."""
    pack = source.pack
    data = package / "data"
    data.mkdir(parents=True)
    (package / "__init__.py").write_text(init, encoding="utf-8")
    (package / "rewards.py").write_text(
        (ASSETS / "verifiers_rewards.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    runtime.write_package(package)
    (data / "tasks.jsonl").write_text(
        "".join(jsonl_line(t.record) for t in pack.tasks), encoding="utf-8"
    )
    dump_json(data / "grader.json", pack.grader.to_dict())
    negatives = [
        {"task_id": n.task_id, "response": n.response, **({"note": n.note} if n.note else {})}
        for n in pack.negatives
    ]
    pack_json = {
        "format": export_format,
        "manifest": source.manifest,
        "readme": source.readme,
        "solutions": [{"task_id": r.task_id, "response": r.response} for r in pack.solutions],
        "negatives": negatives,
    }
    dump_json(data / "pack.json", pack_json)
    if pack.grader.type == "python" or pack.grader.is_rubric:
        write_grader_files(data / "grader", source.extra_files)
    return data


def _pyproject(info, module: str) -> str:
    doc = tomlkit.document()
    doc["build-system"] = {"requires": ["setuptools>=61"], "build-backend": "setuptools.build_meta"}
    doc["project"] = {
        "name": module.replace("_", "-"),
        "version": info.version,
        "description": info.title or info.name,
        "license": {"text": info.license},
        "requires-python": ">=3.10",
        "dependencies": [VERIFIERS_REQUIREMENT],
        "keywords": list(info.tags),
    }
    doc["tool"] = {
        "setuptools": {
            "packages": [module, f"{module}.gauntlet_runtime"],
            "package-data": {module: ["data/*", "data/grader/*", "data/grader/**/*"]},
        }
    }
    return tomlkit.dumps(doc)


def _readme(info, module: str, grader_type: str) -> str:
    judge = {
        "judge": "\nThe judge is verifiers' rubric judge with the package's rubric as its one "
        "criterion;\nchoose its model with `--env.taskset.task.judges`.\n",
        "rubric": "\nThe package is graded by a rubric: each criterion is a reward (or a "
        "`criteria` metric\nbeside the combined `gauntlet` reward for all-pass and threshold "
        "rubrics), judge criteria\nare verifiers' rubric judge.\n",
    }.get(grader_type, "")
    return (
        f"# {info.title or info.name}\n\n"
        f"A `verifiers` environment exported by Gauntlet Studio from `{info.name}` {info.version} "
        f"(license {info.license}).\n\n"
        "```\n"
        "pip install .\n"
        f"vf-validate {module} --runtime.type subprocess   # references score 1, no model\n"
        f"vf-eval {module}\n"
        "```\n\n"
        f"`{module}` exports a verifiers 0.4 `Taskset` (`GauntletTaskset`); each task's reward\n"
        f"(`{module}/rewards.py`) grades the final reply with Gauntlet Studio's own grader, "
        "so rewards match the verification funnel.\n"
        f"{judge}"
    )


def dump_json(path: Path, value) -> None:
    path.write_text(
        json.dumps(value, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
    )
