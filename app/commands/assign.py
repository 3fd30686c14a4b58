"""Lab command `assign`: give a submission to a reviewer vetted in its bounty's domain, or take
it away (`--remove`). Nobody reviews their own submission; the platform refuses that too."""

from __future__ import annotations

import argparse

from app.commands.bounty import lab_client
from app.commands.platform_session import print_json, run_async, stdout_console
from app.commands.subcommand import add_command
from app.sync import lab

ORDER = 65


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "assign", run_assign)
    p.add_argument("submission", help="the submission id (see `gauntlet bounty submissions`)")
    p.add_argument("reviewer", help="the reviewer's name or user id")
    p.add_argument("--remove", action="store_true", help="unassign the reviewer instead")
    p.add_argument(
        "--any-domain",
        action="store_true",
        help="assign even if the reviewer is not vetted in the bounty's domain",
    )
    p.add_argument("--json", action="store_true", help="print the submission as JSON")


def run_assign(args: argparse.Namespace) -> int:
    """assign a reviewer to a submission (lab)

    Assign REVIEWER (a name or user id) to review SUBMISSION, a submission to one of your
    bounties. The reviewer must be vetted in the bounty's domain unless --any-domain is given;
    the submission's author can never review it.
    """

    async def work() -> tuple[dict, dict, str]:
        async with lab_client() as client:
            return await lab.assign(
                client,
                args.submission,
                args.reviewer,
                remove=args.remove,
                any_domain=args.any_domain,
            )

    submission, reviewer, verb = run_async(work)
    if args.json:
        print_json(submission)
        return 0
    out = stdout_console()
    names = ", ".join(r["name"] for r in submission["reviewers"]) or "none"
    out.plain(
        f"{verb} {reviewer['name']} {'to' if verb == 'Assigned' else 'on'} {submission['id']}."
    )
    out.plain(f"  state {submission['state']} · reviewers: {names}")
    return 0
