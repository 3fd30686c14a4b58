"""The keys env.toml may contain, their types and allowed values, and reading a parsed TOML
table into a typed `Manifest`.

Reading is forgiving: a wrong or unknown value becomes a finding and the model keeps its
default, so every later check still runs and the author sees all problems at once.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.envpack.model import (
    AGENT_NETWORK_MODES,
    COMBINE_MODES,
    GRADER_TYPES,
    KINDS,
    MATCH_MODES,
    NETWORK_MODES,
    NORMALIZATIONS,
    SCHEMA,
    VERIFIER_MODES,
    AgentSpec,
    CriterionSpec,
    GraderSpec,
    Manifest,
    PackageInfo,
    SandboxSpec,
    Span,
    VerifierSpec,
)
from app.envpack.rules import rule
from app.envpack.toml_locations import locate
from app.findings import Finding
from app.type_words import describe_type, expected, list_of


@dataclass(frozen=True, slots=True)
class Field:
    # "string" | "number" | "integer" | "strings" | "numbers" | "range" | "table" | "tables"
    type: str
    choices: tuple[str, ...] | None = None


TABLES: dict[str, dict[str, Field]] = {
    "": {
        "schema": Field("string"),
        "kind": Field("string", KINDS),
        "package": Field("table"),
        "tasks": Field("table"),
        "grader": Field("table"),
        "solutions": Field("table"),
        "negatives": Field("table"),
        "sandbox": Field("table"),
        "agent": Field("table"),
        "verifier": Field("table"),
    },
    "package": {
        "name": Field("string"),
        "version": Field("string"),
        "title": Field("string"),
        "description": Field("string"),
        "authors": Field("strings"),
        "license": Field("string"),
        "tags": Field("strings"),
        "bounty": Field("string"),
    },
    "tasks": {"path": Field("string")},
    "solutions": {"path": Field("string")},
    "negatives": {"path": Field("string")},
    "grader": {
        "type": Field("string", GRADER_TYPES),
        "mode": Field("string", MATCH_MODES),
        "tolerance": Field("number"),
        "normalize": Field("strings", NORMALIZATIONS),
        "entry": Field("string"),
        "model": Field("string"),
        "rubric": Field("string"),
        "reward_range": Field("range"),
        "pass_threshold": Field("number"),
        "timeout_s": Field("number"),
        "combine": Field("string", COMBINE_MODES),
        "threshold": Field("number"),
        "criteria": Field("tables"),
    },
    "sandbox": {
        "image": Field("string"),
        "cpus": Field("number"),
        "memory_mb": Field("integer"),
        "network": Field("string", NETWORK_MODES),
        "disk_mb": Field("integer"),
    },
    "agent": {
        "timeout_s": Field("number"),
        "network": Field("string", AGENT_NETWORK_MODES),
        "hosts": Field("strings"),
    },
    "verifier": {
        "timeout_s": Field("number"),
        "mode": Field("string", VERIFIER_MODES),
    },
}

# the keys of one [[grader.criteria]] entry (a rubric criterion)
CRITERION_FIELDS: dict[str, Field] = {
    "name": Field("string"),
    "weight": Field("number"),
    "function": Field("string"),
    "entry": Field("string"),  # DESIGN §4.3's spelling of `function` ("grader.py:name")
    "judge": Field("string"),
    "choices": Field("strings"),
    "scores": Field("numbers"),
}

REQUIRED = ("schema", "package.name", "package.version", "grader.type")

# what a field must be, in the shared type vocabulary, with an example in TOML
_TYPE_NAMES = {
    "string": f'{expected("text")} in quotes, e.g. "abc"',
    "number": f"{expected('number')}, e.g. 1.0",
    "integer": f"{expected('whole number')}, e.g. 512",
    "strings": f'{list_of("text")}, e.g. ["a", "b"]',
    "numbers": f"{list_of('number')}, e.g. [0.0, 0.5, 1.0]",
    "range": f"{list_of('number', 'two')}, e.g. [0.0, 1.0]",
    "table": f"{expected('table')}, e.g. [grader]",
    "tables": f"{list_of('table')}, written as [[grader.criteria]] sections",
}


def did_you_mean(word: str, options: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    if not close:
        close = [o for o in options if o.lower() == word.lower()]
    return f' Did you mean "{close[0]}"?' if close else ""


def _type_ok(field: Field, value: Any) -> bool:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if field.type == "string":
        return isinstance(value, str)
    if field.type == "number":
        return is_number
    if field.type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if field.type == "strings":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if field.type == "numbers":
        return isinstance(value, list) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value
        )
    if field.type == "tables":
        return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    if field.type == "range":
        return (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        )
    if field.type == "table":
        return isinstance(value, dict)
    return False


def read_manifest(
    data: dict[str, Any], spans: dict[str, Span], emit: Callable[[Finding], None]
) -> Manifest:
    """Validate the parsed env.toml and build the typed manifest (defaults where invalid)."""

    def where(key: str) -> dict[str, Any]:
        return locate(spans, key).where()

    valid: dict[str, dict[str, Any]] = {table: {} for table in TABLES}
    for table, fields in TABLES.items():
        content = data if table == "" else data.get(table)
        if not isinstance(content, dict):
            continue  # absent, or reported as a type error of the parent
        for key, value in content.items():
            path = f"{table}.{key}" if table else key
            if path == "grader.combine" and isinstance(value, str):
                value = value.replace("_", "-")  # DESIGN §4.3 spells it "weighted_mean"
            problem = _value_problem(path, fields, key, value)
            if problem is None:
                valid[table][key] = value
            else:
                emit(rule(problem[0]).finding(problem[1], **where(path)))
    _check_schema(data, where, emit)
    _check_required(data, where, emit)
    manifest = _build_manifest(valid)
    criteria = valid["grader"].get("criteria")
    if criteria is not None:
        manifest.grader.criteria = _read_criteria(criteria, where, emit)
    return manifest


def _read_criteria(
    entries: list[dict[str, Any]],
    where: Callable[[str], dict[str, Any]],
    emit: Callable[[Finding], None],
) -> list[CriterionSpec]:
    """The rubric's criteria, each key checked like any other (GX103 unknown, GX104 type);
    what the values mean together (names, weights, choices) is the rubric check's job."""
    criteria: list[CriterionSpec] = []
    for index, entry in enumerate(entries):
        valid: dict[str, Any] = {}
        for key, value in entry.items():
            path = f"grader.criteria.{index}.{key}"
            problem = _value_problem(path, CRITERION_FIELDS, key, value)
            if problem is None:
                valid[key] = value
            else:
                emit(rule(problem[0]).finding(problem[1], **where(path)))
        criterion = CriterionSpec(name=valid.get("name", ""))
        criterion.function = valid.get("function", valid.get("entry", ""))
        criterion.judge = valid.get("judge", "")
        criterion.weight = float(valid.get("weight", 1.0))
        criterion.choices = list(valid.get("choices", []))
        criterion.scores = [float(v) for v in valid.get("scores", [])]
        criteria.append(criterion)
    return criteria


