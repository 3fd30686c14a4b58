"""Getting Docker onto this computer: where its installer is for this OS and processor, and
whether Docker is installed even when its command is not on the app's PATH (an app started
from the macOS Finder or the Windows Start menu sees a shorter PATH than a terminal)."""

from __future__ import annotations

import os
import platform
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class DockerInstaller:
    name: str  # "Docker Desktop for Mac (Apple silicon)"
    url: str  # the download itself, or the install page when there is no single download
    guide: str  # the official step-by-step page
    steps: str  # plain words: what to do with it

    @property
    def action(self) -> str:
        """The words on the button that opens `url`."""
        if self.url == self.guide:
            return f"How to install {self.name}"
        return f"Download {self.name}"


def machine() -> str:
    """'arm64' or 'amd64' (Docker's names), from what the processor really is."""
    arch = platform.machine().lower()
    if arch in ("arm64", "aarch64", "armv8l", "armv8b"):
        return "arm64"
    return "amd64"


def host_os() -> str:
    """linux | macos | windows | other: the words the install links and advice are keyed by."""
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith("win"):
        return "windows"
    return "other"


def linux_distribution(os_release: Path = Path("/etc/os-release")) -> str:
    """The distribution's ID from os-release ('debian', 'ubuntu', 'fedora'...), or ''."""
    try:
        text = os_release.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    fields = dict(
        line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#")
    )
    return fields.get("ID", "").strip().strip('"').lower()


# Distributions with their own page in Docker's Engine install guide.
_ENGINE_GUIDES = ("debian", "ubuntu", "fedora", "centos", "rhel", "sles", "raspberry-pi-os")


def installer_for(os_name: str | None = None, arch: str | None = None) -> DockerInstaller:
    os_name = os_name or host_os()
    arch = arch or machine()
    if os_name == "macos":
        chip = "Apple silicon" if arch == "arm64" else "Intel"
        return DockerInstaller(
            f"Docker Desktop for Mac ({chip})",
            f"https://desktop.docker.com/mac/main/{arch}/Docker.dmg",
            "https://docs.docker.com/desktop/setup/install/mac-install/",
            "Open the downloaded Docker.dmg, drag Docker to Applications, then open Docker once "
            "from Applications and accept its terms. (Colima works too: `brew install colima "
            "docker`, then `colima start`.)",
        )
    if os_name == "windows":
        chip = "Arm" if arch == "arm64" else "x64"
        return DockerInstaller(
            f"Docker Desktop for Windows ({chip})",
            f"https://desktop.docker.com/win/main/{arch}/Docker%20Desktop%20Installer.exe",
            "https://docs.docker.com/desktop/setup/install/windows-install/",
            "Run the installer and keep 'Use WSL 2' ticked; restart Windows if it asks, then "
            "start Docker Desktop from the Start menu.",
        )
    if os_name == "linux":
        distro = linux_distribution()
        guide = (
            f"https://docs.docker.com/engine/install/{distro}/"
            if distro in _ENGINE_GUIDES
            else "https://docs.docker.com/engine/install/"
        )
        steps = (
            "In a terminal: `sudo apt-get install docker.io`, then "
            "`sudo usermod -aG docker $USER` and log out and back in."
            if distro in ("debian", "ubuntu", "linuxmint", "pop")
            else "Follow the guide for your distribution, then add yourself to the `docker` "
            "group (`sudo usermod -aG docker $USER`) and log out and back in."
        )
        where = distro.capitalize() if distro in _ENGINE_GUIDES else "Linux"
        return DockerInstaller(f"Docker Engine on {where}", guide, guide, steps)
    return DockerInstaller(
        "Docker",
        "https://docs.docker.com/get-started/get-docker/",
        "https://docs.docker.com/get-started/get-docker/",
        "Follow Docker's guide for your system.",
    )


def _known_locations(os_name: str) -> list[Path]:
    home = Path.home()
    if os_name == "macos":
        return [
            Path("/Applications/Docker.app"),
            home / "Applications" / "Docker.app",
            Path("/usr/local/bin/docker"),
            Path("/opt/homebrew/bin/docker"),
            Path("/opt/homebrew/bin/colima"),
            Path("/usr/local/bin/colima"),
        ]
    if os_name == "windows":
        program_files = Path(os.environ.get("PROGRAMFILES", r"C:\Program Files"))
        return [program_files / "Docker" / "Docker" / "Docker Desktop.exe"]
    return [Path("/usr/bin/docker"), Path("/usr/local/bin/docker"), Path("/usr/bin/dockerd")]


def find_docker_install(os_name: str | None = None) -> str | None:
    """Where Docker is installed (its command or its app), or None when it is not."""
    found = shutil.which("docker")
    if found:
        return found
    for path in _known_locations(os_name or host_os()):
        if path.exists():
            return str(path)
    return None
