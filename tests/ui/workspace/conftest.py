"""Fixtures for the Workspace tests: a real env pack made from a bundled template."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.envpack.templates import create_from_template


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    """A fresh qa-numeric package (comments in env.toml, five tasks, references, negatives)."""
    return create_from_template(
        "qa-numeric", tmp_path / "enzyme-kinetics", package_name="lab/enzyme-kinetics"
    )


@pytest.fixture
def agentic_pack(tmp_path: Path) -> Path:
    """A fresh agentic package (kind = "agentic": two task folders under tasks/)."""
    return create_from_template(
        "agentic-data", tmp_path / "instrument-qc", package_name="lab/instrument-qc"
    )


def open_workspace(qtbot, package: Path):
    from app.ui.workspace import WorkspaceView

    view = WorkspaceView()
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    view.open_package(package)
    qtbot.waitUntil(lambda: not view.is_linting(), timeout=20_000)
    return view


@pytest.fixture
def workspace(qtbot, pack):
    view = open_workspace(qtbot, pack)
    yield view
    view.shutdown()


@pytest.fixture
def agentic_workspace(qtbot, agentic_pack):
    view = open_workspace(qtbot, agentic_pack)
    yield view
    view.shutdown()
