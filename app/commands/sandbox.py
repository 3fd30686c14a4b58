"""Sandbox commands: `verify` (funnel stages 1+2), `sandbox image`, `sandbox doctor`.

`gauntlet verify DIR` exits 0 when the package passes, 1 when it has errors, 2 when the input
is not a package or no sandbox can be used (the doctor's advice is printed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from app.commands.console import Console
from app.commands.funnel_output import run_and_print
from app.commands.package_args import (
    add_package_arguments,
    add_sandbox_arguments,
    check_sandbox_arguments,
    require_package,
    sandbox_options,
)
from app.commands.subcommand import add_command, add_group
from app.errors import UserError
from app.findings import Stage

ORDER = 20


def register(subparsers: argparse._SubParsersAction) -> None:
    verify = add_command(
        subparsers, "verify", run_verify, add_package_arguments, add_sandbox_arguments
    )
    verify.add_argument(
        "--llm-api-base",
        metavar="URL",
        help="an OpenAI-compatible server for a judge grader (e.g. a local model server)",
    )
    sub = add_group(
        subparsers,
        "sandbox",
        "set up and diagnose the sandbox",
        "Build the sandbox image and check that the sandbox works.",
        dest="sandbox_command",
        metavar="COMMAND",
    )
    image = add_command(sub, "image", run_image)
    image.add_argument(
        "--from-debian",
        action="store_true",
        help="build offline from this machine's Debian packages (mmdebstrap + docker import)",
    )
    image.add_argument(
        "--if-missing", action="store_true", help="do nothing when the image already exists"
    )
    image.add_argument("--tag", metavar="TAG", help="image tag (default: the app's default image)")
    add_command(sub, "doctor", run_doctor).add_argument(
        "--json", action="store_true", help="print the checks as JSON"
    )


def _judge_key(root: Path) -> str | None:
    """The API key for a judge grader's model, or a rubric's with judge criteria (keychain or
    GAUNTLET_LLM_API_KEY); None lets litellm read the provider's usual environment variable.
    Never printed."""
    import tomllib

    try:
        grader = tomllib.loads((root / "env.toml").read_text(encoding="utf-8")).get("grader", {})
    except (OSError, ValueError):
        return None
    if (
        not isinstance(grader, dict)
        or grader.get("type") not in ("judge", "rubric")  # a rubric's judge criteria too
        or not isinstance(grader.get("model"), str)
    ):
        return None
    try:
        from app.commands.attack import resolve_llm_key
    except ImportError:
        return None
    return resolve_llm_key(grader["model"])


def run_verify(args: argparse.Namespace) -> int:
    """run structural checks and sandboxed verification (funnel stages 1+2)

    Grade every reference, negative and the empty response in a sandbox, twice.
    Exit 0: pass; 1: errors found; 2: not a package, or no usable sandbox.
    """
    from app.funnel.pipeline import FunnelOptions
    from app.funnel.report import StageStatus

    require_package(args.dir)
    check_sandbox_arguments(args)
    options = FunnelOptions(
        **sandbox_options(args),
        llm_api_key=_judge_key(args.dir),
        llm_api_base=args.llm_api_base,
    )
    report = run_and_print(args, (Stage.STRUCTURE, Stage.VERIFY), options, _print_stage)
    verify = report.stage(Stage.VERIFY)
    no_backend = (
        verify is not None
        and verify.status == StageStatus.ERROR
        and any(f.code == "GX200" for f in report.findings)
    )
    if no_backend or (verify is not None and verify.status == StageStatus.ERROR):
        return 2
    return 1 if report.errors() else 0


def _print_stage(console: Console, stage) -> None:
    from app.sandbox.guard import describe_budget

    extra = ""
    details = stage.details or {}
    if stage.name == Stage.VERIFY and "episodes" in details:  # an agentic package
        extra = f" — {details['episodes']} episodes over {details['tasks']} task(s) in Docker"
    elif stage.name == Stage.VERIFY and "backend" in details:
        refs = details.get("references_passed", {})
        extra = (
            f" — {details['gradings']} gradings × {details['runs']} run(s) "
            f"in the {details['backend']} sandbox"
        )
        if refs:
            extra += f"; references passing: {refs.get('ok', 0)}/{refs.get('total', 0)}"
        if details.get("weak_backend"):
            extra += " (WEAKER ISOLATION)"
    if details.get("budget"):
        extra += f"\n  {describe_budget(details['budget'])}"
    elif details.get("reason"):
        extra = f" — {details['reason']}"
        if details.get("hint"):
            extra += f"\n  hint: {details['hint']}"
    colour = {"pass": "green", "warn": "yellow"}.get(str(stage.status), "red")
    console.plain(
        f"{stage.name}: "
        f"{console.paint(str(stage.status), colour)} ({stage.duration_s:.1f} s){extra}"
    )


def run_image(args: argparse.Namespace) -> int:
    """build the default sandbox image

    Build the default sandbox image (Python 3 and an unprivileged user).
    """
    from app.sandbox.base import SandboxUnavailable
    from app.sandbox.docker_backend import docker_client
    from app.sandbox.images import build_default_image, default_image, image_present

    tag = args.tag or default_image()
    try:
        client = docker_client()
    except SandboxUnavailable as exc:
        raise UserError(exc.message, exc.hint) from exc
    if args.if_missing and image_present(client, tag):
        print(f"{tag} is already present")
        return 0
    started = time.perf_counter()
    build_default_image(
        client, tag, from_debian=args.from_debian, say=lambda text: print(text, flush=True)
    )
    print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


def run_doctor(args: argparse.Namespace) -> int:
    """check that the sandbox can run here, and say how to fix it

    Check Docker, the sandbox image and its limits; print fixes.
    """
    from app.sandbox.doctor import doctor

    checks = doctor()
    usable = all(c.ok or c.optional for c in checks)
    if args.json:
        print(json.dumps({"usable": usable, "checks": [c.to_dict() for c in checks]}, indent=2))
        return 0 if usable else 2
    console = Console.for_stream(sys.stdout)
    for check in checks:
        mark = (
            console.paint("ok  ", "green")
            if check.ok
            else console.paint(
                "FAIL" if not check.optional else "note", "red" if not check.optional else "yellow"
            )
        )
        console.plain(f"[{mark}] {check.name}: {check.detail}")
        if not check.ok and check.fix:
            console.plain(f"       fix: {check.fix}")
    if usable:
        console.plain("The Docker sandbox is ready.")
        return 0
    console.plain(
        "The Docker sandbox is not usable yet. Without it, `gauntlet verify --backend process` "
        "works for your own packages with weaker isolation."
    )
    return 2
