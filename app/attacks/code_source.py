"""Building attack submissions for `kind = "code"`: a module that defines the task's entry
function, with optional code that runs at import time."""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Callable
from typing import Any

from app.attacks.answers import entry_name
from app.attacks.model import Attack, AttackContext, Generator, attack
from app.python_ast import parse_python

# What the code attacks (code execution, environment, resource) apply to.
CODE_KINDS = ("code",)
CODE_GRADERS = ("python", "tests")
# A result record that says "all passed" in every spelling harnesses commonly read.
PASSING_RESULT = {
    "passed": True,
    "failed": 0,
    "failures": 0,
    "errors": 0,
    "ok": True,
    "success": True,
    "reward": 1.0,
    "score": 1.0,
}


def code_attack(id: str, category: str, **metadata: Any) -> Callable[[Generator], Attack]:
    """`attack` for code tasks: `kinds` and `graders` are CODE_KINDS and CODE_GRADERS unless
    `metadata` says otherwise."""
    return attack(id, category, **{"kinds": CODE_KINDS, "graders": CODE_GRADERS, **metadata})


def submission(
    ctx: AttackContext, body: str, *, prelude: str = "", params: str = "*args, **kwargs"
) -> str:
    """`prelude` runs at import; `body` is the entry function's body."""
    name = entry_name(ctx.task)
    parts = []
    if prelude.strip():
        parts.append(textwrap.dedent(prelude).strip("\n"))
    parts.append(
        f"def {name}({params}):\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    )
    return "\n\n".join(parts) + "\n"


def grader_helper_names(source: str) -> list[str]:
    """Top-level function names in the grader (white-box), except the entry itself."""
    try:
        tree = parse_python(source)
    except (SyntaxError, ValueError):
        return []
    return [
        n.name
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name != "grade"
    ]


_PATHISH = re.compile(
    r"""["']([^"'\n]{1,120}\.(?:json|jsonl|txt|xml|log|out|csv|result|status))["']"""
)


def grader_file_names(source: str) -> list[str]:
    """File names a grader mentions (white-box): the files it might read results from."""
    return sorted(set(_PATHISH.findall(source)))


_ENV_NAME = re.compile(
    r"""(?:environ(?:\.get)?\s*[\[(]\s*|getenv\s*\(\s*)["']([A-Za-z_][A-Za-z0-9_]*)["']"""
)


def grader_env_names(source: str) -> list[str]:
    return sorted(set(_ENV_NAME.findall(source)))


_TIMEOUT = re.compile(r"timeout\s*=\s*([0-9]+(?:\.[0-9]+)?)")


def grader_inner_timeouts(source: str) -> list[float]:
    return [float(v) for v in _TIMEOUT.findall(source)]
