"""environment/Dockerfile: built on the sandbox image only, offline (read as text, never built)."""

from __future__ import annotations

from app.envpack import dockerfile
from app.envpack.checks.context import CheckContext
from app.envpack.model import Span

PATH = "environment/Dockerfile"


def check_dockerfile(ctx: CheckContext) -> None:
    read = ctx.source.read_text(PATH)
    if read.text is None:
        return  # absent; an unreadable one is reported by the package-files check
    for problem in dockerfile.problems(read.text):
        ctx.report(problem.code, problem.message + ".", Span(PATH, problem.line))
