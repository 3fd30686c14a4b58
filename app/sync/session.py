"""Everything one sync needs, opened together and closed together.

    async with SyncSession.open() as session:       # platform from settings (or embedded)
        await session.engine.sync()
        session.store.bounties.list(...)

The UI keeps one session for the life of the window; the CLI opens one per command.
"""

from __future__ import annotations

from typing import Any

import httpx

from app.sync.client import DEFAULT_TIMEOUT, PlatformClient
from app.sync.credentials import CredentialStore
from app.sync.engine import SyncEngine
from app.sync.outbox import RetryPolicy
from app.sync.platform import PlatformConnection, connect
from app.sync.state import SyncStatus
from app.sync.store import LocalStore


class SyncSession:
    def __init__(
        self,
        connection: PlatformConnection,
        *,
        status: SyncStatus | None = None,
        policy: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        **engine_options: Any,
    ) -> None:
        self.connection = connection
        self.store = LocalStore(connection.store_path)
        self.client = PlatformClient(connection.url, connection.token, timeout=timeout)
        me = self.store.get_meta("me") or "you"
        self.engine = SyncEngine(
            self.store, self.client, status=status, policy=policy, me=me, **engine_options
        )

    @classmethod
    def open(
        cls, credentials: CredentialStore | None = None, *, role: str = "author", **options: Any
    ) -> SyncSession:
        """A session on the platform the user configured (or the embedded local one)."""
        return cls(connect(credentials, role=role), **options)

    @property
    def status(self) -> SyncStatus:
        return self.engine.status

    async def aclose(self) -> None:
        try:
            await self.client.aclose()
        finally:
            self.store.close()
            self.connection.close()

    async def __aenter__(self) -> SyncSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
