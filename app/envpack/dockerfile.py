"""Reading a package's `environment/Dockerfile` as text (never building it) for what the sandbox
allows: every stage starts FROM the sandbox image (`${GAUNTLET_BASE}`), nothing names another
image (`COPY --from=`, `RUN --mount=from=`), and steps that need the network are pointed out,
because the build runs with no network at all.

Used by the structural check (GX126-GX128) and by the image builder, which refuses to build a
Dockerfile with an error here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BASE_ARG = "GAUNTLET_BASE"
_BASE_REFS = {f"${BASE_ARG}", f"${{{BASE_ARG}}}"}
_NETWORK_TOOLS = re.compile(
    r"\b(pip3?|python3?\s+-m\s+pip)\s+install\b(?![^&;|]*--no-index)"
    r"|\b(apt-get|apt|apk|yum|dnf)\s+(install|update)\b"
    r"|\b(curl|wget|git\s+clone|npm\s+install|uv\s+pip\s+install|conda\s+install)\b"
)


@dataclass(frozen=True, slots=True)
class Instruction:
    line: int  # 1-based line where the instruction starts
    keyword: str  # upper case: FROM, RUN, COPY...
    args: str  # the rest, continuation lines joined


@dataclass(frozen=True, slots=True)
class DockerfileProblem:
    code: str  # GX126 | GX127 | GX128
    line: int
    message: str


def instructions(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile, with `\\` continuations joined and comments dropped."""
    result: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # comment lines inside a continuation are skipped by Docker too
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        joined = " ".join(part.strip() for part in pending).strip()
        pending = []
        keyword, _, args = joined.partition(" ")
        result.append(Instruction(start, keyword.upper(), args.strip()))
    if pending:
        joined = " ".join(part.strip() for part in pending).strip()
        keyword, _, args = joined.partition(" ")
        result.append(Instruction(start, keyword.upper(), args.strip()))
    return result


def problems(text: str, name: str = "environment/Dockerfile") -> list[DockerfileProblem]:
    """Everything in the Dockerfile the sandbox will not build (GX126, GX127) or that cannot
    work without the network (GX128); `name` is the file as messages call it."""
    found: list[DockerfileProblem] = []
    stages: set[str] = set()  # names given with FROM ... AS name, lower case
    saw_from = False
    for ins in instructions(text):
        if ins.keyword == "FROM":
            saw_from = True
            found += _stage_problems(ins, stages, name)
        elif ins.keyword in ("COPY", "ADD", "RUN"):
            found += _other_image_problems(ins, stages) + _network_problems(ins)
    if not saw_from:
        found.append(DockerfileProblem("GX126", 1, f"{name} has no FROM line"))
    return found


def _stage_problems(ins: Instruction, stages: set[str], name: str) -> list[DockerfileProblem]:
    """A FROM must start from the sandbox image or an earlier stage (noted in `stages`)."""
    found: list[DockerfileProblem] = []
    words = [w for w in ins.args.split() if not w.startswith("--")]
    image = words[0] if words else ""
    if image not in _BASE_REFS and image.lower() not in stages:
        found.append(
            DockerfileProblem(
                "GX126",
                ins.line,
                f"{name} starts a stage FROM {image or '(nothing)'!s}, not from the sandbox image",
            )
        )
    if len(words) >= 3 and words[1].upper() == "AS":
        stages.add(words[2].lower())
    if any(w.startswith("--platform") for w in ins.args.split()):
        found.append(
            DockerfileProblem(
                "GX126", ins.line, "FROM --platform asks for another image than the sandbox's"
            )
        )
    return found


def _other_image_problems(ins: Instruction, stages: set[str]) -> list[DockerfileProblem]:
    """COPY --from= / RUN --mount=from= naming an image rather than an earlier stage."""
    found: list[DockerfileProblem] = []
    for option in re.findall(r"--(?:from|mount)=(\S+)", ins.args):
        source = option
        if "from=" in option:  # RUN --mount=type=bind,from=image
            source = option.split("from=", 1)[1].split(",", 1)[0]
        elif "=" in option or "," in option:
            continue  # a --mount without from=
        if source.lower() not in stages and not source.isdigit():
            found.append(
                DockerfileProblem(
                    "GX127",
                    ins.line,
                    f"{ins.keyword} takes files from the image {source!r}, which the "
                    "sandbox would have to pull",
                )
            )
    return found


def _network_problems(ins: Instruction) -> list[DockerfileProblem]:
    if ins.keyword == "ADD" and re.search(r"(?i)\b(https?|git)://|git@", ins.args):
        return [
            DockerfileProblem("GX128", ins.line, "ADD downloads from the network during the build")
        ]
    if ins.keyword == "RUN" and _NETWORK_TOOLS.search(ins.args):
        return [
            DockerfileProblem(
                "GX128",
                ins.line,
                "this RUN step downloads (pip/apt/curl…), but the image is built with no network",
            )
        ]
    return []
