"""Platform command `reviews`: reviewers' verdicts and line comments on your submissions."""

from __future__ import annotations

import argparse

from app.commands.platform_session import print_json, quiet_sync, run_async, stdout_console
from app.commands.review_views import print_review, print_thread
from app.commands.subcommand import add_command
from app.sync.review_queue import review_json, thread_json

ORDER = 63


def register(subparsers: argparse._SubParsersAction) -> None:
    reviews = add_command(subparsers, "reviews", run_reviews)
    reviews.add_argument("--json", action="store_true")
    reviews.add_argument("--submission", metavar="ID", help="only this submission")
    reviews.add_argument("--offline", action="store_true", help="do not sync first")


def run_reviews(args: argparse.Namespace) -> int:
    """reviews and line comments on your submissions

    Show reviewers' verdicts and their comments on exact lines of your submissions (synced
    first unless --offline).
    """

    async def work():
        from app.sync.session import SyncSession

        async with SyncSession.open() as session:
            if not args.offline:
                await quiet_sync(session, push=False)
            return _collect_reviews(session.store, args.submission)

    data = run_async(work)
    if args.json:
        print_json(data)
        return 0
    out = stdout_console()
    if not data:
        out.plain("No submissions yet.")
    for sub in data:
        out.plain(
            out.paint(
                f"{sub['id']}  {sub['bounty_title'] or sub['bounty_id']}  [{sub['state']}]", "bold"
            )
        )
        for review in sub["reviews"]:
            print_review(out, review)
        for thread in sub["threads"]:
            print_thread(out, thread)
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
                "reviews": [review_json(r) for r in store.reviews.list(sub.id)],
                "threads": [thread_json(t) for t in store.reviews.threads_for(sub.id)],
            }
        )
    return result
