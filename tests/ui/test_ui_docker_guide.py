"""The first-run guide to Docker, in its three states a new user meets: Docker missing, installed
but not running, and ready. Each state comes from the real sandbox doctor, made to see this
machine differently (no `docker` anywhere; an engine socket that does not exist; the real
engine), and each is photographed into test-artifacts/screenshots/ for people to look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.services import docker_available, need, sandbox_image_available

from app.sandbox import docker_install
from app.sandbox.docker_install import installer_for
from app.sync.credentials import CredentialStore
from app.ui.app_settings import AppSettings
from app.ui.docker_guide import WEAKER_SANDBOX
from app.ui.error_reporter import ErrorReporter
from app.ui.main_window import MainWindow
from app.ui.sandbox_status import (
    DOCKER_MISSING,
    DOCKER_NO_IMAGE,
    DOCKER_READY,
    DOCKER_STOPPED,
)
from app.ui.theme import apply_theme

SCREENSHOTS = Path(
    os.environ.get(
        "GAUNTLET_SCREENSHOTS",
        Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots",
    )
)


@pytest.fixture
def no_docker_installed(monkeypatch, tmp_path):
    """A computer without Docker: no `docker` on PATH, none of the places it installs to, and
    nothing listening where the SDK looks for the engine."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(docker_install, "_known_locations", lambda _os: [])
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-engine.sock'}")


@pytest.fixture
def docker_not_running(monkeypatch, tmp_path):
    """Docker's command is installed, but its engine does not answer (nothing on the socket)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_cli = bin_dir / "docker"  # only its presence on PATH matters to the doctor
    fake_cli.write_text("#!/bin/sh\nexit 1\n")
    fake_cli.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'stopped-engine.sock'}")


@pytest.fixture
def studio_theme(qapp):
    """The app's own style sheet, as the app applies it, so the photographs show the real
    look; the test application's style is put back afterwards."""
    from PySide6.QtWidgets import QStyleFactory

    style, palette, sheet = qapp.style().name(), qapp.palette(), qapp.styleSheet()
    apply_theme(qapp, "light")
    yield
    qapp.setStyleSheet(sheet)
    qapp.setStyle(QStyleFactory.create(style))
    qapp.setPalette(palette)


def open_window(qtbot, qapp, tmp_path) -> MainWindow:
    settings = AppSettings()
    window = MainWindow(
        settings,
        CredentialStore(),
        ErrorReporter(),
        connect_platform=False,
        check_sandbox=True,
        folder_picker=lambda *_: str(tmp_path / "envs"),
    )
    qtbot.addWidget(window)
    window.resize(1200, 820)
    window.show()
    return window


def wait_for_check(qtbot, window, timeout_ms: int = 90000) -> None:
    qtbot.waitUntil(lambda: window._diagnosis is not None, timeout=timeout_ms)
    qtbot.waitUntil(lambda: not window.job_runner.running, timeout=timeout_ms)


