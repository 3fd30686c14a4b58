"""The sandbox images: the default one (Python 3 + an unprivileged user) and per-package ones.

Two ways to build the default image:
- normal: `docker build` of `app/sandbox/Dockerfile` from the official python:3.11-slim image;
- offline (`--from-debian`): `mmdebstrap` builds a minimal Debian from this machine's own apt
  sources and `docker import` turns it into an image. No container registry needed; this is how
  CI builds it.
A package's own `environment/Dockerfile` builds on top of the default image (build argument
`GAUNTLET_BASE`), and is cached by the hash of its folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.envpack.model import EnvPack
from app.errors import UserError
from app.sandbox.base import SandboxUnavailable

log = logging.getLogger(__name__)

# Bump the number when the image's contents must change (the runner is mounted, not baked in).
DEFAULT_IMAGE = "gauntlet-sandbox:py3-1"
DOCKERFILE = Path(__file__).resolve().parent / "Dockerfile"
SANDBOX_UID = 10001
DEBIAN_PACKAGES = ("python3-minimal", "libpython3.11-stdlib")
IMAGE_CHANGES = (
    "USER 10001:10001",
    "WORKDIR /tmp",
    'CMD ["python3"]',
    'LABEL gauntlet.sandbox.image="1"',
    "ENV LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin",
)

Say = Callable[[str], None]
# How far a build is: (steps done, steps in all); lets the app draw a real progress bar.
Step = Callable[[int, int], None]
_BUILD_STEP = re.compile(r"^Step (\d+)/(\d+)\b")


def _no_step(_done: int, _total: int) -> None:
    pass


def default_image() -> str:
    return os.environ.get("GAUNTLET_SANDBOX_IMAGE") or DEFAULT_IMAGE


def default_image_present() -> bool:
    """Is the default sandbox image on this machine? (False when Docker is not reachable.)"""
    from app.sandbox.docker_backend import docker_client

    try:
        return image_present(docker_client(timeout=10), default_image())
    except SandboxUnavailable:
        return False


def image_present(client: Any, tag: str) -> bool:
    import docker.errors

    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def build_default_image(
    client: Any,
    tag: str | None = None,
    *,
    from_debian: bool = False,
    say: Say = print,
    step: Step = _no_step,
) -> str:
    tag = tag or default_image()
    if from_debian:
        build_from_debian(client, tag, say=say, step=step)
    else:
        build_from_python_base(client, tag, say=say, step=step)
    return tag


def build_from_python_base(
    client: Any, tag: str, *, say: Say = print, step: Step = _no_step
) -> None:
    import docker.errors

    say(f"building {tag} from python:3.11-slim (needs access to a container registry)…")
    with tempfile.TemporaryDirectory(prefix="gauntlet-image-") as context:
        shutil.copy(DOCKERFILE, Path(context) / "Dockerfile")
        try:
            # The low-level call streams the build, so each "Step n/m" reaches the progress bar.
            stream = client.api.build(
                path=context, tag=tag, rm=True, forcerm=True, pull=False, decode=True
            )
            for entry in stream:
                if not isinstance(entry, dict):
                    continue
                if entry.get("error"):
                    raise UserError(
                        f"building the sandbox image failed: {entry['error'].strip()}",
                        "without internet access, build it from Debian packages: "
                        "`gauntlet sandbox image --from-debian`",
                    )
                text = entry.get("stream", "").strip()
                if text:
                    log.debug(text)
                    found = _BUILD_STEP.match(text)
                    if found:
                        step(int(found.group(1)) - 1, int(found.group(2)))
        except docker.errors.APIError as exc:
            raise UserError(
                f"Docker refused to build the sandbox image: {exc.explanation or exc}",
                (
                    "check that Docker can reach docker.io, "
                    "or use `gauntlet sandbox image --from-debian`"
                ),
            ) from exc
    step(1, 1)
    say(f"built {tag}")


def apt_sources() -> list[str]:
    """This machine's Debian mirrors as one-line `deb` entries (deb822 and legacy formats)."""
    lines: list[str] = []
    legacy = [
        Path("/etc/apt/sources.list"),
        *sorted(Path("/etc/apt/sources.list.d").glob("*.list")),
    ]
    for path in legacy:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("deb "):
                lines.append(line)
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for stanza in re.split(r"\n\s*\n", text):
            fields: dict[str, str] = {}
            for raw in stanza.splitlines():
                if raw.startswith("#") or ":" not in raw:
                    continue
                key, _, value = raw.partition(":")
                fields[key.strip().lower()] = value.strip()
            if (
                "deb" not in fields.get("types", "").split()
                or fields.get("enabled", "yes").lower() == "no"
            ):
                continue
            options = (
                f"[signed-by={fields['signed-by']}] "
                if fields.get("signed-by", "").startswith("/")
                else ""
            )
            for uri in fields.get("uris", "").split():
                for suite in fields.get("suites", "").split():
                    lines.append(
                        f"deb {options}{uri} {suite} {fields.get('components', 'main')}".strip()
                    )
    return lines


