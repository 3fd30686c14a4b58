"""`gauntlet sandbox doctor`: is the sandbox usable here, and if not, what to do — in plain words
for Linux, macOS and Windows."""

from __future__ import annotations

import platform
import shutil
from dataclasses import asdict, dataclass
from typing import Any

from app.sandbox.docker_install import host_os


@dataclass(slots=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    fix: str = ""
    optional: bool = False  # a failed optional check does not make the sandbox unusable

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def install_advice() -> str:
    return {
        "linux": (
            "install Docker Engine (Debian/Ubuntu: `sudo apt-get install "
            "docker.io`), then start it with `sudo systemctl start docker`"
        ),
        "macos": (
            "install Docker Desktop from docker.com (or `brew install "
            "--cask docker`), then open it once from Applications"
        ),
        "windows": (
            "install Docker Desktop from docker.com (it "
            "uses WSL 2), then start it from the Start menu"
        ),
    }.get(host_os(), "install Docker from docker.com")


def running_advice() -> str:
    return {
        "linux": (
            "start the engine with `sudo systemctl start docker` "
            "(and `sudo systemctl enable docker` to start it at boot)"
        ),
        "macos": "open Docker Desktop and wait until its whale icon stops animating",
        "windows": "start Docker Desktop and wait until it says 'Engine running'",
    }.get(host_os(), "start the Docker engine")


def permission_advice() -> str:
    return {
        "linux": (
            "let your user talk to Docker: "
            "`sudo usermod -aG docker $USER`, then log out and back in"
        ),
        "macos": "restart Docker Desktop; if that does not help, reinstall it",
        "windows": (
            "run Docker Desktop once as your user and make sure you are in the 'docker-users' group"
        ),
    }.get(host_os(), "give your user access to the Docker engine")


def docker_advice() -> str:
    """The one-line advice for 'Docker is not usable', used in SandboxUnavailable hints."""
    if not shutil.which("docker") and host_os() != "windows":
        return install_advice() + "; or run with `--backend process` (weaker isolation)"
    return (
        running_advice()
        + "; if it runs, "
        + permission_advice()
        + ". Run `gauntlet sandbox doctor` for details"
    )


def doctor(image: str | None = None) -> list[Check]:
    from app.sandbox.images import default_image, image_present

    image = image or default_image()
    checks = [_install_check()]
    client, reachable = _engine_check()
    checks.append(reachable)
    if client is None:
        return checks + _process_checks()
    present = image_present(client, image)
    checks.append(
        Check(
            "sandbox image present",
            present,
            image,
            ""
            if present
            else (
                "build it: `gauntlet sandbox image` (no internet: "
                "`gauntlet sandbox image --from-debian` on Debian/Ubuntu)"
            ),
        )
    )
    if present:
        checks.append(_limits_check(client, image))
    checks.extend(_process_checks())
    return checks


def _install_check() -> Check:
    from app.sandbox.docker_install import find_docker_install

    cli = find_docker_install()
    return Check(
        "docker installed",
        bool(cli),
        cli or "neither the `docker` command nor the Docker app was found",
        "" if cli else install_advice(),
        optional=True,
    )


def _engine_check() -> tuple[Any, Check]:
    """A client for the engine (None when it cannot be reached), and the check that says so."""
    try:
        from app.sandbox.docker_engine import engine_client

        client = engine_client(timeout=20)
        version = client.version()
    except Exception as exc:  # noqa: BLE001
        text = str(exc)
        denied = "permission denied" in text.lower()
        return None, Check(
            "docker running and reachable",
            False,
            text[:300],
            permission_advice() if denied else running_advice(),
        )
    detail = (
        f"engine {version.get('Version', '?')} "
        f"({version.get('Os', '?')}/{version.get('Arch', '?')})"
    )
    return client, Check("docker running and reachable", True, detail)


# Run in a hardened container; it reports through its exit status (the engine keeps no logs of
# sandboxes): one bit per limit that does not hold.
LIMITS_PROBE = (
    "import os, socket, sys\n"
    "bad = 0\n"
    "if os.getuid() == 0: bad |= 1\n"
    "try:\n    open('/probe', 'w'); bad |= 2\nexcept OSError:\n    pass\n"
    "try:\n    socket.create_connection(('1.1.1.1', 53), "
    "timeout=2); bad |= 4\nexcept OSError:\n    pass\n"
    "caps = [l for l in open('/proc/self/status') if l.startswith('CapEff')][0].split()[1]\n"
    "if int(caps, 16): bad |= 8\n"
    "sys.exit(bad)\n"
)
LIMITS_PROBE_BITS = (
    (1, "runs as root"),
    (2, "root file system is writable"),
    (4, "network is reachable"),
    (8, "capabilities are not dropped"),
)


def _limits_check(client, image: str) -> Check:
    """Start a hardened container and prove, from inside, that the limits hold."""
    try:
        code = _run_limits_probe(client, image)
    except Exception as exc:  # noqa: BLE001
        return Check(
            "sandbox limits work",
            False,
            str(exc)[:300],
            "update Docker; the sandbox needs read-only containers, --network none and --cap-drop",
        )
    if code == 0:
        return Check(
            "sandbox limits work", True, "unprivileged, read-only, no network, no capabilities"
        )
    problems = [text for bit, text in LIMITS_PROBE_BITS if code > 0 and code & bit]
    return Check(
        "sandbox limits work",
        False,
        ", ".join(problems) or f"the probe failed (exit status {code})",
        (
            "update Docker (20.10 or newer) and make sure no "
            "daemon setting overrides container security options"
        ),
    )


def _run_limits_probe(client, image: str) -> int:
    """The probe's exit status, run with the sandbox's container options."""
    from app.sandbox.docker_backend import container_options
    from app.sandbox.limits import SandboxLimits

    options = container_options(
        image, None, SandboxLimits(timeout_s=10, memory_mb=256, cpus=1.0, jobs=1)
    )
    options.update(command=["python3", "-I", "-c", LIMITS_PROBE], stdin_open=False)
    container = None
    try:
        container = client.containers.create(**options)
        container.start()
        return int(container.wait(timeout=60).get("StatusCode", -1))
    finally:
        if container is not None:
            try:
                container.remove(force=True)
            except Exception:  # noqa: BLE001
                pass


def _process_checks() -> list[Check]:
    checks = []
    if host_os() == "linux":
        bwrap = shutil.which("bwrap")
        checks.append(
            Check(
                "bubblewrap for the process backend",
                bool(bwrap),
                bwrap or "not installed: the process backend would run with resource limits only",
                ""
                if bwrap
                else "`sudo apt-get install bubblewrap` (used only when Docker is not available)",
                optional=True,
            )
        )
    checks.append(
        Check(
            "platform",
            True,
            f"{platform.system()} {platform.release()} / Python {platform.python_version()}",
            optional=True,
        )
    )
    return checks
