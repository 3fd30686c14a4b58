"""`gauntlet demo`: the app's main job, end to end, in a terminal.

What `./studio` runs on a machine with no screen: browse the bounties of the local platform,
start an environment for one, run the whole gauntlet on it and submit it; then the third tier,
expert review, with the local platform's reviewer account: the platform re-runs the checks,
the reviewer comments on a line with a suggested fix and requests changes, the author applies
the suggestion and resubmits, and the reviewer sees only what changed and approves. Every step
is an ordinary `gauntlet` command, printed before it runs, so the demo doubles as a tutorial
for the CLI.
"""

from __future__ import annotations

import argparse
import shlex
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from app.commands.console import Console
from app.commands.subcommand import add_command
from app.errors import UserError

ORDER = 2
DEMO_BOUNTY = "b_0001"  # enzyme kinetics: a numeric qa bounty every install has (resources/demo)
DEMO_TEMPLATE = "qa-numeric"
# The reviewer's line comment: the manifest's tolerance line of the qa-numeric template.
REVIEWED_FILE = "env.toml"
REVIEWED_PREFIX = "tolerance = "
SUGGESTION = "tolerance = 1e-3            # relative 0.1%: the data have 3 significant figures"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "demo", run)
    parser.add_argument("dir", nargs="?", type=Path, help="where to create the demo environment")
    parser.add_argument(
        "--bounty", default=DEMO_BOUNTY, help=f"the bounty to answer (default {DEMO_BOUNTY})"
    )
    parser.add_argument(
        "--template", default=DEMO_TEMPLATE, help=f"the template (default {DEMO_TEMPLATE})"
    )


class _Walkthrough:
    """Numbered steps, each a `gauntlet` command printed before it runs; stops at the first
    that ends with an exit status it does not accept."""

    def __init__(self, out: Console, main: Callable[[Sequence[str]], int]) -> None:
        self.out = out
        self.main = main
        self.number = 0
        self.status = 0

    def title(self, title: str) -> None:
        self.number += 1
        self.out.plain()
        self.out.plain(self.out.paint(f"{self.number}. {title}", "bold"))

    def step(self, title: str, argv: list[str], accepted: tuple[int, ...] = (0,)) -> bool:
        self.title(title)
        self.out.plain(self.out.paint(f"$ gauntlet {shlex.join(argv)}", "dim"))
        status = self.main(argv)
        if status not in accepted:
            self.stop(f"exit status {status}; the message above says why", status)
        return self.status == 0

    def stop(self, why: str, status: int = 1) -> None:
        self.out.plain(f"The demo stopped at step {self.number} ({why}).")
        self.status = status


def run(args: argparse.Namespace) -> int:
    """walk through the main job in the terminal (no screen needed)

    Browse bounties on the local platform, start an environment for one, run the whole gauntlet on
    it and submit it; then review it as the local reviewer, revise it as the author and approve
    it, printing each `gauntlet` command as it runs.
    """
    from app.cli import main

    out = Console.for_stream()
    target = args.dir or Path(tempfile.mkdtemp(prefix="gauntlet-demo-")) / "enzyme-kinetics"
    if target.exists() and any(target.iterdir()):
        raise UserError(f"{target} is not empty.", "Give a new folder for the demo environment.")
    walk = _Walkthrough(out, main)
    if not _author_tiers(walk, args, target):
        return walk.status
    if _remote_platform():
        out.plain()
        out.plain(
            "You are logged in to a platform, so its own reviewers take it from here; the demo's "
            "review tier runs on the local platform (`gauntlet logout` to use it)."
        )
    elif not _review_tier(walk, args.bounty, target):
        return walk.status
    out.plain()
    out.plain(
        f"Your demo environment is in {target}. "
        "On a computer with a screen, `./studio` opens it in the app."
    )
    return 0


def _author_tiers(walk: _Walkthrough, args: argparse.Namespace, target: Path) -> bool:
    """Tiers 1 and 2 on the author's machine, then the submission."""
    new = ["new", str(target), "--template", args.template, "--bounty", args.bounty]
    new += ["--title", "Enzyme kinetics: Michaelis-Menten parameter estimation"]
    return (
        walk.step("The bounties on the local platform", ["bounties"])
        and walk.step("Start an environment for one of them", new)
        and walk.step(
            "Stage 1-3: structure, sandboxed verification, reward-hack attacks",
            ["run", str(target)],
            (0, 1),
        )
        and walk.step("Submit it for review", ["submit", str(target), "--bounty", args.bounty])
    )


def _review_tier(walk: _Walkthrough, bounty: str, target: Path) -> bool:
    """Tier 3 on the local platform: checks, a review with a suggestion, a revision, approval."""
    submission = _submission_for(bounty)
    if submission is None:
        walk.stop("the submission is still waiting to reach the platform: run `gauntlet sync`")
        return False
    if not _platform_checks(walk):
        return False
    line = _reviewed_line(target / REVIEWED_FILE)
    where = f"{REVIEWED_FILE}:{line}"
    comment = ["review", "comment", submission, where, "--severity", "normal"]
    comment += ["--body", "Say why 0.1% in the manifest too.", "--suggest", SUGGESTION]
    scores = ["--score", "correctness=4", "--score", "grader=4"]
    ask = ["review", "verdict", submission, "request-changes", *scores]
    if not (
        walk.step("The reviewer's queue (the local reviewer account)", ["review", "list"])
        and walk.step("The reviewer comments on a line and suggests a fix", comment)
        and walk.step("The reviewer scores the rubric and requests changes", ask)
        and walk.step("The author sees the review on its line", ["reviews"])
    ):
        return False
    walk.title("The author applies the suggestion (one click in the app)")
    _apply_suggestion(target / REVIEWED_FILE, line)
    walk.out.plain(f"{where} now reads: {SUGGESTION}")
    approve = ["review", "verdict", submission, "approve", *scores, "--body", "Thank you."]
    return (
        walk.step("Resubmit: a new revision", ["submit", str(target), "--bounty", bounty])
        and _platform_checks(walk)
        and walk.step("The reviewer sees only what changed", ["review", "show", submission])
        and walk.step("The reviewer approves", approve)
        and walk.step("Both sides see the final state", ["sync"])
        and walk.step("Its status on the platform", ["status"])
    )


def _platform_checks(walk: _Walkthrough) -> bool:
    """The platform re-runs the gauntlet on the new revision before a reviewer sees it."""
    from app.platform.local import run_local_checks

    walk.title("The platform re-runs the checks on the submitted revision")
    # The previous command's own platform worker may have taken the check already.
    ran = run_local_checks()
    walk.out.plain(f"{ran} server check{'s' if ran != 1 else ''} ran." if ran else "Already done.")
    return walk.step("The author syncs: the check's result", ["sync"])


def _submission_for(bounty: str) -> str | None:
    from app.commands.platform_session import open_local_store

    with open_local_store() as store:
        sent = [s for s in store.submissions.list() if s.bounty_id == bounty]
    ids = [s.id for s in sent if not s.id.startswith("pending:")]
    return ids[-1] if ids else None


def _remote_platform() -> bool:
    import os

    from app.sync.platform import configured_server

    return bool(os.environ.get("GAUNTLET_SERVER") or configured_server())


def _reviewed_line(path: Path) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, text in enumerate(lines, 1) if text.startswith(REVIEWED_PREFIX))


def _apply_suggestion(path: Path, line: int) -> None:
    from app.atomic import write_text_atomic

    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[line - 1] = SUGGESTION + "\n"
    write_text_atomic(path, "".join(lines))
