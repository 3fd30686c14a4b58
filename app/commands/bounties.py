"""Platform command `bounties`: list the bounties (synced first), or show one in full."""

from __future__ import annotations

import argparse

from app.commands.platform_session import (
    print_json,
    quiet_sync,
    run_async,
    stdout_console,
)
from app.commands.subcommand import add_command
from app.errors import UserError

ORDER = 61

_SORTS = {
    "deadline": "deadline",
    "late-deadline": "-deadline",
    "reward": "-reward",
    "low-reward": "reward",
    "title": "title",
    "updated": "updated",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "bounties", run_bounties)
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


def run_bounties(args: argparse.Namespace) -> int:
    """list bounties (synced, readable offline)

    List bounties from the local store after a quick sync. Filters combine.
    """
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
                await quiet_sync(session, push=False)
            if args.id:
                return session.store.bounties.get(args.id)
            return session.store.bounties.list(filters)

    result = run_async(work)
    if args.id:
        if result is None:
            raise UserError(
                f"No bounty '{args.id}' in your local copy.",
                "Run `gauntlet bounties` to see the ids.",
            )
        return _show_bounty(result, as_json=args.json)
    if args.json:
        print_json([_bounty_json(row) for row in result])
        return 0
    _print_bounty_list(result, filters)
    return 0


def _print_bounty_list(rows: list, filters) -> None:
    from app.sync.store import BountyFilter

    out = stdout_console()
    if not rows:
        out.plain(
            "No bounties match your filters."
            if filters != BountyFilter(sort=filters.sort, limit=filters.limit)
            else "No bounties yet."
        )
        return
    for row in rows:
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
    out.plain(f"{len(rows)} bount{'y' if len(rows) == 1 else 'ies'}")


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
        print_json(bounty.detail)
        return 0
    out = stdout_console()
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
