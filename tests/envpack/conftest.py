"""Pytest fixtures for the env pack tests (package builders: support/envpack_packages)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.envpack_packages import base_files, write_files


@pytest.fixture
def make_pack(tmp_path: Path) -> Callable[..., Path]:
    """Writes a package (the valid base package by default) into a fresh folder."""
    counter = iter(range(10_000))

    def make(files: dict | None = None, name: str | None = None) -> Path:
        folder = tmp_path / (name or f"pack{next(counter)}")
        return write_files(folder, base_files() if files is None else files)

    return make
