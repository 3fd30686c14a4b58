"""Fixtures for the sandbox tests: the two backends (Docker needs the engine and the default
image; see support.services) and a private temporary folder to check for leftovers."""

from __future__ import annotations

from pathlib import Path

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
    from app.sandbox.backends import get_backend

    return get_backend("docker")


@pytest.fixture(scope="session")
def process_backend():
    from app.sandbox.backends import get_backend

    # chosen explicitly, for packages the tests write themselves (the tests' own packages)
    return get_backend("process", own_package=True)


@pytest.fixture
def private_tempdir(monkeypatch):
    """Snapshots and scratch folders of this test land here, so leftovers can be checked."""
    import shutil
    import tempfile

    # Under the system's temporary folder, not tmp_path: a runner started by root runs as
    # nobody (bubblewrap too), and must be able to reach the package snapshot made here.
    folder = Path(tempfile.mkdtemp(prefix="gauntlet-test-", dir="/tmp"))
    folder.chmod(0o711)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
