"""environment/Dockerfile (and, in an agentic package, each tasks/<id>/environment/Dockerfile):
built on the sandbox image only, offline (read as text, never built)."""

from __future__ import annotations

from app.envpack import dockerfile
from app.envpack.checks.context import CheckContext
from app.envpack.model import Span

PATH = "environment/Dockerfile"


def dockerfile_paths(ctx: CheckContext) -> list[str]:
    """The package's Dockerfile, then each agentic task's own one (when the package loaded)."""
    paths = [PATH]
    pack = ctx.result.pack
    if pack is not None and pack.is_agentic:
        paths += [t.path(PATH) for t in pack.agentic_tasks if t.has_dockerfile]
    return paths


def check_dockerfile(ctx: CheckContext) -> None:
    for path in dockerfile_paths(ctx):
        read = ctx.source.read_text(path)
        if read.text is None:
            continue  # absent; an unreadable one is reported by the package-files check
        for problem in dockerfile.problems(read.text, path):
            ctx.report(problem.code, problem.message + ".", Span(path, problem.line))
