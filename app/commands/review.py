"""Reviewer command `review`: the queue of submissions assigned to you, one in full, line
comments (severity, suggested replacement, task row), replies, resolving, and a verdict bound
to the latest revision. (`gauntlet reviews`, with an s, is the author's view of reviews.)

Changes go through the outbox like every other sync change: offline they stay queued for the
next `gauntlet sync`; a refusal from the platform is printed and the change dropped."""

from __future__ import annotations

import argparse
import re

from app.commands.platform_session import print_json, quiet_sync, run_async, stdout_console
from app.commands.review_views import print_review, print_thread
from app.commands.subcommand import add_command, add_group
from app.errors import UserError
from app.sync.review_queue import queue_rows, submission_detail

ORDER = 64

VERDICTS = {"approve": "approve", "request-changes": "request_changes", "reject": "reject"}
SEVERITIES = ("blocking", "normal", "nit")
_LOCATION = re.compile(r"^(?P<path>.+):(?P<start>\d+)(?:-(?P<end>\d+))?$")


def register(subparsers: argparse._SubParsersAction) -> None:
    sub = add_group(
        subparsers,
        "review",
        "review submissions assigned to you (list, show, comment, verdict)",
        "The reviewer's side: list your queue, show a submission with what changed since your "
        "last review, comment on lines or task rows, and give a verdict.",
        dest="review_command",
        metavar="ACTION",
    )
    _register_list(sub)
    _register_show(sub)
    _register_comment(sub)
    _register_verdict(sub)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--offline", action="store_true", help="do not sync first")


def _register_list(sub) -> None:
    p = add_command(sub, "list", run_list)
    _common(p)


def _register_show(sub) -> None:
    p = add_command(sub, "show", run_show)
    p.add_argument("submission", metavar="SUBMISSION")
    _common(p)


def _register_comment(sub) -> None:
    p = add_command(sub, "comment", run_comment)
    p.add_argument("submission", metavar="SUBMISSION")
    p.add_argument("location", nargs="?", metavar="FILE:LINE[-LINE]", help="e.g. grader.py:12-14")
    p.add_argument("--body", help="the comment (markdown)")
    p.add_argument("--severity", choices=SEVERITIES, default=None, help="default: normal")
    p.add_argument("--suggest", metavar="TEXT", help="replacement text for the lines")
    p.add_argument("--task", metavar="TASK_ID", help="the tasks.jsonl row this is about")
    act = p.add_mutually_exclusive_group()
    act.add_argument("--reply", metavar="THREAD", help="reply in this thread (needs --body)")
    act.add_argument("--resolve", metavar="THREAD", help="mark this thread resolved")
    act.add_argument("--reopen", metavar="THREAD", help="reopen this resolved thread")


def _register_verdict(sub) -> None:
    p = add_command(sub, "verdict", run_verdict)
    p.add_argument("submission", metavar="SUBMISSION")
    p.add_argument("decision", choices=list(VERDICTS), metavar="{approve,request-changes,reject}")
    p.add_argument(
        "--score",
        action="append",
        default=[],
        metavar="CRITERION=VALUE",
        help="a rubric score, e.g. correctness=4 (repeatable)",
    )
    p.add_argument("--body", default="", help="the review's summary (markdown)")
    p.add_argument("--revision", type=int, default=None, help="the revision you reviewed")


# -- sessions ------------------------------------------------------------------------------------


def reviewer_session():
    """A sync session as the reviewer. On the embedded platform the local reviewer account keeps
    its own store, apart from the local author's."""
    from app.sync.platform import connect
    from app.sync.session import SyncSession

    return SyncSession(connect(role="reviewer"))


async def my_id(session) -> str | None:
    """My user id on the platform (asked once, then remembered in the store)."""
    from app.sync.errors import PlatformError

    known = session.store.get_meta("me_id")
    if known:
        return known
    try:
        data = await session.engine.who_am_i()
    except PlatformError:
        return None
    session.store.set_meta("me_id", str(data.get("id") or ""))
    return session.store.get_meta("me_id") or None


async def _read(args, collect):
    async with reviewer_session() as session:
        if not args.offline:
            await quiet_sync(session, push=False)
        return collect(session.store, await my_id(session))


