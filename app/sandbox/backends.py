"""Choosing a sandbox backend: `backend_for(options)` for a funnel run, or
`get_backend("auto" | "docker" | "process", ...)`.

"auto" prefers Docker. It falls back to the (weaker) process backend only for the user's own
package and only inside bubblewrap: a plain subprocess of the user is never chosen for anyone;
it takes an explicit `process`, and for someone else's package also `force`. When nothing
usable is found, `SandboxUnavailable` says what is wrong and how to fix it (the doctor's
advice). Judge graders are graded on the host by `JudgeGrader`, which every
backend hands judge packages to, so callers can always just call `backend.grade_batch(...)`.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from app.sandbox.base import SandboxBase, SandboxUnavailable
from app.sandbox.judge import JudgeGrader

log = logging.getLogger(__name__)

BACKEND_NAMES = ("auto", "docker", "process")
_cleaned = threading.Event()  # leftovers are removed once per process, before the first run


class BackendOptions(Protocol):
    """What a run's options (app.funnel.pipeline.FunnelOptions) say about the sandbox."""

    backend: str
    image: str | None
    own_package: bool | None
    force_weak_backend: bool
    allow_package_dockerfile: bool
    llm_api_key: str | None
    llm_api_base: str | None
    llm_from_environment: bool


def backend_for(options: BackendOptions) -> SandboxBase:
    """The backend `options` choose, for every stage of a run (see `get_backend`); its judge
    uses the run's LLM key and base URL."""
    judge = JudgeGrader(
        api_key=options.llm_api_key,
        api_base=options.llm_api_base,
        use_environment=options.llm_from_environment,
    )
    return get_backend(
        options.backend,
        image=options.image,
        own_package=bool(options.own_package),
        force=options.force_weak_backend,
        allow_package_dockerfile=options.allow_package_dockerfile,
        judge=judge,
    )


def get_backend(
    name: str = "auto",
    *,
    image: str | None = None,
    own_package: bool = False,
    force: bool = False,
    allow_package_dockerfile: bool = False,
    judge: JudgeGrader | None = None,
) -> SandboxBase:
    """A ready backend. Packages are someone else's unless `own_package` (see
    app.envpack.provenance): the weak process backend is refused for them unless `force`, and
    their environment/Dockerfile is not built unless `allow_package_dockerfile`. `judge` grades
    judge graders on the host (by default one given no LLM key or base URL)."""
    judge = judge or JudgeGrader()
    if name not in BACKEND_NAMES:
        raise SandboxUnavailable(
            f"unknown sandbox backend {name!r}", "use one of: auto, docker, process"
        )
    build_dockerfile = own_package or allow_package_dockerfile
    if name == "docker":
        return _docker(image, judge, build_dockerfile)
    if name == "process":
        return _process(own_package, force, judge)
    try:
        return _docker(image, judge, build_dockerfile)
    except SandboxUnavailable as docker_problem:
        if not own_package and not force:
            raise SandboxUnavailable(
                docker_problem.message,
                docker_problem.hint + ". Other people's packages are only run in Docker "
                "(or with the process backend when forced: --backend process --force-weak-backend)",
            ) from docker_problem
        if "image" in docker_problem.message:
            raise  # Docker works; only the image is missing: building it is the right fix
        log.info(
            "Docker is not usable (%s); trying the process backend in bubblewrap",
            docker_problem.message,
        )
        try:
            return _process(own_package, force, judge, use_bwrap=True)
        except SandboxUnavailable as process_problem:
            raise SandboxUnavailable(
                f"{docker_problem.message}; and the process backend cannot isolate here either: "
                f"{process_problem.message}",
                docker_problem.hint + ". To grade your own package as a plain process of your "
                "user anyway (no isolation), choose it explicitly: --backend process",
            ) from process_problem


def _docker(image: str | None, judge: JudgeGrader, build_dockerfile: bool) -> SandboxBase:
    from app.sandbox import containers
    from app.sandbox.docker_backend import DockerBackend, docker_client
    from app.sandbox.images import default_image, image_present

    client = docker_client()
    tag = image or default_image()
    if not _cleaned.is_set():
        _cleaned.set()
        removed = containers.remove_leftovers(client)
        if removed:
            log.info("removed %d sandbox container(s) left behind by dead processes", removed)
    if not image_present(client, tag):
        raise SandboxUnavailable(
            f"the sandbox image {tag} is not on this machine",
            (
                "build it once with `gauntlet sandbox image` (without internet: "
                "`gauntlet sandbox image --from-debian`)"
            ),
        )
    return DockerBackend(client, tag, judge=judge, build_package_dockerfile=build_dockerfile)


def _process(
    own_package: bool, force: bool, judge: JudgeGrader, use_bwrap: bool | None = None
) -> SandboxBase:
    from app.sandbox.process_backend import ProcessBackend

    if not own_package and not force:
        raise SandboxUnavailable(
            "the process backend is too weak to run someone else's package",
            "use Docker (`gauntlet sandbox doctor` helps set it up), or pass --force-weak-backend "
            "if you accept the risk",
        )
    return ProcessBackend(judge=judge, use_bwrap=use_bwrap)