def _value_problem(
    path: str, fields: dict[str, Field], key: str, value: Any
) -> tuple[str, str] | None:
    """(rule code, message) for what is wrong with `value` at `path` (an unknown key, a wrong
    type, not an allowed choice, not finite); None when it is fine."""
    field = fields.get(key)
    if field is None:
        return ("GX103", f'Unknown key "{path}" in env.toml.{did_you_mean(key, list(fields))}')
    if not _type_ok(field, value):
        return (
            "GX104",
            f'"{path}" must be {_TYPE_NAMES[field.type]}, not {describe_type(value, toml=True)}.',
        )
    if field.choices is not None:
        items = value if isinstance(value, list) else [value]
        bad = [v for v in items if v not in field.choices]
        if bad:
            allowed = ", ".join(f'"{c}"' for c in field.choices)
            return (
                "GX105",
                f'"{path}" cannot be "{bad[0]}"; allowed: '
                f"{allowed}.{did_you_mean(bad[0], field.choices)}",
            )
    if field.type in ("number", "numbers", "range"):
        numbers = value if isinstance(value, list) else [value]
        if not all(math.isfinite(float(v)) for v in numbers):
            return ("GX104", f'"{path}" must be {expected("finite number")} (not nan or inf).')
    return None


def _check_schema(
    data: dict[str, Any], where: Callable[[str], dict[str, Any]], emit: Callable[[Finding], None]
) -> None:
    schema = data.get("schema")
    if "schema" not in data:
        emit(
            rule("GX102").finding(
                f'env.toml does not say its format; expected schema = "{SCHEMA}".',
                **where("schema"),
            )
        )
    elif isinstance(schema, str) and schema != SCHEMA:
        emit(
            rule("GX102").finding(
                f'Unsupported schema "{schema}"; this version of Gauntlet Studio reads "{SCHEMA}".',
                **where("schema"),
            )
        )


def _check_required(
    data: dict[str, Any], where: Callable[[str], dict[str, Any]], emit: Callable[[Finding], None]
) -> None:
    for path in REQUIRED[1:]:
        table, _, key = path.partition(".")
        if isinstance(data.get(table, {}), dict) and key not in data.get(table, {}):
            emit(
                rule("GX106").finding(
                    f'env.toml needs "{path}".',
                    f"Add `{key} = ...` under [{table}] in env.toml.",
                    **where(path),
                )
            )


def _build_manifest(valid: dict[str, dict[str, Any]]) -> Manifest:
    """The typed manifest from the values that passed (defaults for the rest)."""
    pkg, grader, sandbox = valid["package"], valid["grader"], valid["sandbox"]
    package = PackageInfo(**{k: (list(v) if isinstance(v, list) else v) for k, v in pkg.items()})
    spec = GraderSpec(**{k: v for k, v in grader.items() if k not in ("reward_range", "criteria")})
    if "reward_range" in grader:
        spec.reward_range = (float(grader["reward_range"][0]), float(grader["reward_range"][1]))
    for number in ("tolerance", "pass_threshold", "timeout_s", "threshold"):
        if number in grader:
            setattr(spec, number, float(grader[number]))
    box = SandboxSpec(**sandbox)
    if "cpus" in sandbox:
        box.cpus = float(sandbox["cpus"])
    agent = AgentSpec(
        **{k: (list(v) if isinstance(v, list) else v) for k, v in valid["agent"].items()}
    )
    verifier = VerifierSpec(**valid["verifier"])
    for phase in (agent, verifier):
        phase.timeout_s = float(phase.timeout_s)
    manifest = Manifest(
        schema=valid[""].get("schema", SCHEMA),
        kind=valid[""].get("kind", "qa"),
        package=package,
        grader=spec,
        sandbox=box,
        agent=agent,
        verifier=verifier,
    )
    for table, attr in (
        ("tasks", "tasks_path"),
        ("solutions", "solutions_path"),
        ("negatives", "negatives_path"),
    ):
        if "path" in valid[table]:
            setattr(manifest, attr, valid[table]["path"])
    return manifest