# -- list and show -------------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    """submissions assigned to you

    Submissions assigned to you, the longest-waiting first, with their state, age and the
    platform's automated check verdict.
    """
    rows = run_async(lambda: _read(args, queue_rows))
    if args.json:
        print_json(rows)
        return 0
    out = stdout_console()
    if not rows:
        out.plain("Nothing assigned to you.")
    for row in rows:
        check = row["check"]["verdict"] or row["check"]["status"] or "not checked"
        mine = (
            f" · you: {row['my_last_verdict']} on r{row['my_last_revision']}"
            if row["my_last_verdict"]
            else ""
        )
        out.plain(f"{out.paint(row['id'], 'bold')}  {row['bounty_title'] or row['bounty_id']}")
        out.plain(
            f"    {row['state']} · revision {row['revision']} · waiting {row['age']} · "
            f"platform check: {check}{mine}"
        )
    return 0


def run_show(args: argparse.Namespace) -> int:
    """one submission: changes since your last review, threads, rubric

    Show a submission's latest revision, the files changed since the revision you last reviewed,
    its threads (severity, anchor, status) and the bounty's rubric.
    """
    data = run_async(lambda: _read(args, lambda s, me: submission_detail(s, args.submission, me)))
    if args.json:
        print_json(data)
        return 0
    out = stdout_console()
    check = data["check"]["verdict"] or data["check"]["status"] or "not checked"
    out.plain(out.paint(f"{data['id']}  {data['bounty_title'] or data['bounty_id']}", "bold"))
    out.plain(
        f"  by {data['author']} · {data['state']} · revision {data['revision']} · "
        f"platform check: {check}"
    )
    since = data["last_reviewed_revision"]
    out.plain()
    if since is None:
        out.plain(out.paint("Files (you have not reviewed this submission yet):", "bold"))
    elif since == data["revision"]:
        out.plain(out.paint(f"No new revision since your review of revision {since}.", "bold"))
    else:
        out.plain(out.paint(f"Changed since your review of revision {since}:", "bold"))
    for change in data["changed_files"]:
        out.plain(f"  {change['change']:<9} {change['path']}")
    _print_threads_and_rubric(out, data)
    return 0


def _print_threads_and_rubric(out, data: dict) -> None:
    out.plain()
    out.plain(out.paint(f"Threads ({len(data['threads'])}):", "bold"))
    for thread in data["threads"]:
        print_thread(out, thread, with_id=True)
    for review in data["reviews"]:
        print_review(out, review)
    out.plain()
    out.plain(out.paint("Rubric:", "bold"))
    if not data["rubric"]:
        out.plain("  (the bounty has no rubric)")
    for item in data["rubric"]:
        out.plain(
            f"  {item.get('id')}: {item.get('title', '')} (weight {item.get('weight', 1):g}, "
            f"0-{item.get('max_score', 5)})"
        )


# -- comment and verdict ---------------------------------------------------------------------------


def parse_location(text: str) -> tuple[str, int, int]:
    match = _LOCATION.match(text)
    if not match:
        raise UserError(
            f"'{text}' is not a place in a file.",
            "Write FILE:LINE or FILE:START-END, e.g. grader.py:12 or grader.py:12-14.",
        )
    start = int(match["start"])
    end = int(match["end"]) if match["end"] else start
    if start < 1 or end < start:
        raise UserError(
            f"'{text}': lines are counted from 1 and the range must not run backwards.",
            "Write FILE:START-END with START ≤ END, e.g. grader.py:12-14.",
        )
    return match["path"], start, end


def parse_scores(pairs: list[str]) -> dict[str, float]:
    scores = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        try:
            scores[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not key.strip():
            raise UserError(
                f"--score '{pair}' is not CRITERION=VALUE.",
                "Write e.g. --score correctness=4; `gauntlet review show` lists the criteria.",
            )
    return scores


def run_comment(args: argparse.Namespace) -> int:
    """comment on lines or a task row; reply, resolve or reopen a thread

    Start a thread on FILE:LINE or FILE:START-END of the latest revision (or on a task row with
    --task), or act on an existing thread with --reply, --resolve or --reopen. Thread ids are
    shown by `gauntlet review show`.
    """
    from app.commands.review_send import comment

    message = run_async(lambda: comment(args))
    stdout_console().plain(message)
    return 0


def run_verdict(args: argparse.Namespace) -> int:
    """approve, request changes or reject the latest revision

    Score the bounty's rubric and decide; the verdict is bound to the latest revision (or
    --revision N), and the platform refuses it if the author pushed since.
    """
    from app.commands.review_send import verdict

    scores = parse_scores(args.score)
    message = run_async(lambda: verdict(args, scores))
    stdout_console().plain(message)
    return 0
