"""Fixtures for the attack tests: the corpus, and the Docker sandbox they need."""

from __future__ import annotations

import pytest
from support.services import docker_available, need, sandbox_image_available


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
