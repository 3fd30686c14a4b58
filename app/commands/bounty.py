"""Lab command `bounty`: post, edit and close bounties, and list the submissions to one.

Every action goes straight to the platform with your token (a lab's; on the local platform,
its local lab account): posting is not queued offline, because a lab wants to know at once
that the bounty is live.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from app.commands.bounty_fields import add_field_options, body_from_args, constraints
from app.commands.platform_session import print_json, run_async, stdout_console
from app.commands.subcommand import add_command, add_group
from app.errors import UserError

ORDER = 64


@asynccontextmanager
async def lab_client() -> AsyncIterator[Any]:
    """A client signed in with the user's token (the local platform's lab account if none)."""
    from app.sync.client import PlatformClient
    from app.sync.platform import connect

    with connect(role="lab") as connection:
        async with PlatformClient(connection.url, connection.token) as client:
            yield client


def new_key() -> str:
    return str(uuid.uuid4())


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
            if not args.new_domain:
                await check_known_domain(client, body["domain"])
            reply = await client.post("/v1/bounties", body, idempotency_key=new_key())
            return reply.data

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
            current = await client.get(f"/v1/bounties/{args.id}")
            if args.constraint:
                body["constraints"] = constraints(args.constraint, current.data["constraints"])
            moved = "domain" in body and body["domain"] != current.data["domain"]
            if moved and not args.new_domain:
                await check_known_domain(client, body["domain"])
            reply = await client.request(
                "PATCH", f"/v1/bounties/{args.id}", json_body=body, if_match=current.etag
            )
            return reply.data

    return _print_bounty("Changed", run_async(work), as_json=args.json)


def run_close(args: argparse.Namespace) -> int:
    """close a bounty to new submissions

    Close a bounty you posted: it stays visible, but takes no new submissions.
    """

    async def work() -> tuple[dict, bool]:
        async with lab_client() as client:
            current = await client.get(f"/v1/bounties/{args.id}")
            if current.data["status"] == "closed":
                return current.data, False
            reply = await client.request(
                "PATCH",
                f"/v1/bounties/{args.id}",
                json_body={"status": "closed"},
                if_match=current.etag,
            )
            return reply.data, True

    bounty, changed = run_async(work)
    return _print_bounty("Closed" if changed else "Already closed:", bounty, as_json=args.json)


async def check_known_domain(client: Any, domain: str) -> None:
    """Refuse a domain nobody on the platform knows: most often a typo of one that exists."""
    known = await known_domains(client)
    if domain in known:
        return
    raise UserError(
        f"Unknown domain '{domain}': no reviewer on this platform is vetted in it and no bounty "
        "uses it.",
        f"Known domains: {', '.join(sorted(known)) or 'none yet'}. Check the spelling, or pass "
        "--new-domain to start a new one (then ask the platform's operator for reviewers in it).",
        where="--domain",
    )


async def known_domains(client: Any) -> set[str]:
    users = (await client.get("/v1/users")).data.get("items", [])
    known = {d for u in users for d in (u.get("domains") or [])}
    async for page in client.paginate("/v1/bounties", params={"limit": 200}):
        known |= {b["domain"] for b in page}
    return known


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
    return 0


# -- submissions -------------------------------------------------------------------------------


def run_submissions(args: argparse.Namespace) -> int:
    """the submissions to a bounty, with their check results

    List the submissions to a bounty you posted: author, state, latest revision, the platform's
    own check verdict and the assigned reviewers.
    """

    async def work() -> tuple[dict, list[dict]]:
        async with lab_client() as client:
            bounty = (await client.get(f"/v1/bounties/{args.id}")).data
            me = (await client.get("/v1/me")).data
            if me.get("role") != "admin" and (bounty.get("lab") or {}).get("id") != me.get("id"):
                raise UserError(
                    f"Bounty {args.id} was posted by {(bounty.get('lab') or {}).get('name')}, "
                    f"not by you ({me.get('name')}, {me.get('role')}).",
                    "Only the lab that posted a bounty (or an admin) sees its submissions.",
                )
            rows = []
            params = {"bounty_id": args.id, "limit": 200}
            async for page in client.paginate("/v1/submissions", params=params):
                for item in page:
                    rows.append(await _with_check(client, item))
            return bounty, rows

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
            f"revision {row['current_revision'] or '-'}  check: {_check_words(row['check'])}  "
            f"· {reviewers}"
        )
    out.plain(f"{len(rows)} submission{'' if len(rows) == 1 else 's'}")
    return 0


async def _with_check(client: Any, item: dict) -> dict:
    """The submission with its latest revision's server check (None before a revision)."""
    number = item.get("current_revision")
    check = None
    if number:
        revision = (await client.get(f"/v1/submissions/{item['id']}/revisions/{number}")).data
        check = {k: revision["check"].get(k) for k in ("status", "verdict", "error")}
    return {**item, "check": check}


def _check_words(check: dict | None) -> str:
    if check is None:
        return "no revision yet"
    if check.get("verdict"):
        return f"{check['status']}, verdict {check['verdict']}"
    if check.get("error"):
        return f"{check['status']} ({check['error']})"
    return str(check.get("status"))
