"""Getting Docker: the installer this computer needs, finding an installed Docker, and finding
a per-user engine (Colima, Docker Desktop for Linux...) the SDK would not look for."""

from __future__ import annotations

import socket

import pytest

from app.sandbox import docker_engine, docker_install
from app.sandbox.docker_install import installer_for, linux_distribution


@pytest.mark.parametrize(
    ("os_name", "arch", "url_part", "name_part"),
    [
        ("macos", "arm64", "/mac/main/arm64/Docker.dmg", "Apple silicon"),
        ("macos", "amd64", "/mac/main/amd64/Docker.dmg", "Intel"),
        ("windows", "amd64", "/win/main/amd64/Docker%20Desktop%20Installer.exe", "x64"),
        ("windows", "arm64", "/win/main/arm64/Docker%20Desktop%20Installer.exe", "Arm"),
    ],
)
def test_desktop_installers_match_the_system_and_the_chip(os_name, arch, url_part, name_part):
    installer = installer_for(os_name, arch)
    assert installer.url.endswith(url_part)
    assert name_part in installer.name
    assert installer.action.startswith("Download ")
    assert installer.guide.startswith("https://docs.docker.com/desktop/")


def test_linux_gets_its_distributions_engine_guide(monkeypatch, tmp_path):
    release = tmp_path / "os-release"
    release.write_text('PRETTY_NAME="Ubuntu 24.04"\nID=ubuntu\nID_LIKE=debian\n')
    assert linux_distribution(release) == "ubuntu"
    monkeypatch.setattr(docker_install, "linux_distribution", lambda: "ubuntu")
    installer = installer_for("linux", "amd64")
    assert installer.url == "https://docs.docker.com/engine/install/ubuntu/"
    assert installer.action == "How to install Docker Engine on Ubuntu"
    assert "apt-get install docker.io" in installer.steps
    monkeypatch.setattr(docker_install, "linux_distribution", lambda: "gentoo")
    assert installer_for("linux", "amd64").url == "https://docs.docker.com/engine/install/"
    assert linux_distribution(tmp_path / "missing") == ""


def test_an_installed_docker_app_is_found_without_the_command_on_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # what the Finder gives an app: no docker
    app = tmp_path / "Applications" / "Docker.app"
    monkeypatch.setattr(docker_install, "_known_locations", lambda _os: [app])
    assert docker_install.find_docker_install("macos") is None
    app.mkdir(parents=True)
    assert docker_install.find_docker_install("macos") == str(app)


def test_a_per_user_engine_socket_becomes_docker_host(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(docker_engine, "SYSTEM_SOCKET", tmp_path / "no-system-socket")
    assert "DOCKER_HOST" not in docker_engine.engine_environment({})
    path = tmp_path / ".colima" / "default" / "docker.sock"
    path.parent.mkdir(parents=True)
    listener = socket.socket(socket.AF_UNIX)
    try:
        listener.bind(str(path))
        env = docker_engine.engine_environment({"LANG": "C"})
        assert env == {"LANG": "C", "DOCKER_HOST": f"unix://{path}"}
        # An explicit DOCKER_HOST, or the system socket, always wins.
        assert docker_engine.engine_environment({"DOCKER_HOST": "tcp://x:1"}) == {
            "DOCKER_HOST": "tcp://x:1"
        }
        monkeypatch.setattr(docker_engine, "SYSTEM_SOCKET", path)
        assert "DOCKER_HOST" not in docker_engine.engine_environment({})
    finally:
        listener.close()
