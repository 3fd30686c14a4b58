"""Export an env pack as a Harbor / Terminal-Bench task set: one task folder per task.

    <out>/<task-id>/task.toml          Harbor task config (schema 1.1: [task], [metadata],
                                       [verifier], [agent], [environment])
                    instruction.md     the prompt, plus where to write the answer
                    environment/Dockerfile
                    solution/solve.sh  writes the first reference response (the oracle)
                    tests/test.sh      runs tests/verify.py, which writes /logs/verifier/reward.*
                    tests/gauntlet/    task.json, grader.json, pack.json (for re-import)
                    tests/gauntlet_runtime/   Gauntlet Studio's own graders
                    tests/grader/      the package's Python grader (python graders only)

The agent answers in a file (`/app/answer.txt`, or `/app/solution.py` for code tasks) because
Harbor agents work in a container, not in a chat. Judge graders (and rubrics with judge
criteria) are not exported: the judge is called from the author's machine, and a Harbor
verifier would need network and API keys. A rubric of code criteria is graded by verify.py with
the package's criteria and the funnel's combination; each criterion's score is a numeric extra
in reward.json.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import tomlkit

from app.envpack.interop.harbor_agentic_export import export_agentic, is_agentic_package
from app.envpack.interop.multiturn_package import is_multiturn_package
from app.envpack.interop.pack_io import ExportSource, read_for_export, write_grader_files
from app.envpack.interop.rubric_export import refuse_judge_criteria
from app.envpack.interop.runtime import GraderRuntime
from app.envpack.model import Task
from app.envpack.staging import staged_folder
from app.errors import UserError

EXPORT_FORMAT = "gauntlet-harbor/1"
ANSWER_FILE = "/app/answer.txt"
CODE_FILE = "/app/solution.py"
VERIFY_SCRIPT = Path(__file__).parent / "assets" / "harbor_verify.py"
DEFAULT_IMAGE = "python:3.12-slim"
AGENT_TIMEOUT_S = 600.0
_AUTHOR = re.compile(r"^\s*(?P<name>[^<]*?)\s*(?:<(?P<email>[^>]+)>)?\s*$")

TEST_SH = """#!/bin/bash
# Grades the agent's answer with Gauntlet Studio's grader; always writes a reward.
mkdir -p /logs/verifier
python3 /tests/verify.py "$@"
"""


def export_harbor(
    root: str | os.PathLike[str], dest: str | os.PathLike[str], runtime: GraderRuntime
) -> list[str]:
    """Write one Harbor task folder per task of the package at `root`; returns the folder names."""
    if is_agentic_package(root):  # task folders already: copied (app/.../harbor_agentic_export)
        return export_agentic(root, dest)
    if is_multiturn_package(root):  # conversations: app/envpack/interop/harbor_multiturn.py
        from app.envpack.interop.harbor_multiturn import export_harbor_multiturn

        return export_harbor_multiturn(root, dest, runtime)
    source = read_for_export(root)
    grader = source.pack.grader
    if grader.type == "judge":
        raise UserError(
            f"{source.pack.name} uses an LLM judge, which a Harbor verifier cannot run offline.",
            "Export it with `--to verifiers` (it has a judge rubric), or use a match, python or "
            "tests grader for Harbor.",
        )
    refuse_judge_criteria(source.pack, "Harbor")
    names: list[str] = []
    with staged_folder(dest) as staging:
        for task in source.pack.tasks:
            name = folder_name(task.id)
            _write_task(staging / name, source, task, runtime)
            names.append(name)
        (staging / "README.md").write_text(_set_readme(source, names), encoding="utf-8")
    return names


def folder_name(task_id: str) -> str:
    return task_id if not task_id.startswith(".") else f"task{task_id}"


def _write_task(folder: Path, source: ExportSource, task: Task, runtime: GraderRuntime) -> None:
    pack = source.pack
    code = pack.manifest.kind == "code"
    answer_file = CODE_FILE if code else ANSWER_FILE
    (folder / "environment").mkdir(parents=True)
    (folder / "solution").mkdir()
    tests = folder / "tests"
    (tests / "gauntlet").mkdir(parents=True)

    (folder / "task.toml").write_text(_task_toml(source, task), encoding="utf-8")
    (folder / "instruction.md").write_text(
        _instruction(task, code, pack.grader.mode, answer_file), encoding="utf-8"
    )
    (folder / "environment" / "Dockerfile").write_text(_dockerfile(source), encoding="utf-8")
    references = [r.response for r in pack.references_for(task.id)]
    solve = folder / "solution" / "solve.sh"
    solve.write_text(solve_script(references[0], answer_file), encoding="utf-8")
    solve.chmod(0o755)

    test_sh = tests / "test.sh"
    test_sh.write_text(TEST_SH, encoding="utf-8")
    test_sh.chmod(0o755)
    (tests / "verify.py").write_text(VERIFY_SCRIPT.read_text(encoding="utf-8"), encoding="utf-8")
    runtime.write_package(tests)
    spec = dict(pack.grader.to_dict(), answer_file=answer_file)
    _dump(tests / "gauntlet" / "task.json", task.record)
    _dump(tests / "gauntlet" / "grader.json", spec)
    _dump(
        tests / "gauntlet" / "pack.json",
        {
            "format": EXPORT_FORMAT,
            "manifest": source.manifest,
            "readme": source.readme,
            "task_index": pack.tasks.index(task),
            "references": references,
            "negatives": [
                {"response": n.response, "note": n.note}
                for n in pack.negatives
                if n.task_id == task.id
            ],
        },
    )
    if pack.grader.type == "python" or pack.grader.is_rubric:
        write_grader_files(tests / "grader", source.extra_files)


def solve_script(response: str, answer_file: str) -> str:
    """A solve.sh writing `response` byte for byte (base64: no quoting or heredoc pitfalls)."""
    encoded = base64.b64encode(response.encode("utf-8", "surrogatepass")).decode("ascii")
    return (
        "#!/bin/bash\n"
        "# Reference solution exported by Gauntlet Studio: writes the reference response.\n"
        "set -euo pipefail\n"
        f"mkdir -p {os.path.dirname(answer_file)}\n"
        f"python3 -c 'import base64, sys; sys.stdout.buffer.write(base64.b64decode(sys.argv[1]))' "
        f"{encoded} > {answer_file}\n"
    )


def _task_toml(source: ExportSource, task: Task) -> str:
    pack = source.pack
    info = pack.manifest.package
    owner, _, short = info.name.partition("/")
    doc = tomlkit.document()
    doc.add(
        tomlkit.comment(f"Harbor task exported by Gauntlet Studio from {info.name} {info.version}.")
    )
    doc["schema_version"] = "1.1"
    section = tomlkit.table()
    section["name"] = f"{owner}/{short}.{_name_safe(task.id)}"
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
    metadata = tomlkit.table()
    metadata["category"] = "programming" if pack.manifest.kind == "code" else "question-answering"
    metadata["license"] = info.license
    metadata["gauntlet_package"] = info.name
    metadata["gauntlet_version"] = info.version
    metadata["gauntlet_task_id"] = task.id
    grader = pack.grader
    metadata["gauntlet_grader"] = grader.type if grader.type != "match" else f"match/{grader.mode}"
    doc["metadata"] = metadata
    # Code tests run one process per task with the grader's time limit; allow start-up slack.
    verifier_timeout = max(60.0, math.ceil(grader.timeout_s) * 3 + 30.0)
    doc["verifier"] = {"timeout_sec": verifier_timeout}
    doc["agent"] = {"timeout_sec": AGENT_TIMEOUT_S}
    sandbox = pack.manifest.sandbox
    doc["environment"] = {
        "build_timeout_sec": 600.0,
        "cpus": max(1, math.ceil(sandbox.cpus)),
        "memory_mb": max(2048, sandbox.memory_mb),  # the agent shares this container
        "storage_mb": 10240,
    }
    return tomlkit.dumps(doc)


def _name_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip(".") or "task"


def _instruction(task: Task, code: bool, mode: str, answer_file: str) -> str:
    parts = [task.prompt.rstrip(), ""]
    choices = task.choices
    if not code and mode == "choice" and choices and not all(c in task.prompt for c in choices):
        parts += ["Options:", ""]
        parts += [f"{chr(65 + i)}. {choice}" for i, choice in enumerate(choices)]
        parts.append("")
    if code:
        entry = task.entry or "the requested function"
        parts.append(
            "Write your answer as Python source that "
            f"defines `{entry}` to the file `{answer_file}`. "
            "Only that file is graded."
        )
    else:
        parts.append(
            f"Write your final answer, and nothing else, to the file `{answer_file}`. "
            "Only that file is graded."
        )
    return "\n".join(parts) + "\n"


def _dockerfile(source: ExportSource) -> str:
    custom = source.pack.root / "environment" / "Dockerfile"
    if custom.is_file():
        return custom.read_text(encoding="utf-8")
    image = source.pack.manifest.sandbox.image or DEFAULT_IMAGE
    return (
        "# The agent's container; the verifier needs python3 and bash in it.\n"
        f"FROM {image}\n"
        "# Harbor runs the agent and the verifier as the image's user, and they write /app and\n"
        "# /logs: a base image with a non-root USER (the sandbox image's) could not.\n"
        "USER root\n"
        "WORKDIR /app\n"
    )


def _set_readme(source: ExportSource, names: list[str]) -> str:
    info = source.pack.manifest.package
    return (
        f"# {info.title or info.name} (Harbor task set)\n\n"
        f"Exported by Gauntlet Studio from `{info.name}` version {info.version} "
        f"(license {info.license}). {len(names)} task folder(s); run them with\n"
        "`harbor run -p <this folder> -a <agent> -m <model>`, or check the references with the\n"
        "oracle agent (`-a oracle`).\n\n"
        "Each task's `tests/verify.py` grades with Gauntlet Studio's own grader; "
        "`gauntlet import <this folder> --from harbor -o DIR` turns the set back into a package.\n"
    )


def _dump(path: Path, value: Any) -> None:
    path.write_text(
        json.dumps(value, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
    )
