"""The sandbox as the window shows it: the doctor's checks summarised in plain words, and the
image build. Both block (Docker SDK calls), so the window runs them in worker threads."""

from __future__ import annotations

import html
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field

# Where Docker stands, in the order a new user meets the states.
DOCKER_MISSING = "missing"  # not installed
DOCKER_STOPPED = "stopped"  # installed, but the engine does not answer
DOCKER_DENIED = "denied"  # the engine runs, but this user may not use it
DOCKER_NO_IMAGE = "no-image"  # the engine answers; the sandbox image is not built yet
DOCKER_BROKEN = "broken"  # the image is there, but the container limits do not hold
DOCKER_READY = "ready"


@dataclass(slots=True)
class Diagnosis:
    backend: str  # what the user chose: auto | docker | process
    ready: bool  # the chosen backend can run graders now
    summary: str  # one line for the status bar
    checks: list = field(default_factory=list)  # app.sandbox.doctor.Check
    docker: str = DOCKER_MISSING  # one of the DOCKER_* states
    weaker_sandbox_ok: bool = False  # the process sandbox can run graders here

    def html(self) -> str:
        lines = [f"<b>{html.escape(self.summary)}</b>"]
        if self.checks:
            lines.append("<ul style='margin-left:-20px'>")
            for check in self.checks:
                mark = "✔" if check.ok else ("–" if check.optional else "✘")
                colour = "#2e7d32" if check.ok else ("gray" if check.optional else "#c62828")
                text = f"<span style='color:{colour}'>{mark}</span> {html.escape(check.name)}"
                if check.detail:
                    text += f" <span style='color:gray'>({html.escape(check.detail[:160])})</span>"
                if not check.ok and check.fix:
                    text += f"<br>&nbsp;&nbsp;&nbsp;<i>How to fix:</i> {html.escape(check.fix)}"
                lines.append(f"<li>{text}</li>")
            lines.append("</ul>")
        return "".join(lines)


def docker_state(checks: list) -> str:
    """The one DOCKER_* state the doctor's checks add up to."""
    by_name = {c.name: c for c in checks}
    installed = by_name.get("docker installed")
    reachable = by_name.get("docker running and reachable")
    image = by_name.get("sandbox image present")
    limits = by_name.get("sandbox limits work")
    if reachable is None or not reachable.ok:
        if reachable is not None and "permission denied" in reachable.detail.lower():
            return DOCKER_DENIED
        return DOCKER_STOPPED if installed is not None and installed.ok else DOCKER_MISSING
    if image is None or not image.ok:
        return DOCKER_NO_IMAGE
    if limits is not None and not limits.ok:
        return DOCKER_BROKEN
    return DOCKER_READY


def diagnose(backend: str = "auto") -> Diagnosis:
    """Run the sandbox doctor (blocking: Docker calls, a probe container)."""
    from app.sandbox.doctor import doctor

    checks = doctor()
    by_name = {c.name: c for c in checks}
    docker_ok = all(
        c.ok
        for c in checks
        if c.name
        in ("docker running and reachable", "sandbox image present", "sandbox limits work")
    )
    docker_reachable = by_name.get("docker running and reachable")
    image = by_name.get("sandbox image present")
    can_build = bool(
        docker_reachable and docker_reachable.ok and image is not None and not image.ok
    )
    process_ok = (
        all(c.ok for c in checks if c.name.startswith("process") and not c.optional)
        if any(c.name.startswith("process") for c in checks)
        else True
    )
    if backend == "process":
        ready = process_ok
        summary = (
            "Local process sandbox ready (weaker isolation than Docker)."
            if ready
            else "The local process sandbox cannot run here."
        )
    elif docker_ok:
        ready, summary = True, "Docker sandbox ready."
    elif backend == "auto" and process_ok:
        ready = True
        summary = (
            "Docker is not ready, so graders run in a local process sandbox (weaker isolation). "
            + (
                "Build the sandbox image to use Docker."
                if can_build
                else "See below how to get Docker working."
            )
        )
    else:
        ready = False
        summary = (
            "The Docker sandbox is not ready: "
            + next((c.name for c in checks if not c.ok and not c.optional), "see below")
            + "."
        )
    return Diagnosis(
        backend,
        ready,
        summary,
        checks,
        docker=docker_state(checks),
        weaker_sandbox_ok=process_ok,
    )


def status_line(diagnosis: Diagnosis) -> str:
    if diagnosis.ready and "Docker sandbox ready" in diagnosis.summary:
        return "Sandbox: Docker ready"
    if diagnosis.ready:
        return "Sandbox: local process (weaker)"
    return "Sandbox: not ready — see Settings"


def _no_step(_done: int, _total: int) -> None:
    pass


def build_image(say: Callable[[str], None], step: Callable[[int, int], None] = _no_step) -> str:
    """Build the default sandbox image, reporting (steps done, steps in all) to `step`. Without
    a container registry (air-gapped machines) fall back to building it from this machine's
    Debian packages when mmdebstrap is installed."""
    from app.sandbox.docker_engine import engine_client
    from app.sandbox.images import build_default_image

    client = engine_client(timeout=600)
    try:
        try:
            return build_default_image(client, say=say, step=step)
        except Exception as first:
            if not shutil.which("mmdebstrap"):
                raise
            say(
                f"Building from the Python base image failed ({str(first)[:120]}); "
                "building from Debian packages instead…"
            )
            return build_default_image(client, from_debian=True, say=say, step=step)
    finally:
        client.close()
