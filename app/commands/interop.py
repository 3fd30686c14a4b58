"""Interop commands: `export` an env pack to Harbor / verifiers, `import` one back.

    gauntlet export DIR --to harbor|verifiers|inspect -o OUT
    gauntlet import SRC --from harbor|verifiers -o DIR

Output appears all at once (or not at all) and never overwrites: OUT/DIR must not exist or be
empty. Exit 0 on success, 1 when the package to export has structural errors, 2 when the input
cannot be converted or the output cannot be written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.commands.console import Console
from app.commands.package_args import add_output_argument
from app.commands.subcommand import add_command
from app.errors import UserError

ORDER = 15
FORMATS = ("harbor", "verifiers")
EXPORT_FORMATS = (*FORMATS, "inspect")  # Inspect AI: export only


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "export", run_export)
    p.add_argument("dir", type=Path, metavar="DIR", help="the package folder")
    p.add_argument("--to", required=True, choices=EXPORT_FORMATS, help="the target format")
    add_output_argument(p, "OUT", "a new (or empty) output folder")

    p = add_command(subparsers, "import", run_import)
    p.add_argument(
        "src", type=Path, metavar="SRC", help="a task folder, a folder of tasks, or an environment"
    )
    p.add_argument(
        "--from", dest="source_format", required=True, choices=FORMATS, help="the source format"
    )
    p.add_argument(
        "--kind",
        choices=("auto", "qa", "agentic"),
        default="auto",
        help=(
            "harbor only: qa converts question-answer tasks, agentic keeps every task folder "
            "as it is; auto (the default) takes qa when every task converts"
        ),
    )
    add_output_argument(p, "DIR", "the package folder to create (new or empty)")


def grader_runtime():
    """The sandbox runner's graders, which every export ships (see app.envpack.interop.runtime)."""
    import app.sandbox.runner as runner
    from app.envpack.interop import GraderRuntime

    return GraderRuntime.from_folder(Path(runner.__file__).parent)


def run_export(args: argparse.Namespace) -> int:
    """export a package as Harbor tasks, a verifiers environment or an Inspect task

    Convert an environment package into Harbor / Terminal-Bench task folders, a Prime Intellect
    verifiers environment or an Inspect AI task. All grade with Gauntlet Studio's own grader.
    See docs/interop.md.
    """
    from app.envpack.interop import export_harbor, export_inspect, export_verifiers

    console = Console.for_stream(sys.stdout)
    if args.to == "inspect":
        name = export_inspect(args.dir, args.output, grader_runtime())
        console.plain(f"Wrote the Inspect AI task `{name}` to {args.output}")
        # inspect-ai 0.3 takes task files relative to the working directory only
        console.plain(f"run it with: cd {args.output} && inspect eval {name}.py --model ...")
    elif args.to == "harbor":
        names = export_harbor(args.dir, args.output, grader_runtime())
        console.plain(f"Wrote {len(names)} Harbor task folder(s) to {args.output}")
        console.plain(f"check the references with: harbor run -p {args.output} -a oracle")
    else:
        module = export_verifiers(args.dir, args.output, grader_runtime())
        console.plain(f"Wrote the verifiers environment `{module}` to {args.output}")
        console.plain(f"install it with: pip install {args.output}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    """import Harbor tasks or a verifiers environment as a package

    Convert Harbor / Terminal-Bench task folders or a verifiers environment into an environment
    package, where the tasks map (question-answer tasks with a plain expected answer, verifiers
    environments graded on one reply by code rewards, which become a rubric, or anything
    exported by Gauntlet Studio). See docs/interop.md.
    """
    from app.envpack.interop import import_harbor, import_verifiers

    if args.source_format == "harbor":
        imported = import_harbor(args.src, args.output, kind=args.kind)
    elif args.kind != "auto":
        raise UserError("--kind applies to Harbor imports only.", "Leave --kind out for verifiers.")
    else:
        imported = import_verifiers(args.src, args.output)
    console = Console.for_stream(sys.stdout)
    manifest = imported.manifest
    name = manifest.get("package", {}).get("name", "")
    kind = "agentic " if manifest.get("kind") == "agentic" else ""
    console.plain(f"Wrote {name} ({imported.task_count} {kind}task(s)) to {args.output}")
    console.plain(f"next: gauntlet check {args.output}")
    return 0
