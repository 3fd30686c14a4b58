"""Lab command `bounty`: post, edit and close bounties, and list the submissions to one.

Every action goes straight to the platform with your token (a lab's; on the local platform,
its local lab account): posting is not queued offline, because a lab wants to know at once
that the bounty is live.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from app.commands.bounty_fields import add_field_options, body_from_args
from app.commands.platform_session import print_json, run_async, stdout_console
from app.commands.subcommand import add_command, add_group
from app.errors import UserError
from app.sync import lab
from app.sync.lab_fields import constraints

ORDER = 64


@asynccontextmanager
async def lab_client() -> AsyncIterator[Any]:
    """A client signed in with the user's token (the local platform's lab account if none)."""
    from app.sync.client import PlatformClient
    from app.sync.platform import connect

    with connect(role="lab") as connection:
        async with PlatformClient(connection.url, connection.token) as client:
            yield client


def register(subparsers: argparse._SubParsersAction) -> None:
    sub = add_group(
        subparsers,
        "bounty",
        "post, edit and close your bounties (lab)",
        "For labs: post a bounty, change it, close it, and see the submissions to it with the "
        "platform's check results. Uses your platform token (see `gauntlet login`).",
        dest="bounty_command",
        metavar="ACTION",
    )
    _register_create(sub)
    _register_edit(sub)
    _register_close(sub)
    _register_submissions(sub)


def _register_create(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "create", run_create)
    add_field_options(p, creating=True)
    p.add_argument("--draft", action="store_true", help="post as a draft only you can see")
    _new_domain_and_json(p)


def _register_edit(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "edit", run_edit)
    p.add_argument("id", help="the bounty id (see `gauntlet bounties`)")
    add_field_options(p, creating=False)
    p.add_argument("--publish", action="store_true", help="open a draft to authors")
    _new_domain_and_json(p)


def _new_domain_and_json(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--new-domain", action="store_true", help="accept a domain no reviewer or bounty has yet"
    )
    p.add_argument("--json", action="store_true", help="print the bounty as JSON")


def _register_close(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "close", run_close)
    p.add_argument("id", help="the bounty id")
    p.add_argument("--json", action="store_true", help="print the bounty as JSON")


def _register_submissions(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "submissions", run_submissions)
    p.add_argument("id", help="the bounty id")
    p.add_argument("--json", action="store_true", help="print JSON (one object per submission)")


# -- create / edit / close ---------------------------------------------------------------------


def run_create(args: argparse.Namespace) -> int:
    """post a new bounty

    Post a bounty: title, domain, reward and deadline are needed; brief, tags, scoring criteria
    and constraints are optional. The domain must be one the platform knows (a reviewer is
    vetted in it, or a bounty uses it) unless --new-domain is given.
    """
    body = body_from_args(args, creating=True)
    body["constraints"] = constraints(args.constraint or [], {})
    if args.draft:
        body["status"] = "draft"

    async def work() -> dict:
        async with lab_client() as client:
            return await lab.post_bounty(client, body, new_domain=args.new_domain)

    bounty = run_async(work)
    return _print_bounty("Posted", bounty, as_json=args.json)


def run_edit(args: argparse.Namespace) -> int:
    """change a bounty you posted

    Change any field of a bounty you posted; fields not given stay as they are. Refused if
    someone changed it since it was read (run the command again).
    """
    body = body_from_args(args, creating=False)
    if args.publish:
        body["status"] = "open"
    if not body and not args.constraint:
        raise UserError(
            "Nothing to change: no field was given.",
            "Give the fields to change, e.g. `gauntlet bounty edit ID --reward 8000`.",
        )

    async def work() -> dict:
        async with lab_client() as client:
            current, etag = await lab.read_bounty(client, args.id)
            if args.constraint:
                body["constraints"] = constraints(args.constraint, current["constraints"])
            return await lab.edit_bounty(client, current, etag, body, new_domain=args.new_domain)

    return _print_bounty("Changed", run_async(work), as_json=args.json)


def run_close(args: argparse.Namespace) -> int:
    """close a bounty to new submissions

    Close a bounty you posted: it stays visible, but takes no new submissions.
    """

    async def work() -> tuple[dict, bool]:
        async with lab_client() as client:
            return await lab.close_bounty(client, args.id)

    bounty, changed = run_async(work)
    return _print_bounty("Closed" if changed else "Already closed:", bounty, as_json=args.json)


def _print_bounty(verb: str, bounty: dict, *, as_json: bool) -> int:
    if as_json:
        print_json(bounty)
        return 0
    out = stdout_console()
    out.plain(f"{verb} {out.paint(bounty['id'], 'bold')}: {bounty['title']}")
    rubric = ", ".join(f"{c['id']} ×{c['weight']:g}" for c in bounty.get("rubric") or [])
    out.plain(
        f"  {bounty['domain']} · {bounty['reward']:,} {bounty['currency']} · due "
        f"{bounty['deadline'][:10]} · {bounty['status']}"
        + (f" · {', '.join(bounty['tags'])}" if bounty.get("tags") else "")
    )
    if rubric:
        out.plain(f"  rubric: {rubric}")
    targets = [_target_words(t) for t in bounty.get("calibration_targets") or []]
    if targets:
        out.plain(f"  calibration targets: {'; '.join(targets)}")
    return 0


def _target_words(target: dict) -> str:
    on = f" on {target['model']}" if target.get("model") else ""
    return f"{target.get('metric')} {target.get('comparator')} {target.get('value')}{on}"


# -- submissions -------------------------------------------------------------------------------


def run_submissions(args: argparse.Namespace) -> int:
    """the submissions to a bounty, with their check results

    List the submissions to a bounty you posted: author, state, latest revision, the platform's
    own check verdict and the assigned reviewers.
    """

    async def work() -> tuple[dict, list[dict]]:
        async with lab_client() as client:
            return await lab.bounty_submissions(client, args.id)

    bounty, rows = run_async(work)
    if args.json:
        print_json(rows)
        return 0
    out = stdout_console()
    out.plain(out.paint(f"{bounty['title']}  ({bounty['id']}, {bounty['domain']})", "bold"))
    if not rows:
        out.plain("No submissions yet.")
    for row in rows:
        reviewers = ", ".join(r["name"] for r in row["reviewers"]) or "no reviewer"
        out.plain(
            f"{out.paint(row['id'], 'bold')}  {row['author']['name']}  [{row['state']}]  "
            f"revision {row['current_revision'] or '-'}  check: {lab.check_words(row['check'])}  "
            f"· {reviewers}"
        )
    out.plain(f"{len(rows)} submission{'' if len(rows) == 1 else 's'}")
    return 0
