"""Platform commands: login, logout, bounties, submit, sync, status, reviews.

With no platform configured they use the embedded local platform (demo bounties, a local
author), so every command works out of the box. Being offline is not an error: commands say so
on stderr, show what the local store knows, and keep changes queued.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from app.commands.console import Console
from app.errors import UserError

ORDER = 60
T = TypeVar("T")

_SORTS = {
    "deadline": "deadline",
    "late-deadline": "-deadline",
    "reward": "-reward",
    "low-reward": "reward",
    "title": "title",
    "updated": "updated",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "login",
        help="log in to a Gauntlet platform",
        description="Log in to a platform: the token is read from a prompt (or from stdin when "
        "it is not a terminal), checked with the server and kept in your keychain.",
    )
    p.add_argument(
        "--server", required=True, metavar="URL", help="e.g. https://platform.example.org"
    )
    p.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="accept plain http:// to another machine (your token travels unencrypted)",
    )
    p.set_defaults(handler=run_login)

    p = subparsers.add_parser(
        "logout",
        help="forget the platform token; use the local platform again",
        description="Remove the saved platform address and its token from your keychain. "
        "Afterwards the app and the CLI use the built-in local platform again.",
    )
    p.set_defaults(handler=run_logout)

    p = subparsers.add_parser(
        "bounties",
        help="list bounties (synced, readable offline)",
        description="List bounties from the local store after a quick sync. Filters combine.",
    )
    p.add_argument("--json", action="store_true", help="print JSON (one object per bounty)")
    p.add_argument("--domain", action="append", default=[], help="e.g. biology (repeatable)")
    p.add_argument("--tag", default="", help="only bounties with this tag")
    p.add_argument("--status", action="append", default=[], help="open, closed, draft (repeatable)")
    p.add_argument("--q", "--search", dest="q", default="", help="words that must all appear")
    p.add_argument("--min-reward", type=float, default=None)
    p.add_argument("--max-reward", type=float, default=None)
    p.add_argument(
        "--deadline-after", default=None, metavar="DATE", help="ISO date, e.g. 2027-01-31"
    )
    p.add_argument("--deadline-before", default=None, metavar="DATE")
    p.add_argument(
        "--sort",
        default="deadline",
        choices=list(_SORTS),
        help="deadline (soonest first, default), late-deadline, reward (highest "
        "first), low-reward, title, updated (newest first)",
    )
    p.add_argument("--limit", type=int, default=None, help="show at most N")
    p.add_argument("--offline", action="store_true", help="do not sync first")
    p.add_argument("id", nargs="?", help="show one bounty in full (brief, rubric)")
    p.set_defaults(handler=run_bounties)

    p = subparsers.add_parser(
        "submit",
        help="submit an environment to a bounty",
        description="Check the package (stage 1) and submit it as a new revision. Offline, the "
        "submission is queued and sent by the next `gauntlet sync`.",
    )
    p.add_argument("dir", type=Path, help="the environment folder")
    p.add_argument(
        "--bounty", required=True, metavar="ID", help="the bounty id (see `gauntlet bounties`)"
    )
    p.add_argument("-m", "--message", default="", help="what changed in this revision")
    p.set_defaults(handler=run_submit)

    p = subparsers.add_parser(
        "sync",
        help="send queued changes and fetch what changed",
        description="Send what you queued while offline (submissions, replies), in order, then "
        "fetch what changed on the platform: bounties, submission states, reviews.",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_sync)

    p = subparsers.add_parser(
        "status",
        help="your submissions, their states, and queued changes",
        description="Show your submissions with their current state and the platform's check "
        "result, and the changes still waiting to be sent.",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_status)

    p = subparsers.add_parser(
        "reviews",
        help="reviews and line comments on your submissions",
        description="Show reviewers' verdicts and their comments on exact lines of your "
        "submissions (synced first unless --offline).",
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--submission", metavar="ID", help="only this submission")
    p.add_argument("--offline", action="store_true", help="do not sync first")
    p.set_defaults(handler=run_reviews)


# -- plumbing --------------------------------------------------------------------------------------


def _run(coro_factory: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(coro_factory())


def _out() -> Console:
    return Console.for_stream(sys.stdout)


def _err() -> Console:
    return Console.for_stream(sys.stderr)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


async def _quiet_sync(session, *, push: bool = True) -> None:
    """Sync (or only pull); when offline say so on stderr and carry on with the local copy."""
    from app.sync.errors import PlatformError

    try:
        if push:
            result = await session.engine.sync()
            if str(result.state.phase) in ("online", "syncing"):
                return
            message = result.state.message
        else:
            await session.engine.pull()
            return
    except PlatformError as exc:
        message = exc.message
    err = _err()
    err.plain(f"{err.paint('offline', 'yellow')}: {message} Showing your local copy.")


# -- login / logout --------------------------------------------------------------------------------


def run_login(args: argparse.Namespace) -> int:
    from app.sync.client import PlatformClient
    from app.sync.credentials import CredentialStore, SecretLocation, platform_token_name
    from app.sync.platform import save_server, validate_server_url

    insecure = bool(getattr(args, "allow_insecure_http", False))
    url = validate_server_url(args.server, allow_insecure_http=insecure)
    if sys.stdin.isatty():
        token = getpass.getpass(f"Token for {url} (input hidden): ").strip()
    else:
        token = sys.stdin.readline().strip()
    if not token:
        raise UserError(
            "No token was given.",
            "Paste the token your platform administrator gave you "
            "(or pipe it: `echo $TOKEN | gauntlet login --server URL`).",
        )

    async def check() -> dict:
        async with PlatformClient(url, token) as client:
            return (await client.get("/v1/me")).data

    me = _run(check)
    if not isinstance(me, dict) or "role" not in me:
        raise UserError(f"{url} does not look like a Gauntlet platform.", "Check the address.")
    credentials = CredentialStore()
    where = credentials.set(platform_token_name(url), token)
    save_server(url, allow_insecure_http=insecure)
    out = _out()
    out.plain(f"Logged in to {url} as {me.get('name')} ({me.get('role')}).")
    if where == SecretLocation.SESSION:
        _err().plain(
            f"{_err().paint('warning', 'yellow')}: {credentials.status().message} The token was "
            "NOT saved and is forgotten when this command ends. Unlock or install a keychain and "
            "log in again, or set GAUNTLET_SERVER and GAUNTLET_TOKEN for headless use."
        )
    return 0


def run_logout(args: argparse.Namespace) -> int:
    from app.sync.credentials import CredentialStore, platform_token_name
    from app.sync.platform import configured_server, save_server

    url = configured_server()
    if url:
        CredentialStore().delete(platform_token_name(url))
        save_server(None)
        _out().plain(f"Logged out of {url}; using the local platform again.")
    else:
        _out().plain("You were not logged in to a platform; the local platform is in use.")
    return 0


# -- bounties --------------------------------------------------------------------------------------


def run_bounties(args: argparse.Namespace) -> int:
    from app.sync.store import BountyFilter

    filters = BountyFilter(
        text=args.q,
        domains=tuple(args.domain),
        tag=args.tag,
        statuses=tuple(args.status),
        min_reward=args.min_reward,
        max_reward=args.max_reward,
        deadline_after=args.deadline_after,
        deadline_before=args.deadline_before,
        sort=_SORTS[args.sort],
        limit=args.limit,
    )

    async def work():
        from app.sync.session import SyncSession

        async with SyncSession.open() as session:
            if not args.offline:
                await _quiet_sync(session, push=False)
            if args.id:
                return session.store.bounties.get(args.id)
            return session.store.bounties.list(filters)

    result = _run(work)
    if args.id:
        if result is None:
            raise UserError(
                f"No bounty '{args.id}' in your local copy.",
                "Run `gauntlet bounties` to see the ids.",
            )
        return _show_bounty(result, as_json=args.json)
    if args.json:
        _print_json([_bounty_json(row) for row in result])
        return 0
    out = _out()
    if not result:
        out.plain(
            "No bounties match your filters."
            if filters != BountyFilter(sort=filters.sort, limit=filters.limit)
            else "No bounties yet."
        )
        return 0
    for row in result:
        reward = f"{row.reward:,.0f} {row.currency}"
        deadline = (row.deadline or "no deadline")[:10]
        out.plain(f"{out.paint(row.id, 'bold')}  {row.title}")
        out.plain(
            out.paint(
                f"    {row.domain} · {reward} · due {deadline} · {row.status}"
                + (f" · {', '.join(row.tags)}" if row.tags else ""),
                "dim",
            )
        )
    out.plain(f"{len(result)} bount{'y' if len(result) == 1 else 'ies'}")
    return 0


def _bounty_json(row) -> dict:
    return {
        "id": row.id,
        "title": row.title,
        "domain": row.domain,
        "status": row.status,
        "reward": row.reward,
        "currency": row.currency,
        "deadline": row.deadline,
        "env_kind": row.env_kind,
        "summary": row.summary,
        "tags": list(row.tags),
    }


def _show_bounty(bounty, *, as_json: bool) -> int:
    if as_json:
        _print_json(bounty.detail)
        return 0
    out = _out()
    out.plain(out.paint(f"{bounty.title}  ({bounty.id})", "bold"))
    out.plain(
        f"{bounty.domain} · {bounty.reward:,.0f} {bounty.currency} · due "
        f"{bounty.deadline or 'no deadline'} · {bounty.status} · kind {bounty.env_kind}"
    )
    out.plain()
    out.plain(bounty.brief.strip() or "(no brief)")
    if isinstance(bounty.rubric, list) and bounty.rubric:
        out.plain()
        out.plain(out.paint("Rubric", "bold"))
        for item in bounty.rubric:
            if isinstance(item, dict):
                out.plain(
                    f"  - {item.get('title', item.get('id'))} (weight {item.get('weight')}, "
                    f"0–{item.get('max_score')}): {item.get('description', '')}"
                )
    if isinstance(bounty.constraints, dict) and bounty.constraints:
        out.plain()
        out.plain(out.paint("Constraints", "bold"))
        for key, value in bounty.constraints.items():
            out.plain(f"  {key}: {value}")
    return 0


# -- submit ----------------------------------------------------------------------------------------


def run_submit(args: argparse.Namespace) -> int:
    from app.findings import Stage
    from app.funnel.pipeline import run_funnel

    root = args.dir.expanduser()
    if not root.is_dir():
        raise UserError(
            f"{root} is not a folder.", "Give the path of your environment folder.", where=str(root)
        )
    report = run_funnel(root, stages=(Stage.STRUCTURE,))
    errors = report.errors()
    if errors:
        err = _err()
        for finding in errors:
            err.finding(finding)
        err.plain(
            f"Not submitted: the package has {len(errors)} error"
            f"{'s' if len(errors) != 1 else ''} (stage 1, structure). Fix them and submit again."
        )
        return 1

    async def work():
        from app.sync.session import SyncSession

        async with SyncSession.open() as session:
            await _quiet_sync(session, push=False)  # know the bounty and any earlier submission
            if session.store.bounties.get(args.bounty) is None and session.store.cursor is not None:
                raise UserError(
                    f"There is no bounty '{args.bounty}' in your copy of "
                    f"{session.connection.label}.",
                    "Run `gauntlet bounties` (online) to refresh the list and see the ids.",
                )
            entry = session.engine.queue_submit(
                root, args.bounty, message=args.message, client_report=report.to_dict()
            )
            result = await session.engine.sync()
            return entry, result, session.store.submissions.for_bounty(args.bounty)

    entry, result, submission = _run(work)
    out = _out()
    files = len(entry.payload["files"])
    if any(c.seq == entry.seq for c in result.conflicts) or any(
        s == entry.seq for s, _ in result.failed
    ):
        message = next((m for s, m in result.failed if s == entry.seq), None) or next(
            c.message for c in result.conflicts if c.seq == entry.seq
        )
        raise UserError(
            f"The platform did not accept the submission: {message}",
            "See `gauntlet status`; fix the cause and submit again.",
        )
    if result.state.phase == "online" and submission is not None:
        out.plain(
            f"Submitted {files} files to {args.bounty} as revision {submission.latest_revision} "
            f"of {submission.id} (state: {submission.state})."
        )
        out.plain("The platform now re-checks it; see `gauntlet status` for the result.")
    else:
        out.plain(f"Queued {files} files for {args.bounty}: {result.state.message}")
        out.plain("Your submission is saved and will be uploaded by the next `gauntlet sync`.")
    return 0


# -- sync / status / reviews -------------------------------------------------------------------


def run_sync(args: argparse.Namespace) -> int:
    async def work():
        from app.sync.session import SyncSession

        async with SyncSession.open() as session:
            return await session.engine.sync()

    result = _run(work)
    state = result.state
    if args.json:
        _print_json(
            {
                "state": str(state.phase),
                "message": state.message,
                "sent": result.sent,
                "pulled": result.pulled,
                "pending": result.pending,
                "conflicts": [c.message for c in result.conflicts],
                "failed": [m for _, m in result.failed],
            }
        )
    else:
        out = _out()
        out.plain(f"{state.phase}: {state.message}")
        out.plain(
            f"sent {result.sent} change{'s' if result.sent != 1 else ''}, received "
            f"{result.pulled} update{'s' if result.pulled != 1 else ''}, "
            f"{result.pending} waiting"
        )
        for conflict in result.conflicts:
            out.plain(f"{out.paint('conflict', 'red')}: {conflict.message}")
            out.plain(f"  hint: {conflict.hint}")
        for _, message in result.failed:
            out.plain(f"{out.paint('refused', 'red')}: {message}")
        if state.hint and str(state.phase) != "online":
            out.plain(f"  hint: {state.hint}")
    if result.conflicts or result.failed:
        return 1
    return 2 if str(state.phase) == "error" else 0  # offline is not a failure: work is queued


def _open_local_store():
    from app.sync.platform import current_store_path
    from app.sync.store import LocalStore

    return LocalStore(current_store_path())


def run_status(args: argparse.Namespace) -> int:
    with _open_local_store() as store:
        submissions = store.submissions.list()
        pending = store.outbox.pending()
        bounty_titles = {
            s.bounty_id: (b.title if (b := store.bounties.get(s.bounty_id)) else "")
            for s in submissions
        }
        checks = {
            s.id: (revs[-1].check_state if (revs := store.submissions.revisions(s.id)) else "")
            for s in submissions
            if not s.id.startswith("pending:")
        }
        last_sync = store.cursor
    if args.json:
        _print_json(
            {
                "submissions": [
                    {
                        "id": s.id,
                        "bounty_id": s.bounty_id,
                        "bounty_title": bounty_titles.get(s.bounty_id, ""),
                        "state": s.state,
                        "server_state": s.server_state,
                        "pending": s.pending,
                        "revision": s.latest_revision,
                        "check": checks.get(s.id, ""),
                        "updated_at": s.updated_at,
                    }
                    for s in submissions
                ],
                "outbox": [
                    {
                        "seq": e.seq,
                        "kind": e.kind,
                        "state": e.state,
                        "attempts": e.attempts,
                        "last_error": e.last_error,
                        "created_at": e.created_at,
                    }
                    for e in pending
                ],
                "synced": last_sync is not None,
            }
        )
        return 0
    out = _out()
    if not submissions:
        out.plain(
            "No submissions yet." + ("" if last_sync else " (not synced yet: run `gauntlet sync`)")
        )
    for s in submissions:
        title = bounty_titles.get(s.bounty_id) or s.bounty_id
        flag = out.paint(" (waiting to sync)", "yellow") if s.pending else ""
        revision = f" · revision {s.latest_revision}" if s.latest_revision else ""
        check = f" · server check {checks[s.id]}" if checks.get(s.id) else ""
        out.plain(f"{out.paint(s.id, 'bold')}  {title}")
        out.plain(f"    {s.state}{revision}{check}{flag}")
    if pending:
        out.plain()
        out.plain(
            out.paint(f"{len(pending)} queued change{'s' if len(pending) != 1 else ''}:", "bold")
        )
        for e in pending:
            note = f" — {e.last_error}" if e.last_error else ""
            out.plain(
                f"  #{e.seq} {e.kind} [{e.state}, {e.attempts} attempt"
                f"{'s' if e.attempts != 1 else ''}]{note}"
            )
    else:
        out.plain("Nothing waiting to be sent.")
    return 0


def run_reviews(args: argparse.Namespace) -> int:
    async def work():
        from app.sync.session import SyncSession

        async with SyncSession.open() as session:
            if not args.offline:
                await _quiet_sync(session, push=False)
            return _collect_reviews(session.store, args.submission)

    data = _run(work)
    if args.json:
        _print_json(data)
        return 0
    out = _out()
    if not data:
        out.plain("No submissions yet.")
    for sub in data:
        out.plain(
            out.paint(
                f"{sub['id']}  {sub['bounty_title'] or sub['bounty_id']}  [{sub['state']}]", "bold"
            )
        )
        for review in sub["reviews"]:
            out.plain(
                f"  review by {review['reviewer']} on revision {review['revision']}: "
                f"{review['verdict']}"
            )
            if review["summary"]:
                out.plain(f"    {review['summary'].strip()}")
        for thread in sub["threads"]:
            where = f"{thread['file']}:{thread['start_line']}" if thread["file"] else "general"
            state = "resolved" if thread["resolved"] else thread["anchor_state"]
            out.plain(f"  {where} [{state}]")
            for comment in thread["comments"]:
                pending = " (not sent yet)" if comment["pending"] else ""
                out.plain(f"    {comment['author']}: {comment['body'].strip()}{pending}")
        if not sub["reviews"] and not sub["threads"]:
            out.plain("  no reviews yet")
    return 0


def _collect_reviews(store, only: str | None) -> list[dict]:
    result = []
    for sub in store.submissions.list():
        if sub.id.startswith("pending:") or (only and sub.id != only):
            continue
        bounty = store.bounties.get(sub.bounty_id)
        result.append(
            {
                "id": sub.id,
                "bounty_id": sub.bounty_id,
                "bounty_title": bounty.title if bounty else "",
                "state": sub.state,
                "reviews": [
                    {
                        "id": r.id,
                        "reviewer": r.reviewer,
                        "verdict": r.verdict,
                        "revision": r.data.get("revision"),
                        "scores": r.data.get("scores") or {},
                        "summary": r.data.get("summary") or "",
                        "created_at": r.created_at,
                    }
                    for r in store.reviews.list(sub.id)
                ],
                "threads": [
                    {
                        "id": t.id,
                        "file": t.file,
                        "start_line": t.start_line,
                        "end_line": t.end_line,
                        "anchor_state": t.anchor_state,
                        "resolved": t.resolved,
                        "comments": [
                            {
                                "id": c.id,
                                "author": c.author,
                                "body": c.body,
                                "created_at": c.created_at,
                                "pending": c.pending,
                            }
                            for c in t.comments
                        ],
                    }
                    for t in store.reviews.threads_for(sub.id)
                ],
            }
        )
    return result
