"""Helpers for the sandbox tests: packages written to disk and loaded by the real loader."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path


def write_pack(
    root: Path,
    *,
    grader: str,
    tasks: list[dict],
    solutions: list[dict],
    negatives: list[dict] | None = None,
    grader_py: str | None = None,
    kind: str = "qa",
    sandbox: str = "",
    extra_files: dict[str, str] | None = None,
    own: bool = True,
) -> Path:
    """A complete package folder; `grader` is the body of the [grader] table. `own`: recorded
    as created on this machine (else it is someone else's, see app.envpack.provenance)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "env.toml").write_text(
        textwrap.dedent(
            f"""\
            schema = "gauntlet/1"
            kind = "{kind}"

            [package]
            name = "tests/sandbox-pack"
            version = "0.1.0"
            title = "Sandbox test package"
            description = "A package written by the sandbox tests."
            authors = ["Tests <tests@example.org>"]
            license = "CC-BY-4.0"

            [tasks]
            path = "tasks.jsonl"

            [grader]
            """
        )
        + textwrap.dedent(grader).strip()
        + '\n\n[solutions]\npath = "solutions.jsonl"\n\n[negatives]\npath = "negatives.jsonl"\n'
        + (f"\n[sandbox]\n{textwrap.dedent(sandbox).strip()}\n" if sandbox else ""),
        encoding="utf-8",
    )
    (root / "README.md").write_text(
        "# Sandbox test package\n\nWritten by tests/sandbox.\n", encoding="utf-8"
    )
    _jsonl(root / "tasks.jsonl", tasks)
    _jsonl(root / "solutions.jsonl", solutions)
    _jsonl(root / "negatives.jsonl", negatives or [])
    if grader_py is not None:
        (root / "grader.py").write_text(textwrap.dedent(grader_py), encoding="utf-8")
    for name, text in (extra_files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    if own:
        from app.envpack.provenance import record_created

        record_created(root)  # as if `gauntlet new` made it: the tests' own package
    return root


def _jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def load(root: Path):
    from app.envpack.loader import load_envpack

    loaded = load_envpack(root)
    assert loaded.pack is not None, [f.message for f in loaded.findings]
    return loaded.pack


def own_containers() -> list:
    """Sandbox containers owned by this test process (never other runs')."""
    import docker

    client = docker.from_env(timeout=30)
    return client.containers.list(
        all=True, filters={"label": ["gauntlet.sandbox=1", f"gauntlet.owner.pid={os.getpid()}"]}
    )
