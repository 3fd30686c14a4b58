"""Fixtures for the sandbox tests: the two backends (Docker needs the engine and the default
image; see support.services) and a private temporary folder to check for leftovers."""

from __future__ import annotations

import pytest
from support.services import docker_available, need, sandbox_image_available


@pytest.fixture(scope="session")
def docker_backend():
    need("docker", docker_available(), "no Docker engine reachable (start dockerd)")
    need(
        "sandbox image",
        sandbox_image_available(),
        "the sandbox image is missing: gauntlet sandbox image --from-debian",
    )
    from app.sandbox.select import get_backend

    return get_backend("docker")


@pytest.fixture(scope="session")
def process_backend():
    from app.sandbox.select import get_backend

    # chosen explicitly, for packages the tests write themselves (the tests' own packages)
    return get_backend("process", own_package=True)


@pytest.fixture
def private_tempdir(tmp_path, monkeypatch):
    """Snapshots and scratch folders of this test land here, so leftovers can be checked."""
    import tempfile

    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder
