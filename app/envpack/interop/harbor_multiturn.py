"""Export a multi-turn package with tools as Harbor task folders; refuse a scripted user.

A Harbor agent works through one instruction in a container; nobody answers it. So a task is
exported when its conversation is the assistant's alone (no scripted user lines): the
instruction gives the opening (system and prompt) and says where the conversation goes, the
agent calls the tools with a command (`python3 /app/gauntlet/tool.py NAME '{json}'`, tool
state kept for the whole task) and writes its conversation, tool calls included, to
`/app/trajectory.json`; tests/test.sh replays and grades that conversation with Gauntlet's own
runner and grader. A package whose tasks have scripted user lines is refused: the user's
replies would have to be written into the instruction (giving the conversation away) or kept
hidden (an agent could not react to them).

    <out>/<task-id>/task.toml, instruction.md
                    environment/Dockerfile, environment/gauntlet/   tools.py, tool.py, episode.py
                    solution/solve.sh      writes the reference conversation (the oracle)
                    tests/test.sh, tests/verify.py, tests/gauntlet_grading/   (the grading package)
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import tomlkit

from app.envpack.interop.harbor_export import DEFAULT_IMAGE, folder_name, solve_script
from app.envpack.interop.multiturn_package import (
    MultiTurnSource,
    read_multiturn_for_export,
    write_multiturn_grading,
)
from app.envpack.interop.runtime import GraderRuntime
from app.envpack.model import Task
from app.envpack.staging import staged_folder
from app.errors import UserError

EXPORT_FORMAT = "gauntlet-harbor-multiturn/1"
TRAJECTORY_FILE = "/app/trajectory.json"
ASSETS = Path(__file__).parent / "assets"
TEST_SH = """#!/bin/bash
# Replays and grades the agent's conversation with Gauntlet Studio's grader; always writes a reward.
mkdir -p /logs/verifier
python3 /tests/verify.py "$@"
"""


def export_harbor_multiturn(
    root: str | os.PathLike[str], dest: str | os.PathLike[str], runtime: GraderRuntime
) -> list[str]:
    """Write one Harbor task folder per task of the multi-turn package at `root`."""
    source = read_multiturn_for_export(root, "Harbor")
    pack = source.pack
    scripted = [t.id for t in pack.tasks if t.record.get("user")]
    if scripted:
        raise UserError(
            f'{pack.name}: task "{scripted[0]}" has a scripted user, which a Harbor task cannot '
            "carry: a Harbor agent works through one instruction and nobody answers it, so the "
            "user's replies would have to be given away in the instruction or stay hidden.",
            "Export it with `--to verifiers` or `--to inspect` (both play the scripted user).",
        )
    names = []
    with staged_folder(dest) as staging:
        for task in pack.tasks:
            name = folder_name(task.id)
            _write_task(staging / name, source, task, runtime)
            names.append(name)
        (staging / "README.md").write_text(_readme(source, names), encoding="utf-8")
    return names


def _write_task(folder: Path, source: MultiTurnSource, task: Task, runtime: GraderRuntime) -> None:
    pack = source.pack
    environment, tests = folder / "environment" / "gauntlet", folder / "tests"
    environment.mkdir(parents=True)
    (folder / "solution").mkdir()
    tests.mkdir()
    (folder / "task.toml").write_text(_task_toml(source, task), encoding="utf-8")
    (folder / "instruction.md").write_text(_instruction(source, task), encoding="utf-8")
    image = pack.manifest.sandbox.image or DEFAULT_IMAGE
    (folder / "environment" / "Dockerfile").write_text(_dockerfile(image), encoding="utf-8")
    (environment / "tools.py").write_text(source.python_files.get("tools.py", ""), "utf-8")
    (environment / "episode.py").write_text(runtime.files["episode.py"], encoding="utf-8")
    (environment / "tool.py").write_text(
        (ASSETS / "harbor_multiturn_tool.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    _dump(environment / "task.json", task.record)
    reference = {"turns": pack.references_for(task.id)[0].turns}
    solve = folder / "solution" / "solve.sh"
    solve.write_text(solve_script(json.dumps(reference), TRAJECTORY_FILE), encoding="utf-8")
    solve.chmod(0o755)
    (tests / "test.sh").write_text(TEST_SH, encoding="utf-8")
    (tests / "test.sh").chmod(0o755)
    (tests / "verify.py").write_text(
        (ASSETS / "harbor_multiturn_verify.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    package = tests / "gauntlet_grading"
    package.mkdir()
    (package / "__init__.py").write_text('"""Gauntlet Studio\'s grading."""\n', "utf-8")
    write_multiturn_grading(package, source, runtime, EXPORT_FORMAT)
    _dump(package / "task.json", task.record)


