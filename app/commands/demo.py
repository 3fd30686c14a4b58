"""`gauntlet demo`: the app's main job, end to end, in a terminal.

What `./studio` runs on a machine with no screen: browse the bounties of the local platform,
start an environment for one, run the whole gauntlet on it, submit it, and show its status.
Every step is an ordinary `gauntlet` command, printed before it runs, so the demo doubles as
a tutorial for the CLI.
"""

from __future__ import annotations

import argparse
import shlex
import tempfile
from pathlib import Path

from app.commands.console import Console
from app.commands.subcommand import add_command
from app.errors import UserError

ORDER = 2
DEMO_BOUNTY = "b_0001"  # enzyme kinetics: a numeric qa bounty every install has (resources/demo)
DEMO_TEMPLATE = "qa-numeric"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "demo", run)
    parser.add_argument("dir", nargs="?", type=Path, help="where to create the demo environment")
    parser.add_argument(
        "--bounty", default=DEMO_BOUNTY, help=f"the bounty to answer (default {DEMO_BOUNTY})"
    )
    parser.add_argument(
        "--template", default=DEMO_TEMPLATE, help=f"the template (default {DEMO_TEMPLATE})"
    )


def run(args: argparse.Namespace) -> int:
    """walk through the main job in the terminal (no screen needed)

    Browse bounties on the local platform, start an environment for one, run the whole gauntlet on
    it and submit it, printing each `gauntlet` command as it runs.
    """
    from app.cli import main

    out = Console.for_stream()
    target = args.dir or Path(tempfile.mkdtemp(prefix="gauntlet-demo-")) / "enzyme-kinetics"
    if target.exists() and any(target.iterdir()):
        raise UserError(f"{target} is not empty.", "Give a new folder for the demo environment.")

    steps: list[tuple[str, list[str], tuple[int, ...]]] = [
        ("The bounties on the local platform", ["bounties"], (0,)),
        (
            "Start an environment for one of them",
            [
                "new",
                str(target),
                "--template",
                args.template,
                "--bounty",
                args.bounty,
                "--title",
                "Enzyme kinetics: Michaelis-Menten parameter estimation",
            ],
            (0,),
        ),
        (
            "Stage 1-3: structure, sandboxed verification, reward-hack attacks",
            ["run", str(target)],
            (0, 1),
        ),
        ("Submit it for review", ["submit", str(target), "--bounty", args.bounty], (0,)),
        ("Its status on the platform", ["status"], (0,)),
    ]
    for number, (title, argv, accepted) in enumerate(steps, start=1):
        out.plain()
        out.plain(out.paint(f"{number}. {title}", "bold"))
        out.plain(out.paint(f"$ gauntlet {shlex.join(argv)}", "dim"))
        status = main(argv)
        if status not in accepted:
            out.plain(
                f"The demo stopped at step {number} (exit status {status}); "
                "the message above says why."
            )
            return status
    out.plain()
    out.plain(
        f"Your demo environment is in {target}. "
        "On a computer with a screen, `./studio` opens it in the app."
    )
    return 0
