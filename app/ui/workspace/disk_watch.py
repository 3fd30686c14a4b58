"""Files changed by another program while a package is open: notice, then reload or ask.

A tab without unsaved edits takes the disk's text at once (one undoable step, so Undo brings
the previous version back). A tab with unsaved edits is never overwritten: it is marked in
conflict and its banner offers "Reload from disk" or "Keep my version". A deleted file keeps
its text on screen and offers to save it again. Changes are collected for a moment first,
because an atomic save (ours or another editor's) arrives as several events.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from app.ui.workspace.document_tab import DocumentTab

DISK_CHECK_MS = 150


class DiskWatch(QObject):
    """Watches the open package's folder and open files for the workspace view.

    Signals: `tree_changed()` (debounced: the file list should be read again),
    `manifest_changed()` (env.toml changed on disk), `reloaded(tab)` (a tab took the disk's
    text), `save_requested()` (the user kept their version: write it), `status_message(str)`.
    """

    tree_changed = Signal()
    manifest_changed = Signal()
    reloaded = Signal(object)
    save_requested = Signal()
    status_message = Signal(str)

    def __init__(
        self, tab_for: Callable[[str], DocumentTab | None], manifest: str, parent: QObject
    ) -> None:
        super().__init__(parent)
        self._tab_for = tab_for
        self._manifest = manifest
        self._root: Path | None = None
        self._pending: set[str] = set()
        self._check = _single_shot(self, self._check_disk)
        self._tree = _single_shot(self, self.tree_changed.emit)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._file_changed)
        self._watcher.directoryChanged.connect(lambda _p: self._tree.start())

    def set_root(self, root: Path | None) -> None:
        """Watch `root` (the package folder); None stops watching everything."""
        self._root = root
        if root is None:
            self.stop()
            paths = self._watcher.files() + self._watcher.directories()
            if paths:
                self._watcher.removePaths(paths)
        else:
            self.watch(str(root))

    def watch(self, path: str) -> None:
        # An atomic save replaces the file (a new inode), which drops it from the watch list.
        if (
            Path(path).exists()
            and path not in self._watcher.files()
            and path not in self._watcher.directories()
        ):
            self._watcher.addPath(path)

    def unwatch(self, path: str) -> None:
        if path in self._watcher.files():
            self._watcher.removePath(path)

    def refresh_tree_soon(self) -> None:
        self._tree.start()

    def stop(self) -> None:
        """Stop the pending checks (the watch list is left as it is)."""
        self._check.stop()
        self._tree.stop()

    # -- the policy ----------------------------------------------------------------------

    def _file_changed(self, path: str) -> None:
        if self._root is None:
            return
        try:
            relpath = Path(path).relative_to(self._root).as_posix()
        except ValueError:
            return
        self._pending.add(relpath)
        self._check.start()

    def _check_disk(self) -> None:
        pending, self._pending = self._pending, set()
        for relpath in pending:
            tab = self._tab_for(relpath)
            if tab is None:
                continue
            self.watch(str(tab.document.path))
            disk = tab.document.read_disk()
            if disk == tab.document.disk_text:
                continue  # our own save, or a touch that changed nothing
            self._disk_changed(tab, disk)
        if self._manifest in pending:
            self.manifest_changed.emit()
        self._tree.start()

    def _disk_changed(self, tab: DocumentTab, disk: str | None) -> None:
        name = tab.relpath
        if disk is None:
            tab.conflict = True
            tab.banner.show_message(
                f"<b>{name} was deleted or moved outside the app.</b> Your text is still here.",
                ("Save it again", lambda t=tab: self._keep_mine(t, None)),
            )
            return
        if not tab.is_dirty():
            tab.document.disk_text = disk
            tab.replace_text(disk, "Reload from disk")
            tab.banner.show_message(
                f"{name} was changed by another program and has been reloaded. "
                "<i>Undo</i> brings back the previous version.",
                ("OK", None),
            )
            self.status_message.emit(f"Reloaded {name} (changed outside the app)")
            return
        tab.conflict = True
        tab.banner.show_message(
            f"<b>{name} was changed by another program</b> while you have unsaved edits here. "
            "Reload to see the other version (Undo brings "
            "yours back), or keep yours and overwrite it.",
            ("Reload from disk", lambda t=tab, d=disk: self._reload(t, d)),
            ("Keep my version", lambda t=tab, d=disk: self._keep_mine(t, d)),
        )

    def _reload(self, tab: DocumentTab, disk: str) -> None:
        current = tab.document.read_disk()
        disk = current if current is not None else disk
        tab.conflict = False
        tab.document.disk_text = disk
        tab.replace_text(disk, "Reload from disk")
        self.reloaded.emit(tab)

    def _keep_mine(self, tab: DocumentTab, disk: str | None) -> None:
        tab.conflict = False
        tab.document.disk_text = disk
        self.save_requested.emit()


def _single_shot(parent: QObject, slot: Callable[[], object]) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(DISK_CHECK_MS)
    timer.timeout.connect(slot)
    return timer