def _instruction(source: MultiTurnSource, task: Task) -> str:
    parts = []
    if isinstance(task.record.get("system"), str):
        parts += [task.record["system"].rstrip(), ""]
    parts += [task.prompt.rstrip(), "", "## How to answer", ""]
    if source.tools:
        listed = "\n".join(
            f"- `{t['function']['name']}`: {t['function']['description'] or '(no description)'}"
            f"\n  parameters: `{json.dumps(t['function']['parameters'].get('properties', {}))}`"
            for t in source.tools
        )
        parts += [
            "You have these tools. Call one with "
            "`python3 /app/gauntlet/tool.py NAME '{\"argument\": value}'`; it prints the result, "
            "and the tools keep their state for the whole task.",
            "",
            listed,
            "",
        ]
    turns = task.record.get("max_turns", 6)
    parts.append(
        f"Write the whole conversation you had to `{TRAJECTORY_FILE}`, as JSON: "
        '`{"turns": [...]}`, your turns in order in OpenAI chat format: '
        '`{"role": "assistant", "tool_calls": [{"type": "function", "function": '
        '{"name": "...", "arguments": "{...}"}}]}` for a turn that calls tools and '
        '`{"role": "assistant", "content": "..."}` for your reply, the last turn being your '
        f"final answer. At most {turns} turns count. Only that file is graded: its tool calls "
        "are replayed on fresh tools and the conversation graded."
    )
    return "\n".join(parts) + "\n"


def _dockerfile(image: str) -> str:
    return (
        "# The agent's container: the task's tools under /app/gauntlet; the verifier needs\n"
        "# python3 and bash in it.\n"
        f"FROM {image}\n"
        "USER root\n"
        "WORKDIR /app\n"
        "COPY gauntlet /app/gauntlet\n"
    )


def _task_toml(source: MultiTurnSource, task: Task) -> str:
    info = source.pack.manifest.package
    owner, _, short = info.name.partition("/")
    doc = tomlkit.document()
    doc.add(tomlkit.comment(f"Harbor task exported by Gauntlet Studio from {info.name}."))
    doc["schema_version"] = "1.1"
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", task.id).strip(".") or "task"
    doc["task"] = {
        "name": f"{owner}/{short}.{safe}",
        "description": f"{info.title or info.name}: task {task.id}",
        "keywords": list(info.tags),
    }
    doc["metadata"] = {
        "category": "tool-use",
        "license": info.license,
        "gauntlet_package": info.name,
        "gauntlet_version": info.version,
        "gauntlet_task_id": task.id,
        "gauntlet_grader": source.pack.grader.type,
    }
    grader = source.pack.grader
    doc["verifier"] = {"timeout_sec": max(60.0, math.ceil(grader.timeout_s) * 3 + 30.0)}
    doc["agent"] = {"timeout_sec": 600.0}
    sandbox = source.pack.manifest.sandbox
    doc["environment"] = {
        "build_timeout_sec": 600.0,
        "cpus": max(1, math.ceil(sandbox.cpus)),
        "memory_mb": max(2048, sandbox.memory_mb),
        "storage_mb": 10240,
    }
    return tomlkit.dumps(doc)


def _readme(source: MultiTurnSource, names: list[str]) -> str:
    info = source.pack.manifest.package
    return (
        f"# {info.title or info.name} (Harbor task set, multi-turn with tools)\n\n"
        f"Exported by Gauntlet Studio from `{info.name}` {info.version} "
        f"(license {info.license}). {len(names)} task folder(s); run them with "
        "`harbor run -p <this folder> -a <agent> -m <model>`, or check the references with "
        "the oracle agent (`-a oracle`).\n\n"
        "The agent calls the tools with `python3 /app/gauntlet/tool.py` and writes its "
        f"conversation to `{TRAJECTORY_FILE}`; `tests/verify.py` replays it with Gauntlet "
        "Studio's own runner and grades it, so rewards match the verification funnel.\n"
    )


def _dump(path: Path, value) -> None:
    path.write_text(
        json.dumps(value, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
    )
