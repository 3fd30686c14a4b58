"""The attack corpus (tests/attacks/corpus/): graders with planted flaws, robust ones, and
what each is expected to show (its expect.toml)."""

from __future__ import annotations

import tomllib
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "attacks" / "corpus"


def corpus_names(*, robust: bool | None = None) -> list[str]:
    names = []
    for folder in sorted(CORPUS.iterdir()):
        if not (folder / "expect.toml").exists():
            continue
        if robust is None or corpus_expectation(folder.name)["robust"] == robust:
            names.append(folder.name)
    return names


def corpus_expectation(name: str) -> dict:
    return tomllib.loads((CORPUS / name / "expect.toml").read_text(encoding="utf-8"))
