"""Structural checks (funnel stage 1): an ordered registry of named checks.

Each check reads a `LoadResult` through a `CheckContext` and reports findings with codes from
`app.envpack.rules`. Checks only read text and parse it (JSON, TOML, Python `ast`); they never
import or run anything from the package. A check that fails unexpectedly becomes a finding
instead of an exception (`run_checks` never raises).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.envpack.checks import (
    agentic,
    code_tasks,
    dockerfile,
    files,
    grader_config,
    leakage,
    metadata,
    multiturn,
    python_grader,
    references,
    rubric,
    tasks,
)
from app.envpack.checks.context import CheckContext
from app.envpack.loader import MANIFEST_FILE, LoadResult
from app.envpack.rules import rule
from app.findings import Finding


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    description: str
    codes: tuple[str, ...]
    run: Callable[[CheckContext], None]
    needs_pack: bool = True  # False: runs even when env.toml could not be read


# The loader itself reports these; listed so that every code has an owner in the registry.
LOADER_CODES = (
    "GX100",
    "GX101",
    "GX102",
    "GX103",
    "GX104",
    "GX105",
    "GX106",
    "GX120",
    "GX124",
    "GX130",
    "GX131",
    "GX132",
    "GX133",
    "GX139",
    "GX136",
    "GX162",  # agentic task folders (app/envpack/agentic_tasks.py)
    "GX163",
    "GX164",
    "GX184",
    "GX107",  # multi-turn trajectories (app/envpack/loader.py)
    "GX108",
)

CHECKS: tuple[Check, ...] = (
    Check(
        "package-files",
        "every file is UTF-8 text, small, inside the folder, not a link",
        ("GX121", "GX122", "GX123", "GX124"),
        files.check_package_files,
        needs_pack=False,
    ),
    Check(
        "dockerfile",
        "environment/Dockerfile builds on the sandbox image, offline",
        ("GX126", "GX127", "GX128"),
        dockerfile.check_dockerfile,
        needs_pack=False,
    ),
    Check(
        "package-metadata",
        "name, version, license, title, README",
        ("GX110", "GX111", "GX112", "GX113", "GX114", "GX115"),
        metadata.check_metadata,
    ),
    Check(
        "tasks",
        "task ids unique and well-formed, prompts written",
        ("GX125", "GX134", "GX135", "GX137", "GX138"),
        tasks.check_tasks,
    ),
    Check(
        "references",
        "every task has a reference; references and negatives point at tasks",
        ("GX125", "GX140", "GX141", "GX142", "GX143", "GX144", "GX145", "GX146"),
        references.check_references,
    ),
    Check(
        "grader-config",
        "grader settings are valid and fit the kind and the tasks",
        (
            "GX120",
            "GX124",
            "GX150",
            "GX151",
            "GX152",
            "GX153",
            "GX154",
            "GX155",
            "GX156",
            "GX157",
            "GX158",
            "GX159",
            "GX160",
            "GX161",
        ),
        grader_config.check_grader_config,
    ),
    Check(
        "python-grader",
        (
            "grader.py parses and defines the entry function; "
            "no network, processes, randomness or clock"
        ),
        (
            "GX120",
            "GX124",
            "GX170",
            "GX171",
            "GX172",
            "GX173",
            "GX174",
            "GX175",
            "GX176",
            "GX177",
            "GX178",
            "GX179",
        ),
        python_grader.check_python_grader,
    ),
    Check(
        "rubric",
        "rubric criteria: named once, weighted above 0, a grader function that exists or a "
        "judge question with choices; a reachable threshold",
        (
            "GX120",
            "GX124",
            "GX170",
            "GX172",
            "GX173",
            "GX175",
            "GX176",
            "GX177",
            "GX178",
            "GX179",
            "GX185",
            "GX186",
            "GX187",
            "GX188",
            "GX189",
            "GX192",
            "GX193",
        ),
        rubric.check_rubric,
    ),
    Check(
        "code-tasks",
        "code tasks name an entry function and carry well-formed test cases",
        ("GX180", "GX181", "GX182", "GX191"),
        code_tasks.check_code_tasks,
    ),
    Check(
        "agentic-tasks",
        "agentic tasks: instructions written, tests and solution kept out of the image, a "
        "reward written, a separate verifier, a grader that fits the kind",
        ("GX165", "GX166", "GX167", "GX168", "GX169", "GX183", "GX194"),
        agentic.check_agentic,
    ),
    Check(
        "multi-turn",
        "multi-turn tasks have max_turns and a user; tools.py is typed; trajectories call its "
        "tools with fitting arguments within max_turns",
        ("GX109", "GX116", "GX117", "GX118", "GX119", "GX147", "GX148"),
        multiturn.check_multiturn,
    ),
    Check(
        "answer-leakage",
        "the answer does not appear in the prompt",
        ("GX190",),
        leakage.check_leakage,
    ),
)


def run_checks(result: LoadResult) -> list[Finding]:
    """Run every check in order; returns the new findings (not the loader's)."""
    ctx = CheckContext(result)
    for check in CHECKS:
        if check.needs_pack and result.pack is None:
            continue
        try:
            check.run(ctx)
        except Exception as exc:  # a bug in one check must not hide the others' findings
            ctx.findings.append(
                rule("GX199").finding(
                    f'The check "{check.name}" stopped early: {type(exc).__name__}: {exc}.',
                    file=MANIFEST_FILE,
                )
            )
    return ctx.findings