def photograph(qtbot, window, name: str) -> None:
    """The banner over the first screen, then Settings → Sandbox."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    qtbot.wait(50)
    assert window.grab().save(str(SCREENSHOTS / f"docker-guide-{name}-banner.png"))
    window.show_screen("settings")
    view = window.settings_view
    qtbot.waitUntil(lambda: view.docker_guide.state == window._diagnosis.docker, timeout=5000)
    view.show_sandbox()
    qtbot.wait(50)
    assert window.grab().save(str(SCREENSHOTS / f"docker-guide-{name}-settings.png"))


def test_docker_missing_says_what_docker_is_and_links_this_computers_installer(
    qtbot, qapp, studio_theme, async_loop, tmp_path, no_docker_installed
):
    window = open_window(qtbot, qapp, tmp_path)
    try:
        wait_for_check(qtbot, window)
        assert window._diagnosis.docker == DOCKER_MISSING
        banner = window.docker_banner
        assert banner.isVisible()
        assert banner.title.text() == "Docker is not installed yet"
        assert "sealed box" in banner.body.text()
        # The weaker sandbox, said calmly: the user's own packages are still checked.
        assert banner.reassurance.isVisible()
        assert banner.reassurance.text() == WEAKER_SANDBOX
        expected = installer_for()
        assert banner.download.isVisible()
        assert banner.download.text() == expected.action
        assert banner.property("kind") == "guide"  # a calm accent, not a warning colour
        photograph(qtbot, window, "missing")
        guide = window.settings_view.docker_guide
        assert guide.steps.isVisible() and guide.steps.text() == expected.steps
        # A separate step-by-step page only where the download is a file (macOS, Windows).
        assert guide.guide_link.isVisible() == (expected.url != expected.guide)
        assert expected.action in guide.download.text()
        # "Check again" runs the doctor again and finds the same.
        guide.recheck.click()
        qtbot.waitUntil(lambda: not window.job_runner.running, timeout=90000)
        qtbot.waitUntil(lambda: guide.recheck.isEnabled(), timeout=90000)
        assert guide.state == DOCKER_MISSING
        # The banner steps aside on Settings (which has the full guide), and comes back.
        assert not window.docker_banner.isVisible()
        window.show_screen("bounties")
        assert window.docker_banner.isVisible()
        # "Don't show again" puts the banner away for good (Settings still guides).
        window.docker_banner.never.click()
        assert not window.docker_banner.isVisible()
        assert window.settings.docker_guide_dismissed
    finally:
        window.close()


def test_docker_installed_but_not_running_says_how_to_start_it(
    qtbot, qapp, studio_theme, async_loop, tmp_path, docker_not_running
):
    window = open_window(qtbot, qapp, tmp_path)
    try:
        wait_for_check(qtbot, window)
        assert window._diagnosis.docker == DOCKER_STOPPED
        banner = window.docker_banner
        assert banner.isVisible()
        assert banner.title.text() == "Docker is installed but not running"
        assert "What to do: " in banner.body.text()
        assert not banner.download.isVisible()  # it is installed: no download offered
        assert banner.recheck.isVisible()
        assert banner.reassurance.isVisible()
        photograph(qtbot, window, "not-running")
        window.show_screen("bounties")
        window.docker_banner.later.click()  # "Not now": away for this session only
        assert not window.docker_banner.isVisible()
        assert not window.settings.docker_guide_dismissed
    finally:
        window.close()


@pytest.mark.docker
def test_docker_ready_puts_the_banner_away_and_settings_say_so(
    qtbot, qapp, studio_theme, async_loop, tmp_path
):
    need("docker", docker_available(), "no Docker engine")
    need("sandbox image", sandbox_image_available(), "the sandbox image is not built")
    window = open_window(qtbot, qapp, tmp_path)
    try:
        wait_for_check(qtbot, window)
        assert window._diagnosis.docker == DOCKER_READY
        assert not window.docker_banner.isVisible()  # nothing to guide: no banner at all
        photograph(qtbot, window, "ready")
        guide = window.settings_view.docker_guide
        assert guide.title.text() == "Docker is ready"
        assert not guide.reassurance.isVisible() and not guide.download.isVisible()
        assert guide.property("kind") == "ready"
    finally:
        window.close()


@pytest.mark.docker
def test_docker_without_the_sandbox_image_offers_to_build_it(
    qtbot, qapp, studio_theme, async_loop, tmp_path, monkeypatch
):
    need("docker", docker_available(), "no Docker engine")
    monkeypatch.setenv("GAUNTLET_SANDBOX_IMAGE", "gauntlet-sandbox:never-built-here")
    window = open_window(qtbot, qapp, tmp_path)
    try:
        wait_for_check(qtbot, window)
        assert window._diagnosis.docker == DOCKER_NO_IMAGE
        banner = window.docker_banner
        assert banner.isVisible() and banner.title.text() == "Docker is ready: one last step"
        assert banner.build.isVisible() and not banner.download.isVisible()
        photograph(qtbot, window, "no-image")
        assert window.settings_view.docker_guide.build.isVisible()
    finally:
        window.close()


def test_the_image_build_fills_a_real_progress_bar(qtbot, qapp, studio_theme, async_loop, tmp_path):
    """The bar is busy until the build reports its first step, then shows steps done."""
    from app.ui.docker_guide import DockerGuide

    guide = DockerGuide()
    qtbot.addWidget(guide)
    guide.build_started()
    assert guide.progress.isVisibleTo(guide) and guide.progress.maximum() == 0
    guide.build_step(1, 2)
    assert (guide.progress.value(), guide.progress.maximum()) == (1, 2)
    guide.build_finished(True, "The sandbox image is ready.")
    assert not guide.progress.isVisibleTo(guide)
    assert guide.build_status.text() == "The sandbox image is ready."
