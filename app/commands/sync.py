"""Platform commands: `submit` an environment, `sync` queued changes, show their `status`.

Offline, a submission is queued and sent by the next `gauntlet sync`; being offline is not an
error (see app.commands.platform_session).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from app.commands.platform_session import (
    open_local_store,
    print_json,
    quiet_sync,
    run_async,
    stderr_console,
    stdout_console,
)
from app.commands.subcommand import add_command
from app.errors import UserError

ORDER = 62


def register(subparsers: argparse._SubParsersAction) -> None:
    submit = add_command(subparsers, "submit", run_submit)
    submit.add_argument("dir", type=Path, help="the environment folder")
    submit.add_argument(
        "--bounty", required=True, metavar="ID", help="the bounty id (see `gauntlet bounties`)"
    )
    submit.add_argument("-m", "--message", default="", help="what changed in this revision")
    for name, handler in (("sync", run_sync), ("status", run_status)):  # only --json
        add_command(subparsers, name, handler).add_argument("--json", action="store_true")


def run_submit(args: argparse.Namespace) -> int:
    """submit an environment to a bounty

    Check the package (stage 1) and submit it as a new revision. Offline, the submission is
    queued and sent by the next `gauntlet sync`.
    """
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
        err = stderr_console()
        for finding in errors:
            err.finding(finding)
        err.plain(
            f"Not submitted: the package has {len(errors)} error"
            f"{'s' if len(errors) != 1 else ''} (stage 1, structure). Fix them and submit again."
        )
        return 1
    entry, result, submission = run_async(lambda: _queue_and_sync(root, args, report))
    _raise_if_refused(entry, result)
    out = stdout_console()
    files = len(entry.payload["files"])
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


async def _queue_and_sync(root: Path, args: argparse.Namespace, report):
    """Queue the submission and sync; give back its outbox entry, the sync result and the
    bounty's submission as the local store now knows it."""
    from app.sync.session import SyncSession

    async with SyncSession.open() as session:
        await quiet_sync(session, push=False)  # know the bounty and any earlier submission
        if session.store.bounties.get(args.bounty) is None and session.store.cursor is not None:
            raise UserError(
                f"There is no bounty '{args.bounty}' in your copy of {session.connection.label}.",
                "Run `gauntlet bounties` (online) to refresh the list and see the ids.",
            )
        entry = session.engine.queue_submit(
            root, args.bounty, message=args.message, client_report=report.to_dict()
        )
        result = await session.engine.sync()
        return entry, result, session.store.submissions.for_bounty(args.bounty)


def _raise_if_refused(entry, result) -> None:
    """A submission the platform refused or that conflicts is an error, not a queued change."""
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


def run_sync(args: argparse.Namespace) -> int:
    """send queued changes and fetch what changed

    Send what you queued while offline (submissions, replies), in order, then fetch what
    changed on the platform: bounties, submission states, reviews.
    """

    async def work():
        from app.sync.session import SyncSession

        async with SyncSession.open() as session:
            return await session.engine.sync()

    result = run_async(work)
    state = result.state
    if args.json:
        print_json(
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
        out = stdout_console()
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


@dataclass
class _Status:
    """What `gauntlet status` shows, read from the local store in one go."""

    submissions: list
    pending: list
    bounty_titles: dict[str, str]
    checks: dict[str, str]  # submission id -> the latest revision's server check state
    cursor: str | None  # where the last sync left off; None before the first


def run_status(args: argparse.Namespace) -> int:
    """your submissions, their states, and queued changes

    Show your submissions with their current state and the platform's check result, and the
    changes still waiting to be sent.
    """
    with open_local_store() as store:
        status = _read_status(store)
    if args.json:
        print_json(_status_json(status))
        return 0
    out = stdout_console()
    if not status.submissions:
        out.plain(
            "No submissions yet."
            + ("" if status.cursor else " (not synced yet: run `gauntlet sync`)")
        )
    for s in status.submissions:
        title = status.bounty_titles.get(s.bounty_id) or s.bounty_id
        flag = out.paint(" (waiting to sync)", "yellow") if s.pending else ""
        revision = f" · revision {s.latest_revision}" if s.latest_revision else ""
        check = f" · server check {status.checks[s.id]}" if status.checks.get(s.id) else ""
        out.plain(f"{out.paint(s.id, 'bold')}  {title}")
        out.plain(f"    {s.state}{revision}{check}{flag}")
    _print_pending(out, status.pending)
    return 0


def _read_status(store) -> _Status:
    submissions = store.submissions.list()
    return _Status(
        submissions=submissions,
        pending=store.outbox.pending(),
        bounty_titles={
            s.bounty_id: (b.title if (b := store.bounties.get(s.bounty_id)) else "")
            for s in submissions
        },
        checks={
            s.id: (revs[-1].check_state if (revs := store.submissions.revisions(s.id)) else "")
            for s in submissions
            if not s.id.startswith("pending:")
        },
        cursor=store.cursor,
    )


def _status_json(status: _Status) -> dict:
    return {
        "submissions": [
            {
                "id": s.id,
                "bounty_id": s.bounty_id,
                "bounty_title": status.bounty_titles.get(s.bounty_id, ""),
                "state": s.state,
                "server_state": s.server_state,
                "pending": s.pending,
                "revision": s.latest_revision,
                "check": status.checks.get(s.id, ""),
                "updated_at": s.updated_at,
            }
            for s in status.submissions
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
            for e in status.pending
        ],
        "synced": status.cursor is not None,
    }


def _print_pending(out, pending: list) -> None:
    if not pending:
        out.plain("Nothing waiting to be sent.")
        return
    out.plain()
    out.plain(out.paint(f"{len(pending)} queued change{'s' if len(pending) != 1 else ''}:", "bold"))
    for e in pending:
        note = f" — {e.last_error}" if e.last_error else ""
        out.plain(
            f"  #{e.seq} {e.kind} [{e.state}, {e.attempts} attempt"
            f"{'s' if e.attempts != 1 else ''}]{note}"
        )
