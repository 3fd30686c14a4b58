"""`gauntlet studio`: open the desktop app (also what `python -m app` runs)."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from app.commands.subcommand import add_command
from app.errors import UserError

ORDER = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "studio", run)
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="build the main window on a temporary profile with demo data, then quit (exit 0 = ok)",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        type=Path,
        help="keep settings, logs and the local store in DIR instead of your user profile",
    )
    parser.add_argument("package", nargs="?", type=Path, help="an environment folder to open")


def run(args: argparse.Namespace) -> int:
    """open the desktop app

    Open Gauntlet Studio: browse bounties, author an environment, run the gauntlet.
    """
    smoke_dir: str | None = None
    if args.profile:
        profile = args.profile.expanduser().resolve()
        try:
            profile.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"Cannot use {profile} as the profile folder: {exc.strerror}.",
                "Pick a folder you can write to, or leave out --profile.",
                where="--profile",
            ) from exc
        os.environ["GAUNTLET_HOME"] = str(profile)
    elif args.smoke_test:
        smoke_dir = tempfile.mkdtemp(prefix="gauntlet-smoke-")
        os.environ["GAUNTLET_HOME"] = smoke_dir

    from app.ui.display import SCREEN_HINT, screen_problem

    problem = screen_problem()
    if problem and args.smoke_test:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # the smoke test needs no real screen
    elif problem:
        raise UserError(problem, SCREEN_HINT)

    from app.ui.application import run_studio

    try:
        return run_studio(smoke_test=args.smoke_test, package=args.package)
    finally:
        if smoke_dir:
            shutil.rmtree(smoke_dir, ignore_errors=True)
