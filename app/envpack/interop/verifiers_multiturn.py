"""Export a multi-turn package as a `verifiers` 0.4 environment with tools and a scripted user.

    <out>/pyproject.toml
         README.md
         <module>/__init__.py        GauntletTaskset, GauntletConversation (the scripted user),
                                     the `gauntlet` reward (assets/verifiers_multiturn_env.py)
         <module>/tools_server.py    tools.py as a task-scoped vf.Toolset: one MCP server and a
                                     fresh module per rollout (assets/verifiers_multiturn_tools.py)
         <module>/gauntlet_episodes.py, gauntlet_runtime/, data/   the grading package
                                     (app/envpack/interop/multiturn_package.py)

verifiers 0.4 has no ToolEnv/MultiTurnEnv any more: tools are `Toolset` MCP servers a task
declares, and who speaks to the model is an `Env`'s control flow over `agent.interaction()`.
The reward replays the assistant's turns with Gauntlet's own episode runner and grader, so it
is the reward Gauntlet's verification gives for the same conversation.
"""

from __future__ import annotations

import os
from pathlib import Path

import tomlkit

from app.envpack.interop.multiturn_package import (
    MultiTurnSource,
    read_multiturn_for_export,
    write_multiturn_grading,
)
from app.envpack.interop.runtime import PACKAGE_NAME, GraderRuntime
from app.envpack.interop.verifiers_export import VERIFIERS_REQUIREMENT, module_name
from app.envpack.staging import staged_folder

EXPORT_FORMAT = "gauntlet-verifiers-multiturn/1"
ASSETS = Path(__file__).parent / "assets"


def export_verifiers_multiturn(
    root: str | os.PathLike[str], dest: str | os.PathLike[str], runtime: GraderRuntime
) -> str:
    """Write the environment package for the multi-turn package at `root`; returns its
    module name."""
    source = read_multiturn_for_export(root, "verifiers")
    info = source.pack.manifest.package
    module = module_name(info.name)
    with staged_folder(dest) as staging:
        package = staging / module
        package.mkdir()
        write_multiturn_grading(package, source, runtime, EXPORT_FORMAT)
        for asset, name in (
            ("verifiers_multiturn_env.py", "__init__.py"),
            ("verifiers_multiturn_tools.py", "tools_server.py"),
        ):
            (package / name).write_text((ASSETS / asset).read_text(encoding="utf-8"), "utf-8")
        (staging / "pyproject.toml").write_text(_pyproject(source, module), encoding="utf-8")
        (staging / "README.md").write_text(_readme(source, module), encoding="utf-8")
    return module


def _pyproject(source: MultiTurnSource, module: str) -> str:
    info = source.pack.manifest.package
    doc = tomlkit.document()
    doc["build-system"] = {"requires": ["setuptools>=61"], "build-backend": "setuptools.build_meta"}
    doc["project"] = {
        "name": module.replace("_", "-"),
        "version": info.version,
        "description": info.title or info.name,
        "license": {"text": info.license},
        "requires-python": ">=3.11",
        "dependencies": [VERIFIERS_REQUIREMENT],
        "keywords": list(info.tags),
    }
    doc["tool"] = {
        "setuptools": {
            "packages": [module, f"{module}.{PACKAGE_NAME}"],
            "package-data": {module: ["data/*", "data/pack/*", "data/pack/**/*"]},
        }
    }
    return tomlkit.dumps(doc)


def _readme(source: MultiTurnSource, module: str) -> str:
    info = source.pack.manifest.package
    tools = ", ".join(f"`{t['function']['name']}`" for t in source.tools) or "none"
    return (
        f"# {info.title or info.name} (multi-turn)\n\n"
        f"A `verifiers` 0.4 environment exported by Gauntlet Studio from `{info.name}` "
        f"{info.version} (license {info.license}).\n\n"
        "```\n"
        "pip install .\n"
        f"vf-validate {module} --runtime.type subprocess   # references score 1, no model\n"
        f"vf-eval {module} --env.assistant.runtime.type subprocess\n"
        "```\n\n"
        f"- `GauntletTaskset`: one task per conversation; the tools ({tools}) are tools.py "
        "served over MCP, a fresh copy of the module for every rollout.\n"
        "- `GauntletConversation`: the scripted user. The task's prompt opens; after each reply "
        "without tool calls the user says their next line, until the script ends; `max_turns` "
        "caps the replies. The assistant runs verifiers' `null` chat harness.\n"
        "- The `gauntlet` reward replays the assistant's turns with Gauntlet Studio's own "
        "episode runner and grader, so rewards match the verification funnel; a rubric's "
        "criteria are kept in `trace.info['gauntlet']`.\n"
    )
