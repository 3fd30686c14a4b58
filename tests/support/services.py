"""Which real components this test run has, and one rule for when one is missing.

Locally a test that needs a missing service skips with the reason; on CI
(`GAUNTLET_REQUIRE_SERVICES=1`, set by ./run-tests) it fails, so a broken setup can never
turn the suite green by skipping.
"""

from __future__ import annotations

import functools
import os
import subprocess

import pytest

SANDBOX_IMAGE_ENV = "GAUNTLET_SANDBOX_IMAGE"


def services_required() -> bool:
    return os.environ.get("GAUNTLET_REQUIRE_SERVICES") == "1"


def need(service: str, available: bool, reason: str) -> None:
    """Skip (locally) or fail (CI) the calling test when `service` is not available."""
    if available:
        return
    message = f"{service} not available: {reason}"
    if services_required():
        pytest.fail(
            f"{message} (GAUNTLET_REQUIRE_SERVICES=1: CI must provide it; see .ci/start-services)"
        )
    pytest.skip(message)


@functools.cache
def docker_available() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
        client.close()
        return True
    except Exception:
        return False


def sandbox_image_available() -> bool:
    if not docker_available():
        return False
    try:
        from app.sandbox.images import default_image_present  # sandbox helper's API
    except ImportError:
        return False
    try:
        return bool(default_image_present())
    except Exception:
        return False


def postgres_url() -> str | None:
    return os.environ.get("GAUNTLET_TEST_POSTGRES_URL") or None


def keyring_session() -> bool:
    """True inside .ci/with-keyring: a D-Bus session with an unlocked gnome-keyring."""
    return os.environ.get("GAUNTLET_TEST_KEYRING") == "secret-service" and bool(
        os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    )


def xvfb_display() -> str | None:
    display = os.environ.get("GAUNTLET_XVFB_DISPLAY")
    if not display:
        return None
    try:
        subprocess.run(
            ["xdpyinfo", "-display", display], capture_output=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return display
