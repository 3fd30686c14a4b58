"""Lab command `assign`: give a submission to a reviewer vetted in its bounty's domain, or take
it away (`--remove`). Nobody reviews their own submission; the platform refuses that too."""

from __future__ import annotations

import argparse

from app.commands.bounty import lab_client, new_key
from app.commands.platform_session import print_json, run_async, stdout_console
from app.commands.subcommand import add_command
from app.errors import UserError

ORDER = 65
REVIEWING_ROLES = ("reviewer", "lab", "admin")


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
            submission = (await client.get(f"/v1/submissions/{args.submission}")).data
            users = (await client.get("/v1/users")).data.get("items", [])
            reviewer = _find_user(users, args.reviewer)
            path = f"/v1/submissions/{submission['id']}/reviewers"
            if args.remove:
                was = any(r["id"] == reviewer["id"] for r in submission["reviewers"])
                reply = await client.request("DELETE", f"{path}/{reviewer['id']}")
                return reply.data, reviewer, "Unassigned" if was else "Was not assigned:"
            bounty = (await client.get(f"/v1/bounties/{submission['bounty_id']}")).data
            check_can_review(reviewer, submission, bounty, users, any_domain=args.any_domain)
            reply = await client.post(
                path, {"reviewer_id": reviewer["id"]}, idempotency_key=new_key()
            )
            return reply.data, reviewer, "Assigned"

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


def _find_user(users: list[dict], wanted: str) -> dict:
    for user in users:
        if user["id"] == wanted or user["name"].casefold() == wanted.strip().casefold():
            return user
    reviewers = [u["name"] for u in users if u["role"] == "reviewer"]
    raise UserError(
        f"No user '{wanted}' on this platform.",
        f"Reviewers: {', '.join(reviewers) or 'none yet'}. Give a name or user id.",
    )


def check_can_review(
    reviewer: dict, submission: dict, bounty: dict, users: list[dict], *, any_domain: bool
) -> None:
    """The rules a lab is told before anything is sent (the platform enforces the first two)."""
    name = reviewer["name"]
    if reviewer["id"] == (submission.get("author") or {}).get("id"):
        raise UserError(
            f"{name} wrote submission {submission['id']}: nobody may review their own submission.",
            "Pick another reviewer: " + _suggest(users, bounty["domain"], submission),
        )
    if reviewer["role"] not in REVIEWING_ROLES:
        raise UserError(
            f"{name} is an {reviewer['role']}, not a reviewer.",
            "Pick a reviewer: " + _suggest(users, bounty["domain"], submission),
        )
    domains = reviewer.get("domains") or []
    if bounty["domain"] not in domains and not any_domain:
        raise UserError(
            f"{name} is not vetted in '{bounty['domain']}', the domain of bounty {bounty['id']} "
            f"(their domains: {', '.join(domains) or 'none'}).",
            f"Pick a reviewer in '{bounty['domain']}': "
            + _suggest(users, bounty["domain"], submission)
            + ". Or pass --any-domain to assign them anyway.",
        )


def _suggest(users: list[dict], domain: str, submission: dict) -> str:
    author = (submission.get("author") or {}).get("id")
    names = [
        u["name"]
        for u in users
        if u["role"] in REVIEWING_ROLES and domain in (u.get("domains") or []) and u["id"] != author
    ]
    return ", ".join(names) or f"nobody is vetted in '{domain}' yet"
