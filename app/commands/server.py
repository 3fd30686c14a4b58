"""`gauntlet serve`, `gauntlet worker` and `gauntlet admin …`: run and administer a platform.

The platform code lives in `app.platform` (its dependencies come with the `server` install
extra); it is imported only when one of these commands runs, so the desktop app never pays for it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from app.commands.subcommand import add_command, add_group
from app.errors import UserError

ORDER = 80


def register(subparsers) -> None:
    _register_serve(subparsers)
    _register_worker(subparsers)
    _register_admin(subparsers)


def _register_serve(subparsers) -> None:
    serve = add_command(subparsers, "serve", _serve)
    serve.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    _db_argument(serve)
    serve.add_argument(
        "--demo", action="store_true", help="add the demo labs and bounties (idempotent)"
    )
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="do not run a worker in this process (run `gauntlet worker` elsewhere)",
    )
    _sandbox_argument(serve, "sandbox for the server's own re-checks (default docker)")


def _register_worker(subparsers) -> None:
    worker = add_command(subparsers, "worker", _worker)
    _db_argument(worker)
    _sandbox_argument(worker, "sandbox for re-checks (default docker)")
    worker.add_argument(
        "--lease-seconds",
        type=float,
        default=60.0,
        help="how long a job stays ours without a heartbeat (default 60)",
    )
    worker.add_argument(
        "--max-check-seconds",
        type=float,
        default=1800.0,
        help="stop a check that runs longer and fail it, with the reason, for its author "
        "(default 1800)",
    )
    worker.add_argument(
        "--drain", action="store_true", help="exit when no job is ready instead of waiting"
    )


def _register_admin(subparsers) -> None:
    admin = add_group(
        subparsers,
        "admin",
        "platform administration: users and tokens",
        "Manage the platform's users and their access tokens, directly in its database (run it "
        "on the server).",
        dest="admin_command",
        metavar="ACTION",
    )
    create = add_command(admin, "create-user", _create_user)
    create.add_argument("name")
    create.add_argument("--role", required=True, choices=["author", "reviewer", "lab", "admin"])
    create.add_argument(
        "--expires-days", type=float, default=None, help="token lifetime (default: no expiry)"
    )
    create.add_argument(
        "--domain",
        action="append",
        default=[],
        help="a field the reviewer is vetted in, as bounties name it (repeatable); "
        "`gauntlet assign` picks reviewers by it",
    )
    token = add_command(admin, "create-token", _create_token)
    token.add_argument("name")
    token.add_argument("--expires-days", type=float, default=None)
    add_command(admin, "revoke-tokens", _revoke_tokens).add_argument("name")
    add_command(admin, "collect-blobs", _collect_blobs).add_argument(
        "--grace-hours",
        type=float,
        default=None,
        help="keep blobs uploaded within this many hours (default: the blob_grace_s setting, "
        "24 hours)",
    )
    for action in admin.choices.values():  # every action works on the database, --db last
        _db_argument(action)


def _db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        default="",
        help="database URL: sqlite:////path/file.sqlite3 or postgresql+psycopg://user@host/db "
        "(default: SQLite in the user data folder)",
    )


def _sandbox_argument(parser: argparse.ArgumentParser, help_text: str) -> None:
    """Where `serve` and `worker` run their re-checks."""
    parser.add_argument(
        "--sandbox", default="docker", choices=["docker", "auto", "process"], help=help_text
    )


def _open(args, **extra):
    try:
        from sqlalchemy.exc import OperationalError

        from app.platform.platform import Platform
        from app.platform.settings import Settings
    except ImportError as exc:
        raise UserError(
            "the platform is not installed",
            "install the server extra: pip install 'gauntlet-studio[server]'",
        ) from exc
    settings = Settings(database_url=args.db, **extra)
    try:
        return Platform.open(settings)
    except OperationalError as exc:
        raise UserError(
            f"cannot open the database: {exc.orig}",
            "check the --db URL, that the database server is running and that you may connect",
        ) from exc


def _serve(args) -> int:
    """run a Gauntlet platform (API server)

    Run the platform API. SQLite in the user data folder unless --db names a database.
    """
    import uvicorn

    from app.platform.app import create_app

    platform = _open(
        args, run_worker=not args.no_worker, demo=args.demo, sandbox_backend=args.sandbox
    )
    api = create_app(platform.settings, platform=platform)
    where = platform.settings.resolved_database_url().split("@")[-1]  # never print a password
    print(
        f"Gauntlet platform on http://{args.host}:{args.port} (database: {where})", file=sys.stderr
    )
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            (
                "note: this server speaks plain HTTP; "
                "put it behind a TLS reverse proxy before exposing it"
            ),
            file=sys.stderr,
        )
    uvicorn.run(api, host=args.host, port=args.port, log_level="info", access_log=False)
    return 0


def _worker(args) -> int:
    """process the platform's background jobs (re-checks)

    Take jobs from the platform database and run them. Start as many as you like, on any hosts.
    """
    from app.platform.worker import Worker

    if not args.max_check_seconds > 0:
        raise UserError(
            "--max-check-seconds must be more than 0.", "For example --max-check-seconds 1800."
        )
    platform = _open(
        args,
        sandbox_backend=args.sandbox,
        worker_lease_s=args.lease_seconds,
        recheck_max_s=args.max_check_seconds,
    )
    worker = Worker(platform)
    if args.drain:
        processed = 0
        while worker.run_once():
            processed += 1
        print(f"processed {processed} job(s)", file=sys.stderr)
        return 0
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"worker {worker.worker_id} waiting for jobs (Ctrl+C to stop)", file=sys.stderr)
    worker.run_forever(stop)
    return 0


def _create_user(args) -> int:
    """create a user and print their token once

    Create a user with a role and print their first access token. The token is shown only this once;
    the database keeps only its hash.
    """
    from app.platform.auth import create_user

    platform = _open(args)
    try:
        with platform.write() as session:
            user, token = create_user(
                session,
                args.name,
                args.role,
                expires_in_days=args.expires_days,
                domains=args.domain,
            )
    except ValueError as exc:
        raise UserError(
            str(exc), "pick another name, or use `gauntlet admin create-token NAME` for a new token"
        ) from exc
    print(
        (
            f"created {user.role} {user.name!r} ({user.id}). "
            "Their token, shown only now — keep it secret:"
        ),
        file=sys.stderr,
    )
    print(token)
    return 0


def _find_user(session, name):
    from sqlalchemy import select

    from app.platform.models import User

    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise UserError(
            f"no user named {name!r}",
            "create one with `gauntlet admin create-user NAME --role ROLE`",
        )
    return user


def _create_token(args) -> int:
    """print a new token for an existing user

    Issue an extra access token for an existing user and print it once.
    """
    from app.platform.auth import issue_token

    platform = _open(args)
    with platform.write() as session:
        user = _find_user(session, args.name)
        token = issue_token(
            session, user, expires_in_days=args.expires_days, label="gauntlet admin create-token"
        )
    print(f"new token for {args.name!r}, shown only now:", file=sys.stderr)
    print(token)
    return 0


def _revoke_tokens(args) -> int:
    """revoke every token of a user

    Revoke every access token of a user: their clients must log in again.
    """
    from sqlalchemy import update

    from app.platform.clock import utcnow
    from app.platform.models import Token

    platform = _open(args)
    with platform.write() as session:
        user = _find_user(session, args.name)
        count = session.execute(
            update(Token)
            .where(Token.user_id == user.id, Token.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        ).rowcount
    print(f"revoked {count} token(s) of {args.name!r}", file=sys.stderr)
    return 0


def _collect_blobs(args) -> int:
    """delete uploaded files that no revision uses

    Delete blobs (uploaded files) that no revision names and that nobody has uploaded within the
    grace period, so an upload whose revision is still on its way is kept.
    """
    from app.platform.blob_collection import collect_unreferenced_blobs

    if args.grace_hours is not None and args.grace_hours < 0:
        raise UserError("--grace-hours cannot be negative", "give 0 or more hours, e.g. 24")
    platform = _open(args)
    grace_s = (
        platform.settings.blob_grace_s if args.grace_hours is None else args.grace_hours * 3600
    )
    with platform.write() as session:
        collected = collect_unreferenced_blobs(session, grace_s=grace_s)
    print(f"collected {collected.blobs} unused blob(s), {collected.bytes} bytes", file=sys.stderr)
    return 0
