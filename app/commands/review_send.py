"""Sending what `gauntlet review comment|verdict` wrote: queue it in the outbox, sync, and
report what became of it (sent, queued while offline, or refused by the platform)."""

from __future__ import annotations

import argparse

from app.commands.platform_session import quiet_sync
from app.commands.review import VERDICTS, my_id, parse_location, reviewer_session
from app.errors import UserError
from app.sync.review_queue import assigned_submission

_QUEUED = "You are offline: it is queued and will be sent by the next `gauntlet sync`."


async def _deliver(session, entry, hint: str) -> bool:
    """Sync; True when the platform took the change, False when it is queued (offline).
    A refusal is dropped from the outbox (the command line is the draft) and raised."""
    result = await session.engine.sync()
    current = session.store.outbox.get(entry.seq)
    if current is None:
        return True
    refused = current.state in ("failed", "conflict") or (
        current.last_error and str(result.state.phase) == "error"
    )
    if not refused:
        return False
    session.engine.discard(entry.seq)
    if current.state != "conflict":  # a refusal (not assigned, your own work): no newer revision
        hint = "Nothing changed on the platform; the message says why."
    raise UserError(f"Not sent: {current.last_error}", hint)


def _thread_on(session, submission_id: str, thread_id: str):
    for thread in session.store.reviews.threads_for(submission_id):
        if thread.id == thread_id:
            return thread
    raise UserError(
        f"Submission {submission_id} has no thread {thread_id}.",
        f"`gauntlet review show {submission_id}` lists its threads with their ids.",
    )


def _check_comment_args(args: argparse.Namespace) -> None:
    acting = args.reply or args.resolve or args.reopen
    if acting and (args.location or args.severity or args.suggest or args.task):
        raise UserError(
            "--reply, --resolve and --reopen act on an existing thread.",
            "Leave out the location, --severity, --suggest and --task (they are for a new thread).",
        )
    if (args.reply or not acting) and not (args.body or "").strip():
        raise UserError("The comment has no text.", "Give it with --body TEXT.")
    if not acting and not args.location and not args.task:
        raise UserError(
            "Where is the comment about?",
            "Give FILE:LINE[-LINE] (e.g. grader.py:12), or --task TASK_ID for a task row.",
        )


async def comment(args: argparse.Namespace) -> str:
    _check_comment_args(args)
    location = parse_location(args.location) if args.location else None
    async with reviewer_session() as session:
        await quiet_sync(session, push=False)
        sub = assigned_submission(session.store, args.submission)
        hint = f"Check it with `gauntlet review show {sub.id}` and run the command again."
        thread_id = args.reply or args.resolve or args.reopen
        if thread_id:
            _thread_on(session, sub.id, thread_id)
            if args.reply:
                entry = session.engine.queue_reply(thread_id, args.body)
                done = "Reply sent"
            else:
                entry = session.engine.queue_resolve(thread_id, bool(args.resolve))
                done = "Thread resolved" if args.resolve else "Thread reopened"
            sent = await _deliver(session, entry, hint)
            return f"{done} ({thread_id})." if sent else _QUEUED
        before = {t.id for t in session.store.reviews.threads_for(sub.id)}
        path, start, end = location if location else (None, None, None)
        entry = session.engine.queue_thread(
            sub.id,
            revision=sub.latest_revision,
            body=args.body,
            path=path,
            start_line=start,
            end_line=end,
            severity=args.severity,
            suggestion=args.suggest,
            task_id=args.task,
        )
        if not await _deliver(session, entry, hint):
            return _QUEUED
        new = [t for t in session.store.reviews.threads_for(sub.id) if t.id not in before]
        where = f"{new[0].file}:{new[0].start_line}" if new and new[0].file else "the submission"
        ident = new[0].id if new else "?"
        return (
            f"Thread {ident} started on {where} of revision {sub.latest_revision} "
            f"({new[0].severity if new else args.severity or 'normal'})."
        )


def _check_scores(session, sub, scores: dict[str, float]) -> None:
    bounty = session.store.bounties.get(sub.bounty_id)
    criteria = {str(item.get("id")): item for item in (bounty.rubric or [])} if bounty else {}
    for key, value in scores.items():
        if criteria and key not in criteria:
            raise UserError(
                f"--score {key}: the bounty's rubric has no criterion '{key}'.",
                f"Its criteria are: {', '.join(criteria)}.",
            )
        top = criteria.get(key, {}).get("max_score", 5)
        if criteria and not 0 <= value <= top:
            raise UserError(
                f"--score {key}={value:g} is out of range.", f"Score {key} from 0 to {top}."
            )


async def verdict(args: argparse.Namespace, scores: dict[str, float]) -> str:
    async with reviewer_session() as session:
        await quiet_sync(session, push=False)
        await my_id(session)
        sub = assigned_submission(session.store, args.submission)
        _check_scores(session, sub, scores)
        revision = args.revision or sub.latest_revision
        entry = session.engine.queue_review(
            sub.id,
            revision=revision,
            verdict=VERDICTS[args.decision],
            scores=scores,
            summary=args.body,
        )
        hint = f"Run `gauntlet review show {sub.id}` to see the latest revision, then decide again."
        if not await _deliver(session, entry, hint):
            return _QUEUED
        state = session.store.submissions.get(sub.id)
        return (
            f"Verdict '{args.decision}' on revision {revision} of {sub.id} sent "
            f"(submission now {state.state if state else 'unknown'})."
        )