def debian_suite(sources: list[str]) -> str:
    """The release the machine uses (bookworm…), from os-release or the sources."""
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    for line in sources:
        parts = line.split()
        if len(parts) >= 3:
            return parts[-2]
    return "bookworm"


def build_from_debian(client: Any, tag: str, *, say: Say = print, step: Step = _no_step) -> None:
    mmdebstrap = shutil.which("mmdebstrap")
    if not mmdebstrap:
        raise UserError(
            "mmdebstrap is not installed, so the image cannot be built from Debian packages",
            (
                "install it with `sudo apt-get install mmdebstrap`, "
                "or build normally with `gauntlet sandbox image`"
            ),
        )
    sources = [line for line in apt_sources() if "debian" in line]
    if not sources:
        raise UserError(
            "no Debian package sources were found in /etc/apt/sources.list(.d)",
            "this offline build needs a Debian machine with working apt sources",
        )
    suite = debian_suite(sources)
    say(f"building {tag} from Debian {suite} packages with mmdebstrap…")
    step(0, 2)
    with tempfile.TemporaryDirectory(prefix="gauntlet-image-") as work:
        tarball = Path(work) / "rootfs.tar"
        command = _mmdebstrap_command(mmdebstrap, suite, tarball, sources)
        completed = subprocess.run(command, capture_output=True, text=True)
        if completed.returncode != 0:
            tail = "\n".join(completed.stderr.strip().splitlines()[-8:])
            raise UserError(
                f"mmdebstrap failed (exit {completed.returncode}):\n{tail}",
                "check that apt can reach your Debian mirror (`apt-get update`)",
            )
        step(1, 2)
        say("importing the file system into Docker…")
        repository, _, version = tag.rpartition(":")
        with open(tarball, "rb") as handle:
            client.api.import_image_from_data(
                handle,
                repository=repository or tag,
                tag=version or "latest",
                changes=list(IMAGE_CHANGES),
            )
    step(2, 2)
    say(f"built {tag}")


