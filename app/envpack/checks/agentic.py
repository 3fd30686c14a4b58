"""Agentic packages (`kind = "agentic"`, DESIGN §4.1): what the task folders and the manifest
must hold so that the agent cannot see the tests or the solution and the verifier writes a reward.

The loader already reports missing folders and files (GX162-GX164, GX184); these checks read the
files it found. GX183 also guards the other kinds against the agentic grader type.
"""

from __future__ import annotations

import hashlib
import re

from app.envpack import dockerfile
from app.envpack.checks.context import CheckContext
from app.envpack.checks.dockerfile import dockerfile_paths
from app.envpack.egress_hosts import parse_hosts
from app.envpack.limits import MAX_FILE_BYTES
from app.envpack.model import AgenticTask, Span
from app.envpack.walk import package_entries

REWARD_PATH = "/logs/verifier/reward"
HIDDEN_DIRS = ("tests", "solution")  # never visible to the agent
# an option like --chown=1000 or --from=stage before the sources of COPY/ADD
_OPTION = re.compile(r"^--[a-z-]+(=\S*)?$")


def check_agentic(ctx: CheckContext) -> None:
    pack = ctx.pack
    _check_grader_type(ctx)
    if not pack.is_agentic:
        return
    manifest = pack.manifest
    if manifest.verifier.mode == "shared":
        ctx.report(
            "GX168",
            'verifier.mode = "shared": the verifier runs in the container the agent used.',
            ctx.at_key("verifier.mode"),
        )
    if manifest.agent.network == "allowlist":
        _check_allowlist(ctx)
    for task in pack.agentic_tasks:
        _check_task_files(ctx, task)
    _check_dockerfile_copies(ctx)
    _check_environment_copies(ctx)


def _check_allowlist(ctx: CheckContext) -> None:
    """GX169 says what the agent can reach; GX194 for each entry that is not a host."""
    hosts = ctx.pack.manifest.agent.hosts
    rules, bad = parse_hosts(hosts)
    reach = ", ".join(str(rule) for rule in rules)
    ctx.report(
        "GX169",
        f'agent.network = "allowlist": the agent reaches {reach or "no host at all"} over '
        "HTTP(S), through a proxy; nothing else.",
        ctx.at_key("agent.network"),
    )
    for _, problem in bad:
        ctx.report(
            "GX194",
            f"agent.hosts: {problem} It allows nothing.",
            ctx.at_key("agent.hosts"),
            hint=problem.hint,
        )


def _check_grader_type(ctx: CheckContext) -> None:
    manifest = ctx.pack.manifest
    agentic, verifier = manifest.kind == "agentic", manifest.grader.type == "verifier"
    if agentic and manifest.grader.is_rubric:  # criteria are keys of reward.json
        for index, criterion in enumerate(manifest.grader.criteria):
            if criterion.function or criterion.judge:
                ctx.report(
                    "GX183",
                    f'Criterion "{criterion.name}" has a `function` or `judge`; in an agentic '
                    "package each criterion is a key of the reward.json that tests/test.sh "
                    "writes.",
                    ctx.at_key(f"grader.criteria.{index}"),
                    hint=f'Remove them, and have tests/test.sh write {{"{criterion.name}": '
                    "score, ...}} to /logs/verifier/reward.json.",
                )
    elif agentic and not verifier:
        ctx.report(
            "GX183",
            f'grader.type = "{manifest.grader.type}" does not grade an agentic package: '
            "each task's tests/test.sh writes its reward.",
            ctx.at_key("grader.type"),
        )
    elif verifier and not agentic:
        ctx.report(
            "GX183",
            f'grader.type = "verifier" only fits kind = "agentic", not kind = "{manifest.kind}".',
            ctx.at_key("grader.type"),
            hint="Use a grader that fits the kind (match, python, judge or tests), or set kind = "
            '"agentic" and give each task a tests/test.sh.',
        )


def _check_task_files(ctx: CheckContext, task: AgenticTask) -> None:
    instruction = task.path("instruction.md")
    read = ctx.source.read_text(instruction)
    if read.text is not None and not read.text.strip():
        ctx.report(
            "GX165",
            f"Task {task.id!r}: instruction.md is empty.",
            Span(instruction, 1),
            task_id=task.id,
        )
    test = task.path("tests/test.sh")
    read = ctx.source.read_text(test)
    if read.text is not None and REWARD_PATH not in read.text:
        ctx.report(
            "GX167",
            f"Task {task.id!r}: tests/test.sh never mentions {REWARD_PATH}.txt or .json, so "
            "no reward may be written (a run without one scores the floor).",
            Span(test, 1),
            task_id=task.id,
        )


def _check_dockerfile_copies(ctx: CheckContext) -> None:
    """GX166: a COPY/ADD whose source names a tests/ or solution/ folder."""
    for path in dockerfile_paths(ctx):
        read = ctx.source.read_text(path)
        if read.text is None:
            continue
        for ins in dockerfile.instructions(read.text):
            if ins.keyword not in ("COPY", "ADD"):
                continue
            hidden = [src for src in _sources(ins.args) if _names_hidden_dir(src)]
            if hidden:
                ctx.report(
                    "GX166",
                    f"{ins.keyword} {hidden[0]} puts the tests or the solution into the image "
                    "the agent works in.",
                    Span(path, ins.line),
                )


def _sources(args: str) -> list[str]:
    words = args.split()
    if words and words[0].startswith("["):  # COPY ["src", "dest"]
        words = [w.strip('[],"') for w in args.split('"') if w.strip("[], ")]
    words = [w for w in words if not _OPTION.match(w)]
    return words[:-1]  # the last one is the destination


def _names_hidden_dir(source: str) -> bool:
    parts = [p for p in source.replace("\\", "/").split("/") if p not in ("", ".")]
    return any(part in HIDDEN_DIRS for part in parts)


def _check_environment_copies(ctx: CheckContext) -> None:
    """GX166: a file in an environment/ folder (the image's build context) with the very bytes
    of a file in some task's tests/ or solution/."""
    hidden: dict[str, str] = {}  # digest -> the tests/solution file
    context: list[tuple[str, str]] = []  # (environment file, digest)
    for entry in package_entries(ctx.source.root):
        parts = entry.path.split("/")
        if entry.kind != "file" or not 0 < entry.size <= MAX_FILE_BYTES:
            continue
        if parts[0] == "tasks" and len(parts) > 3 and parts[2] in HIDDEN_DIRS:
            hidden.setdefault(_digest(ctx, entry.path), entry.path)
        elif parts[0] == "environment" or (
            parts[0] == "tasks" and len(parts) > 3 and parts[2] == "environment"
        ):
            context.append((entry.path, _digest(ctx, entry.path)))
    for path, digest in context:
        if digest in hidden:
            ctx.report(
                "GX166",
                f"{path} is a copy of {hidden[digest]}: everything in environment/ can end up "
                "in the image the agent works in.",
                Span(path),
                hint=f"Remove {path} from environment/: the verifier gets tests/ in its own phase.",
            )


def _digest(ctx: CheckContext, rel: str) -> str:
    try:
        data = ctx.source.path(rel).read_bytes()
    except OSError:
        return f"unreadable:{rel}"
    return hashlib.sha256(data).hexdigest()
