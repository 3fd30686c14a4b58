"""What the platform commands share: their async work, a quiet sync, their output.

With no platform configured they use the embedded local platform (demo bounties, a local
author), so every command works out of the box. Being offline is not an error: commands say so
on stderr, show what the local store knows, and keep changes queued.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from app.commands.console import Console

T = TypeVar("T")


def run_async(coro_factory: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(coro_factory())


def stdout_console() -> Console:
    return Console.for_stream(sys.stdout)


def stderr_console() -> Console:
    return Console.for_stream(sys.stderr)


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


async def quiet_sync(session, *, push: bool = True) -> None:
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
    err = stderr_console()
    err.plain(f"{err.paint('offline', 'yellow')}: {message} Showing your local copy.")


def open_local_store():
    """The local store of the configured platform, for commands that do not sync."""
    from app.sync.platform import current_store_path
    from app.sync.store import LocalStore

    return LocalStore(current_store_path())
