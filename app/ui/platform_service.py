"""The window's link to the platform: opens the local store at once (offline-first), connects
in a worker thread (starting the embedded local platform when none is configured), syncs on the
qasync loop, and reports the sync state as a Qt signal for the status bar.

Nothing here blocks the GUI thread: connecting (which may start a server) runs in a worker,
HTTP runs on asyncio, and being offline is a quiet state, never a dialog.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from app.sync.state import SyncPhase, SyncState, SyncStatus

log = logging.getLogger(__name__)

SYNC_INTERVAL_MS = 120_000


class PlatformService(QObject):
    state_changed = Signal(object)  # SyncState
    store_ready = Signal(object)  # LocalStore
    data_changed = Signal()  # a sync brought new data
    connected = Signal(str)  # a label for people: "local platform" or a host
    synced = Signal(object)  # SyncResult of every finished sync
    sync_failed = Signal(object)  # the exception that stopped a sync (also sent to `problem`)
    problem = Signal(object)
    role_changed = Signal(str)

    def __init__(
        self,
        credentials,
        job_runner,
        *,
        auto_sync: bool = True,
        connector=None,
        parent: QObject | None = None,
    ) -> None:
        """`connector(role)` returns the PlatformConnection to use (default: the configured
        platform, or the embedded one with that role's local account). Two windows in one
        process, each its own user with its own store, pass their own."""
        super().__init__(parent)
        self._credentials = credentials
        self._connector = connector
        self._job_runner = job_runner
        self._auto_sync = auto_sync
        self.role = "author"  # which local account to use on the embedded platform
        self._generation = 0  # bumped by a role switch: a connection begun before it is stale
        self.session = None
        self.store = None
        self._cached_store = None
        self._syncing = None
        self._sync_again = False  # a change was queued while a sync was already running
        self._closed = False
        self.label = ""
        self.sync_count = 0
        self.status = SyncStatus()
        self._unsubscribe = self.status.subscribe(
            self.state_changed.emit
        )  # queued to the GUI thread
        self._timer = QTimer(self)
        self._timer.setInterval(SYNC_INTERVAL_MS)
        self._timer.timeout.connect(self.sync_now)

    @property
    def state(self) -> SyncState:
        return self.status.state

    def start(self) -> None:
        """Show what we have at once, then connect in the background."""
        self._open_cached_store()
        self.status.update(phase=SyncPhase.SYNCING, message="Connecting to the platform…")
        generation = self._generation
        self._job_runner.run_in_thread(
            self._connect,
            on_done=lambda session: self._on_connected(session, generation),
            on_error=self._on_connect_failed,
        )

    def restart(self) -> None:
        """After the user changed the platform or signed in: reconnect."""
        self._generation += 1
        self._reconnect()

    def _reconnect(self) -> None:
        """Leave the current session and connect again. A sync still running keeps its session
        (and store) open until it ends; its result is then dropped (see `_sync_ended`)."""
        if self._syncing is not None:
            retiring, self.session = self.session, None
            self._syncing.add_done_callback(lambda _task: self._close_session(retiring))
            self._syncing, self._sync_again = None, False
            if retiring is not None and self.store is retiring.store:
                self.store = None
        else:
            self._close_session()
        self.start()

    def switch_role(self, role: str) -> None:
        """Act as another role. On the embedded platform that is another local account with its
        own store (as with a `connector`, which picks the account per role); on a real platform
        the account stays the same (the server decides what it may do), only the screens
        change."""
        if role == self.role:
            return
        self.role = role
        self._generation += 1
        self.role_changed.emit(role)
        session = self.session
        if session is not None and session.connection.embedded is None and not self._connector:
            return
        if self._cached_store is not None:
            self._cached_store.close()
            self._cached_store = None
            self.store = None
        self._reconnect()

    def sync_now(self) -> None:
        if self.session is None or self._closed:
            return
        if self._syncing is not None:
            self._sync_again = True  # the running sync may have missed a change queued just now
            return
        generation = self._generation
        self._syncing = self._job_runner.run_coroutine(
            self.session.engine.sync(),
            on_done=lambda result: self._on_synced(result, generation),
            on_error=lambda exc: self._on_sync_failed(exc, generation),
        )

    def shutdown(self) -> None:
        self._closed = True
        self._timer.stop()
        self._unsubscribe()
        if self._syncing is not None:
            self._syncing.cancel()
        self._close_session()
        if self._cached_store is not None:
            self._cached_store.close()
            self._cached_store = None

    # -- internals --------------------------------------------------------------------------------

    def _open_cached_store(self) -> None:
        if self.store is not None:
            return
        try:
            from app.sync.platform import current_store_path
            from app.sync.store import LocalStore

            path = current_store_path(self.role)
            if path.exists():
                self._cached_store = self.store = LocalStore(path)
                self.store_ready.emit(self.store)
        except Exception as exc:  # an unreadable cache must not stop the app; the sync rebuilds it
            log.warning("could not open the cached local store: %s", exc)

    def _connect(self):
        """Worker thread: resolve the platform (maybe start the embedded one), open the session."""
        from app.sync.platform import connect
        from app.sync.session import SyncSession

        if self._connector is not None:
            connection = self._connector(self.role)
        else:
            connection = connect(self._credentials, role=self.role)
        try:
            return SyncSession(connection, status=self.status)
        except BaseException:
            connection.close()
            raise

    def _on_connected(self, session, generation: int) -> None:
        if self._closed or generation != self._generation:
            session.store.close()
            session.connection.close()
            return
        self.session = session
        self.label = session.connection.label or session.connection.url
        if self._cached_store is not None:
            self._cached_store.close()
            self._cached_store = None
        self.store = session.store
        self.store_ready.emit(self.store)
        self.connected.emit(self.label)
        self.sync_now()
        if self._auto_sync:
            self._timer.start()

    def _on_connect_failed(self, exc: BaseException) -> None:
        message = getattr(exc, "message", str(exc))
        self.status.update(
            phase=SyncPhase.ERROR if hasattr(exc, "hint") else SyncPhase.OFFLINE,
            message=message,
            hint=getattr(exc, "hint", ""),
        )
        self.problem.emit(exc)

    def _on_synced(self, result, generation: int) -> None:
        if generation != self._generation:
            return  # a sync of a session left meanwhile (role switch, new platform)
        self._syncing = None
        self.sync_count += 1
        if result.pulled or self.sync_count == 1:
            self.data_changed.emit()
        self.synced.emit(result)
        if self._sync_again:
            self._sync_again = False
            self.sync_now()

    def _on_sync_failed(self, exc: BaseException, generation: int) -> None:
        if generation != self._generation:
            return
        self._syncing = None
        self._sync_again = False
        self.sync_failed.emit(exc)
        self.status.update(
            phase=SyncPhase.ERROR,
            message=getattr(exc, "message", str(exc)),
            hint=getattr(exc, "hint", ""),
        )
        self.problem.emit(exc)

    def _close_session(self, session=None) -> None:
        """Close `session` (default: the current one, which is then left)."""
        if session is None:
            session, self.session = self.session, None
        if session is None:
            return
        if self.store is session.store:
            self.store = None
        client = session.client
        try:
            import asyncio

            loop = asyncio.get_event_loop()
            if loop.is_running() and not loop.is_closed():
                loop.create_task(client.aclose())
        except RuntimeError:
            pass
        try:
            session.store.close()
        finally:
            session.connection.close()
