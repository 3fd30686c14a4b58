"""Corrupt valid packages at random (bytes, truncated lines, wrong types, deleted files) and
check the loader and every check never raise: the answer is always findings or a clean result."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import tomlkit
import tomlkit.exceptions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.envpack_packages import (
    base_files,
    code_variant,
    judge_variant,
    python_variant,
    write_files,
)

from app.envpack.rules import RULES
from app.findings import Finding
from app.funnel.structure import run_structure_stage
from app.resources import resource_path

TEMPLATES = sorted(
    p.name for p in resource_path("templates").iterdir() if (p / "env.toml").is_file()
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
toml_values = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=3),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.sampled_from(["a", "type", "path"]), st.text(max_size=5), max_size=2),
)


def _package(source: str) -> dict[str, bytes]:
    if source.startswith("template:"):
        root = resource_path("templates", source.split(":", 1)[1])
        return {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }
    files = base_files()
    {"python": python_variant, "judge": judge_variant, "code": code_variant}.get(
        source, lambda f: None
    )(files)
    return {k: v.encode() if isinstance(v, str) else v for k, v in files.items() if v is not None}


@st.composite
def corruption(draw, files: dict[str, bytes]):
    name = draw(st.sampled_from(sorted(files)))
    data = files[name]
    kind = draw(
        st.sampled_from(
            [
                "bytes",
                "truncate",
                "delete-line",
                "delete-file",
                "json-type",
                "toml-type",
                "duplicate-line",
            ]
        )
    )
    if kind == "bytes":
        position = draw(st.integers(0, len(data)))
        junk = draw(st.binary(min_size=1, max_size=8))
        return name, data[:position] + junk + data[position:]
    if kind == "truncate":
        return name, data[: draw(st.integers(0, max(0, len(data) - 1)))]
    if kind == "delete-file":
        return name, None
    lines = data.split(b"\n")
    index = draw(st.integers(0, max(0, len(lines) - 1)))
    if kind == "delete-line":
        return name, b"\n".join(lines[:index] + lines[index + 1 :])
    if kind == "duplicate-line":
        return name, b"\n".join(lines[: index + 1] + lines[index:])
    if kind == "json-type" and name.endswith(".jsonl"):
        try:
            record = json.loads(lines[index])
        except ValueError:
            return name, data
        if isinstance(record, dict) and record:
            key = draw(st.sampled_from(sorted(record)))
            record[key] = draw(json_values)
        lines[index] = json.dumps(record).encode()
        return name, b"\n".join(lines)
    if kind == "toml-type" and name == "env.toml":
        try:
            document = tomlkit.parse(data.decode())
        except (ValueError, tomlkit.exceptions.TOMLKitError):
            return name, data  # already corrupted beyond what tomlkit reads: keep as is
        tables = [k for k, v in document.items() if isinstance(v, dict)] + [""]
        table = draw(st.sampled_from(tables))
        container = document[table] if table else document
        keys = sorted(container) or ["x"]
        key = draw(st.sampled_from(keys))
        try:
            container[key] = draw(toml_values)
        except (ValueError, TypeError, OverflowError):
            return name, data
        return name, tomlkit.dumps(document).encode("utf-8", "surrogatepass")
    return name, data


@st.composite
def corrupted_packages(draw):
    source = draw(
        st.sampled_from(["base", "python", "judge", "code"] + [f"template:{t}" for t in TEMPLATES])
    )
    files = _package(source)
    for _ in range(draw(st.integers(1, 3))):
        name, content = draw(corruption(files))
        if content is None:
            files.pop(name, None)
            if not files:
                break
        else:
            files[name] = content
    return files


def _assert_sane(findings: list[Finding]) -> None:
    for finding in findings:
        assert isinstance(finding, Finding)
        assert finding.code in RULES and finding.code != "GX199", (finding.code, finding.message)
        assert finding.message and finding.hint
        assert finding.line is None or finding.line >= 1


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted_packages())
def test_corrupted_packages_never_crash_the_checks(files: dict[str, bytes]) -> None:
    root = Path(tempfile.mkdtemp(prefix="gx-fuzz-"))
    try:
        write_files(root, files)
        loaded, findings = run_structure_stage(root)
        _assert_sane(findings)
        assert loaded.pack is not None or any(f.is_error for f in findings)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "env.toml",
                "tasks.jsonl",
                "solutions.jsonl",
                "negatives.jsonl",
                "grader.py",
                "rubric.md",
            ]
        ),
        st.text(max_size=300),
        max_size=6,
    )
)
def test_arbitrary_text_overrides_never_crash(overrides: dict[str, str]) -> None:
    root = Path(tempfile.mkdtemp(prefix="gx-fuzz-"))
    try:
        write_files(root, {k: v for k, v in base_files().items() if k != "README.md"})
        _, findings = run_structure_stage(root, overrides=overrides)
        _assert_sane(findings)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_manifest_text_never_crashes(text: str) -> None:
    root = Path(tempfile.mkdtemp(prefix="gx-fuzz-"))
    try:
        write_files(root, base_files())
        _, findings = run_structure_stage(
            root, overrides={"env.toml": 'schema = "gauntlet/1"\n' + text}
        )
        _assert_sane(findings)
    finally:
        shutil.rmtree(root, ignore_errors=True)
