"""Fixtures for the attack tests: the corpus, and the Docker sandbox they need."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from support.services import docker_available, need, sandbox_image_available

CORPUS = Path(__file__).parent / "corpus"


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


@pytest.fixture
def docker_sandbox() -> None:
    need(
        "docker sandbox",
        docker_available() and sandbox_image_available(),
        (
            "needs a running Docker engine and the sandbox "
            "image (`gauntlet sandbox image --from-debian`)"
        ),
    )