def _mmdebstrap_command(
    mmdebstrap: str, suite: str, tarball: Path, sources: list[str]
) -> list[str]:
    """The mmdebstrap run that writes the image's root file system to `tarball`."""
    hook = (
        f'echo "sandbox:x:{SANDBOX_UID}:{SANDBOX_UID}:gauntlet '
        'sandbox:/tmp:/usr/sbin/nologin" >> "$1/etc/passwd"; '
        f'echo "sandbox:x:{SANDBOX_UID}:" >> "$1/etc/group"; '
        # nothing in the sandbox may gain privileges, even if no-new-privileges were off
        'find "$1" -xdev -perm /6000 -type f -exec chmod a-s {} +; '
        'rm -rf "$1/var/cache/apt" "$1/var/lib/apt/lists" "$1/usr/share/doc" "$1/usr/share/man"'
    )
    return [
        mmdebstrap,
        "--variant=essential",
        "--mode=" + ("root" if os.geteuid() == 0 else "auto"),
        "--include=" + ",".join(DEBIAN_PACKAGES),
        '--aptopt=Acquire::Retries "3"',
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-exclude=/usr/share/man/*",
        "--dpkgopt=path-exclude=/usr/share/locale/*",
        "--customize-hook=" + hook,
        suite,
        str(tarball),
        *sources,
    ]


def image_for_pack(
    client: Any, pack: EnvPack, default: str, *, build_dockerfile: bool = False
) -> str:
    """The image a package's gradings run in: its own `environment/Dockerfile` on top of the
    default image (built only when `build_dockerfile`: the user's own package, or the operator
    allowed it), a labelled sandbox image named in env.toml, or the default."""
    named = (pack.manifest.sandbox.image or "").strip()
    dockerfile = pack.root / "environment" / "Dockerfile"
    if dockerfile.is_file():
        if not build_dockerfile:
            raise SandboxUnavailable(
                "this package brings its own environment/Dockerfile, and it is someone else's "
                "package: its Dockerfile is not built",
                "read environment/Dockerfile first; to build it (offline, limited, on the sandbox "
                "image only) pass --allow-package-dockerfile",
            )
        return _build_pack_image(client, pack, default)
    if not named or named == default:
        if not image_present(client, default):
            raise SandboxUnavailable(
                f"the sandbox image {default} is not on this machine",
                "build it once with `gauntlet sandbox image` "
                "(offline: `gauntlet sandbox image --from-debian`)",
            )
        return default
    if not is_sandbox_image(client, named):
        # One message for "missing" and "not a sandbox image": a package must not be able to
        # learn which images exist on this machine.
        raise SandboxUnavailable(
            f"the image {named!r} named in env.toml [sandbox] image is not a Gauntlet sandbox "
            "image on this machine",
            "leave `image` empty to use the default sandbox image, or put an "
            "environment/Dockerfile in the package; named images must carry the label "
            f'{SANDBOX_LABEL}="1"',
        )
    return named


SANDBOX_LABEL = "gauntlet.sandbox.image"


def is_sandbox_image(client: Any, tag: str) -> bool:
    """Is `tag` present and labelled as a Gauntlet sandbox image?"""
    import docker.errors

    try:
        image = client.images.get(tag)
    except (docker.errors.ImageNotFound, docker.errors.APIError):
        return False
    labels = (image.attrs.get("Config") or {}).get("Labels") or {}
    return labels.get(SANDBOX_LABEL) == "1"


def image_env_names(client: Any, tag: str) -> list[str]:
    """The names of the variables an image's ENV sets (the sandbox overrides every one)."""
    try:
        env = (client.images.get(tag).attrs.get("Config") or {}).get("Env") or []
    except Exception:  # noqa: BLE001 - no image: the container start reports it
        return []
    return [item.split("=", 1)[0] for item in env if isinstance(item, str)]


# A package's own Dockerfile is built with no network and these limits.
BUILD_TIMEOUT_S = 600
BUILD_MEMORY_BYTES = 1 << 30
BUILD_CPU_SHARES = 512
BUILD_CONTEXT_MAX_BYTES = 32 << 20


def _build_pack_image(client: Any, pack: EnvPack, default: str) -> str:
    return build_folder_image(client, pack.root / "environment", default)


def build_folder_image(client: Any, folder: Path, default: str) -> str:
    """The image of `folder`/Dockerfile on top of `default`: hardened, offline, and cached by
    the content hash of the folder (a second build of the same files is free)."""
    from app.envpack import dockerfile

    if not image_present(client, default):
        raise SandboxUnavailable(
            (
                "the package's environment/Dockerfile builds "
                f"on {default}, which is not on this machine"
            ),
            "build it first with `gauntlet sandbox image`",
        )
    text = (folder / "Dockerfile").read_text(encoding="utf-8", errors="replace")
    refused = [p for p in dockerfile.problems(text) if p.code in ("GX126", "GX127")]
    if refused:
        first = refused[0]
        raise SandboxUnavailable(
            f"environment/Dockerfile line {first.line}: {first.message}; it is not built",
            "start it with `ARG GAUNTLET_BASE` and `FROM ${GAUNTLET_BASE}`, and COPY files from "
            "environment/ instead of other images (see `gauntlet check`, GX126/GX127)",
        )
    digest = hashlib.sha256(default.encode())
    total = 0
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        total += path.stat().st_size
        if total > BUILD_CONTEXT_MAX_BYTES:
            raise SandboxUnavailable(
                f"environment/ holds more than {BUILD_CONTEXT_MAX_BYTES >> 20} MB; it is not built",
                "keep only what the image needs in environment/",
            )
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    tag = f"gauntlet-pack:{digest.hexdigest()[:16]}"
    if image_present(client, tag):
        return tag
    _hardened_build(client, folder, tag, default)
    return tag


def _too_long() -> str:
    return f"building environment/Dockerfile took longer than {BUILD_TIMEOUT_S} s"


def _read_timeouts() -> tuple[type[BaseException], ...]:
    import requests.exceptions
    import urllib3.exceptions

    return (urllib3.exceptions.ReadTimeoutError, requests.exceptions.ReadTimeout)


def _hardened_build(client: Any, folder: Path, tag: str, base: str) -> None:
    """`docker build` with no network, CPU and memory limits, a time limit, never pulling."""
    import time

    import docker.errors

    deadline = time.monotonic() + BUILD_TIMEOUT_S
    hint = "check each RUN step; the build has no network and a time limit"
    try:
        stream = client.api.build(
            path=str(folder),
            tag=tag,
            buildargs={"GAUNTLET_BASE": base},
            rm=True,
            forcerm=True,
            pull=False,
            network_mode="none",
            container_limits={
                "memory": BUILD_MEMORY_BYTES,
                "memswap": BUILD_MEMORY_BYTES,
                "cpushares": BUILD_CPU_SHARES,
            },
            labels={SANDBOX_LABEL: "1"},
            decode=True,
            timeout=BUILD_TIMEOUT_S,
        )
        error = None
        for entry in stream:
            if isinstance(entry, dict) and entry.get("error"):
                error = str(entry["error"]).strip()
            if time.monotonic() > deadline:
                close = getattr(stream, "close", None)
                if close:
                    close()  # the engine stops a build whose client went away
                raise SandboxUnavailable(_too_long(), hint)
    except SandboxUnavailable:
        raise
    except _read_timeouts() as exc:  # a silent step (RUN sleep) outlived the limit
        raise SandboxUnavailable(_too_long(), hint) from exc
    except (docker.errors.APIError, docker.errors.DockerException, OSError) as exc:
        raise SandboxUnavailable(f"building environment/Dockerfile failed: {exc}", hint) from exc
    except Exception as exc:  # noqa: BLE001 - anything else from requests/urllib3
        raise SandboxUnavailable(
            f"building environment/Dockerfile failed or timed out: {exc}", hint
        ) from exc
    if error:
        raise SandboxUnavailable(f"building environment/Dockerfile failed: {error}", hint)
