"""Package commands: `new`, `templates`, `check`, `bundle`, `unbundle`.

`check` is funnel stage 1 on its own: human output `file:line:col: GX101 error: message (hint:
...)`, or the `gauntlet-report/1` JSON with `--json`. Exit 0 when there is no error (warnings
are fine), 1 when there are errors, 2 when the input is not a package at all.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from app.commands.console import Console
from app.commands.package_args import (
    add_output_argument,
    add_package_arguments,
    require_package,
    unusable_package,
)
from app.commands.subcommand import add_command
from app.errors import UserError
from app.findings import Severity, Stage

ORDER = 10


def register(subparsers: argparse._SubParsersAction) -> None:
    add_command(subparsers, "new", run_new, _new_options)
    add_command(subparsers, "templates", run_templates).add_argument(
        "--json", action="store_true", help="print JSON"
    )
    add_command(subparsers, "check", run_check, add_package_arguments).add_argument(
        "-q", "--quiet", action="store_true", help="print errors only, no warnings or summary"
    )
    bundle = add_command(subparsers, "bundle", run_bundle)
    bundle.add_argument("dir", type=Path, metavar="DIR", help="the package folder")
    add_output_argument(bundle, "FILE", "the bundle to write")
    unbundle = add_command(subparsers, "unbundle", run_unbundle)
    unbundle.add_argument("file", type=Path, metavar="FILE", help="the bundle")
    add_output_argument(unbundle, "DIR", "the folder to create")


def _new_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "dir", type=Path, metavar="DIR", help="the folder to create (must not exist, or be empty)"
    )
    p.add_argument(
        "-t",
        "--template",
        default="qa-exact",
        metavar="NAME",
        help="template name (default: qa-exact)",
    )
    p.add_argument(
        "--name",
        metavar="OWNER/NAME",
        help='package name, e.g. "acme/enzyme-kinetics" (default: local/<DIR>)',
    )
    p.add_argument("--title", help="package title")
    p.add_argument("--description", help="one-paragraph description")
    p.add_argument("--bounty", metavar="ID", help="the bounty this environment answers")
    p.add_argument(
        "--tag", action="append", dest="tags", metavar="TAG", help="a tag (repeat for several)"
    )


def run_new(args: argparse.Namespace) -> int:
    """create an environment package from a template

    Create a new environment package folder from a template (see `gauntlet templates`).
    """
    from app.envpack.templates import create_from_template

    created = create_from_template(
        args.template,
        args.dir,
        package_name=args.name,
        title=args.title,
        description=args.description,
        bounty_id=args.bounty,
        tags=args.tags,
    )
    console = Console.for_stream(sys.stdout)
    console.plain(f"Created {created} from the {args.template} template.")
    console.plain(f"Next: edit the tasks, then run `gauntlet check {created}`.")
    return 0


def run_templates(args: argparse.Namespace) -> int:
    """list the package templates

    List the templates `gauntlet new` can start from.
    """
    from app.envpack.templates import list_templates

    templates = list_templates()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": t.name,
                        "title": t.title,
                        "kind": t.kind,
                        "grader": t.grader,
                        "description": t.description,
                    }
                    for t in templates
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    console = Console.for_stream(sys.stdout)
    width = max((len(t.name) for t in templates), default=0)
    for t in templates:
        console.plain(
            f"{console.paint(t.name.ljust(width), 'bold')}  {t.kind:<4}  {t.grader:<14}  {t.title}"
        )
    return 0


def run_check(args: argparse.Namespace) -> int:
    """run the structural checks (funnel stage 1)

    Check an environment package's structure: manifest, files, tasks, references, grader.
    Exit 0: no errors; 1: errors found; 2: not a package.
    """
    from app.envpack.bundle import package_digest
    from app.funnel.report import PackageRef, Report, StageResult, stage_status_for
    from app.funnel.structure import run_structure_stage

    root: Path = args.dir
    problem = unusable_package(root)
    if problem is not None:
        if args.json:
            report = Report(package=PackageRef(path=str(root)), error=problem.message)
            print(report.to_json())
            return 2
        raise problem

    started = time.perf_counter()
    loaded, findings = run_structure_stage(root)
    stage = StageResult(Stage.STRUCTURE, stage_status_for(findings), time.perf_counter() - started)
    errors = sum(f.severity == Severity.ERROR for f in findings)
    warnings = sum(f.severity == Severity.WARNING for f in findings)
    if args.json:
        package = PackageRef(path=str(root))
        if loaded.pack is not None:
            package.name = loaded.pack.manifest.package.name
            package.version = loaded.pack.manifest.package.version
        try:
            package.digest = package_digest(root)
        except (OSError, UserError):
            package.digest = ""
        report = Report(package=package)
        report.add_stage(stage, findings)
        print(report.to_json())
        return 1 if errors else 0

    console = Console.for_stream(sys.stdout)
    for finding in findings:
        if args.quiet and finding.severity != Severity.ERROR:
            continue
        console.finding(finding)
    if not args.quiet:
        name = loaded.pack.name if loaded.pack is not None and loaded.pack.name else str(root)
        if not findings:
            console.plain(console.paint(f"{name}: no problems found.", "green"))
        else:
            summary = f"{name}: {_count(errors, 'error')}, {_count(warnings, 'warning')}."
            console.plain(console.paint(summary, "red" if errors else "yellow"))
    return 1 if errors else 0


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def run_bundle(args: argparse.Namespace) -> int:
    """pack a package into one deterministic .gauntlet file

    Pack a package into a deterministic, content-addressed archive (same files, same bytes).
    """
    from app.envpack.bundle import bundle_package

    require_package(args.dir)
    info = bundle_package(args.dir, args.output)
    console = Console.for_stream(sys.stdout)
    console.plain(f"Wrote {info.path} ({len(info.files)} files, {info.size} bytes)")
    console.plain(f"digest {info.digest}")
    return 0


def run_unbundle(args: argparse.Namespace) -> int:
    """safely unpack a .gauntlet bundle

    Unpack a bundle into a new folder, verifying every file's hash; unsafe archives are
    refused.
    """
    from app.envpack.bundle import unbundle

    info = unbundle(args.file, args.output)
    console = Console.for_stream(sys.stdout)
    console.plain(f"Unpacked {len(info.files)} files into {info.path}")
    console.plain(f"digest {info.digest}")
    return 0
