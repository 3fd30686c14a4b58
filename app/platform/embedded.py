"""A platform inside the desktop app: with no platform configured, the app and the sync
client start one on 127.0.0.1 with SQLite in the user data directory, demo bounties, and
local users (an author "you", a reviewer and a lab), so every flow works out of the box.

Each start signs the local users in with fresh tokens that live only in this process's memory
(the database keeps their hashes, as for every token): nothing secret is written to disk. They
expire after a day, so another process using the same local platform at the same time (the
CLI while the app is open) keeps working, and expired ones are pruned at the next start.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from sqlalchemy import delete

from app.errors import UserError
from app.platform.app import create_app
from app.platform.auth import issue_token
from app.platform.clock import utcnow
from app.platform.demo import ensure_user, load_demo, seed_demo
from app.platform.models import Token
from app.platform.platform import Platform
from app.platform.settings import Settings

log = logging.getLogger("gauntlet.server")
LOCAL_TOKEN_LABEL = "embedded platform"
LOCAL_TOKEN_DAYS = 1.0


@dataclass
class RunningServer:
    """uvicorn serving an app from a background thread on a loopback port."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 15.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def serve_in_thread(
    asgi_app, host: str = "127.0.0.1", port: int = 0, *, timeout: float = 20.0
) -> RunningServer:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            "choose another port or stop the program using it",
        ) from exc
    actual_port = sock.getsockname()[1]
    config = uvicorn.Config(asgi_app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [sock]},
        daemon=True,
        name=f"gauntlet-platform-{actual_port}",
    )
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise UserError(
                "the local platform did not start",
                "run with -v to see why; the data folder may be unwritable",
            )
        time.sleep(0.02)
    return RunningServer(f"http://{host}:{actual_port}", server, thread)


@dataclass
class EmbeddedPlatform:
    url: str
    data_dir: Path
    tokens: dict[str, str] = field(repr=False)  # role -> token: "author", "reviewer", "lab"
    users: dict[str, dict[str, str]]  # role -> {"id", "name", "role"}
    platform: Platform = field(repr=False)
    _running: RunningServer | None = field(default=None, repr=False)

    @property
    def author_token(self) -> str:
        return self.tokens["author"]

    def stop(self) -> None:
        if self._running is not None:
            self._running.stop()
            self._running = None
        self.platform.close()

    def __enter__(self) -> EmbeddedPlatform:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _local_users() -> dict[str, tuple[str, str]]:
    lab = load_demo()["labs"][0]
    return {"author": ("you", "author"), "reviewer": ("reviewer", "reviewer"), "lab": (lab, "lab")}


def ensure_local_users(platform: Platform) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Create the local users if needed and sign each in with a fresh, short-lived token."""
    tokens: dict[str, str] = {}
    users: dict[str, dict[str, str]] = {}
    with platform.write() as session:
        session.execute(
            delete(Token).where(Token.label == LOCAL_TOKEN_LABEL, Token.expires_at < utcnow())
        )
        for role_key, (name, role) in _local_users().items():
            user = ensure_user(session, name, role)
            if role == "reviewer" and not user.domains:
                # Vetted in every demo domain, so a lab can assign them out of the box.
                user.domains = sorted({b["domain"].lower() for b in load_demo()["bounties"]})
            tokens[role_key] = issue_token(
                session, user, expires_in_days=LOCAL_TOKEN_DAYS, label=LOCAL_TOKEN_LABEL
            )
            users[role_key] = {"id": user.id, "name": user.name, "role": user.role}
    return tokens, users


def start_embedded(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    run_worker: bool = True,
    port: int = 0,
    sandbox_backend: str = "auto",
) -> EmbeddedPlatform:
    """Start the local platform and return where it is and how to sign in."""
    folder = _local_folder(data_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
    except OSError as exc:
        raise UserError(
            f"cannot use {folder} for the local platform: {exc.strerror}",
            "check that the folder is writable, or set GAUNTLET_HOME to another folder",
        ) from exc
    settings = _local_settings(folder, run_worker, sandbox_backend)
    platform = Platform.open(settings)
    try:
        seed_demo(platform)
        tokens, users = ensure_local_users(platform)
        running = serve_in_thread(create_app(settings, platform=platform), "127.0.0.1", port)
    except BaseException:
        platform.close()
        raise
    return EmbeddedPlatform(running.url, folder, tokens, users, platform, running)


def run_queued_checks(
    data_dir: str | os.PathLike[str] | None = None, *, sandbox_backend: str = "auto"
) -> int:
    """Run the local platform's queued jobs (its server checks) in this process until none is
    ready; give back how many ran. For `gauntlet demo`: each CLI command starts and stops the
    local platform, so no worker of its own stays up long enough to take them."""
    from app.platform.worker import Worker

    platform = Platform.open(_local_settings(_local_folder(data_dir), False, sandbox_backend))
    try:
        worker = Worker(platform)
        ran = 0
        while worker.run_once():
            ran += 1
        return ran
    finally:
        platform.close()


def _local_folder(data_dir: str | os.PathLike[str] | None) -> Path:
    from app.paths import data_dir as user_data_dir

    return Path(data_dir) if data_dir is not None else user_data_dir() / "platform"


def _local_settings(folder: Path, run_worker: bool, sandbox_backend: str) -> Settings:
    return Settings(
        data_dir=folder,
        run_worker=run_worker,
        auto_assign_reviewers=True,
        sandbox_backend=sandbox_backend,
    )


__all__ = [
    "EmbeddedPlatform",
    "RunningServer",
    "run_queued_checks",
    "serve_in_thread",
    "start_embedded",
]
