"""The Workspace screen: one env pack open for editing.

Left, the package's files; right, a tab per open file (task table, settings form or text
editor). Edits are saved automatically (atomically) a moment after typing stops; a file
changed by another program is reloaded when it has no unsaved edits and offered for reload
otherwise (`disk_watch`). Files are named, created and renamed by `package_files`.
Structural checks (funnel stage 1) run on the unsaved text as the author types, in a worker
thread, and their findings are underlined in every open file.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.editor import ReviewAnnotation
from app.errors import UserError
from app.findings import Finding, Severity
from app.ui.widgets import fill_with_pages
from app.ui.workspace.disk_watch import DiskWatch
from app.ui.workspace.document_tab import DocumentTab, friendly_view_for
from app.ui.workspace.file_document import FileDocument
from app.ui.workspace.file_tree import PackageTree
from app.ui.workspace.live_lint import LiveLinter, findings_for, problems_line
from app.ui.workspace.package_files import (
    MANIFEST,
    check_rename,
    create_package_file,
    file_roles,
    first_file,
    move_package_file,
    package_kind,
    package_title,
)
from app.ui.workspace.task_folders import short_name

log = logging.getLogger(__name__)

AUTOSAVE_MS = 800


class WorkspaceView(QWidget):
    """Public API (for the main window):

    - `open_package(path)`: open the env pack folder at `path` (UserError if it is not one).
    - `jump_to(file, line, column=1)`: show a package-relative file at a 1-based position.
    - `current_package() -> Path | None`
    - `open_file(relpath) -> DocumentTab`, `save_all() -> bool`, `close_package()`.
    - `create_file(relpath) -> DocumentTab | None`, `rename_file(old, new)`: UserError when the
      name is not usable (the file tree's context menu asks for the names).
    - `findings() -> list[Finding]`: the latest live structural findings.
    - `set_annotations(list[ReviewAnnotation])`: review threads for the open package.
    - `undo()`, `redo()`: for an Edit menu; act on the current tab's current view.
    - `replay_context = (job_runner, backend_name)`: where trajectory replays run.
    - `shutdown()`: save, stop timers, watchers and the lint thread (closeEvent calls it);
      `open_package` afterwards starts them again (the view can be reused).
    Signals: `package_opened(Path)`, `findings_changed(list)`, `annotation_clicked(object)`,
    `status_message(str)` (quiet, for the status bar), `lint_running(bool)`.
    """

    package_opened = Signal(Path)
    findings_changed = Signal(list)
    annotation_clicked = Signal(object)
    status_message = Signal(str)
    lint_running = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("workspaceView")
        self._root: Path | None = None
        self._tabs: dict[str, DocumentTab] = {}
        self._findings: list[Finding] = []
        self._annotations: list[ReviewAnnotation] = []
        self.read_only = False  # set before open_package: a reviewer's checkout
        self.replay_context: tuple | None = None
        self._kind = "qa"
        self._roles: dict[str, str] = {}
        self._closed = False

        self.tree = PackageTree()
        self.splitter = QSplitter()
        self.splitter.addWidget(self._build_files_pane())
        self.splitter.addWidget(self._build_tabs_pane())
        self.splitter.widget(0).setMinimumWidth(190)  # file roles ("Reference answers") readable
        self.splitter.setCollapsible(0, False)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([290, 990])
        self.empty = QLabel(
            "<h3>No environment open</h3><p>Start one from a bounty in <b>Bounties</b>, "
            "or open an existing package folder.</p>"
        )
        self.empty.setObjectName("workspaceEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.pages = fill_with_pages(self, self.empty, self.splitter)
        self._start_services()
        self._connect()

    def _build_files_pane(self) -> QWidget:
        self.package_title = QLabel()
        self.package_title.setObjectName("packageTitle")
        self.package_title.setWordWrap(True)
        self.package_title.setTextFormat(Qt.TextFormat.PlainText)
        bold = self.package_title.font()
        bold.setBold(True)
        self.package_title.setFont(bold)
        self.package_path = QLabel()
        self.package_path.setObjectName("packagePath")
        self.package_path.setWordWrap(True)
        self.package_path.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        left = QWidget()
        left.setObjectName("workspaceFiles")
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(8, 8, 4, 8)
        left_layout.setSpacing(4)
        left_layout.addWidget(self.package_title)
        left_layout.addWidget(self.package_path)
        files_label = QLabel("Files")
        files_label.setObjectName("sectionLabel")
        left_layout.addSpacing(6)
        left_layout.addWidget(files_label)
        left_layout.addWidget(self.tree, 1)
        return left

    def _build_tabs_pane(self) -> QWidget:
        self.tabs = QTabWidget()
        self.tabs.setObjectName("workspaceTabs")
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.setDocumentMode(True)
        self.problems = QLabel()
        self.problems.setObjectName("problemsLine")
        self.problems.setTextFormat(Qt.TextFormat.RichText)
        self.save_state = QLabel()
        self.save_state.setObjectName("saveState")
        status = QHBoxLayout()
        status.setContentsMargins(8, 3, 8, 3)
        status.addWidget(self.problems, 1)
        status.addWidget(self.save_state)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(0)
        right_layout.addWidget(self.tabs, 1)
        right_layout.addLayout(status)
        return right

    def _start_services(self) -> None:
        """The autosave timer, the disk watch and the live structural checks."""
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.save_all)
        self._disk = DiskWatch(self._tabs.get, MANIFEST, self)
        self._linter = LiveLinter(self._unsaved_buffers, self)

    def _connect(self) -> None:
        self.tabs.tabCloseRequested.connect(self._close_tab_at)
        self.problems.linkActivated.connect(lambda _link: self.show_next_problem())
        self._disk.tree_changed.connect(self.tree.refresh)
        self._disk.manifest_changed.connect(self._refresh_roles)
        self._disk.reloaded.connect(self._reloaded)
        self._disk.save_requested.connect(self.save_all)
        self._disk.status_message.connect(self.status_message)
        self._linter.findings_ready.connect(self._apply_findings)
        self._linter.running_changed.connect(self.lint_running)
        self.tree.file_activated.connect(self.open_file)
        self.tree.new_file_requested.connect(self._ask_new_file)
        self.tree.rename_requested.connect(self._ask_rename)
        self.tabs.currentChanged.connect(self._current_tab_changed)
        self._shortcut(QKeySequence.StandardKey.Save, self.save_all)
        self._shortcut("Ctrl+W", lambda: self._close_tab_at(self.tabs.currentIndex()))

    # -- package ------------------------------------------------------------------------

    def current_package(self) -> Path | None:
        return self._root

    def open_package(self, path: str | Path) -> None:
        root = Path(path).expanduser().resolve()
        if not root.is_dir():
            raise UserError(
                f"{root} is not a folder.",
                "Choose the folder that contains env.toml.",
                where=str(root),
            )
        if not (root / MANIFEST).is_file():
            raise UserError(
                f"{root} has no env.toml, so it is not an environment package.",
                (
                    "Choose the package folder itself, "
                    "or create one with “Start environment” on a bounty."
                ),
                where=str(root),
            )
        if self._root is not None:
            self.close_package()
        if self._closed:  # reused after shutdown(): live checks run again
            self._closed = False
            self._linter.resume()
        self._root = root
        self._roles = file_roles(root)
        self.tree.set_roles(self._roles)
        self._kind = package_kind(root)
        self.tree.set_agentic(self._kind == "agentic")
        self.tree.set_root(root)
        self._disk.set_root(root)
        self._linter.set_root(root)
        self.pages.setCurrentWidget(self.splitter)
        self._show_package_title()
        first_rel = first_file(root, self._roles)  # the tasks, shown beside the settings
        first = self.open_file(first_rel) if first_rel else None
        self.open_file(MANIFEST, focus=first is None)
        if first is not None:
            self.tabs.setCurrentWidget(first)
        self._linter.run_now()
        self.package_opened.emit(root)

    def close_package(self) -> None:
        """Save everything and close all tabs (the package stays on disk, of course)."""
        self.save_all()
        self._autosave.stop()
        self._disk.stop()
        for relpath in list(self._tabs):
            self._remove_tab(relpath)
        self._disk.set_root(None)
        self._root = None
        self._findings = []
        self._linter.set_root(None)
        self.tree.set_root(None)
        self.pages.setCurrentWidget(self.empty)
        self.findings_changed.emit([])

    # -- files --------------------------------------------------------------------------

    def open_file(self, relpath: str, focus: bool = True) -> DocumentTab | None:
        """Open (or show) a package file; None, with a message, when it cannot be edited."""
        if self._root is None:
            return None
        tab = self._tabs.get(relpath)
        if tab is None:
            document = FileDocument(self._root, relpath)
            try:
                text = document.load()
            except UserError as exc:
                self.status_message.emit(f"{exc.message} {exc.hint}")
                return None
            tab = self._new_tab(document)
            tab.load(text)
            tab.changed.connect(lambda t=tab: self._tab_changed(t))
            tab.annotation_clicked.connect(self.annotation_clicked)
            tab.editor.cursor_moved.connect(self._cursor_moved)
            self._tabs[relpath] = tab
            index = self.tabs.addTab(tab, self._tab_title(tab))
            self.tabs.setTabToolTip(index, str(document.path))
            self._disk.watch(str(document.path))
            tab.set_findings(findings_for(self._findings, relpath))
            tab.set_annotations(self._annotations)
            tab.set_read_only(self.read_only)
        if focus:
            self.tabs.setCurrentWidget(tab)
            self.tree.select_relpath(relpath)
        return tab

    def _new_tab(self, document: FileDocument) -> DocumentTab:
        relpath = document.relpath
        friendly = friendly_view_for(relpath, self._roles, self._kind)
        role = next((r for r, p in self._roles.items() if p == relpath), "tasks")
        tab = DocumentTab(document, friendly, role, tasks_file=self._roles["tasks"])
        if tab.chat is not None and self.replay_context is not None:
            tab.chat.set_replay(*self.replay_context, before_replay=self.save_all)
        return tab

    def create_file(self, relpath: str) -> DocumentTab | None:
        """Create an empty package file (and its folders) and open it."""
        relpath = create_package_file(self._require_root(), relpath)
        self.tree.refresh()
        self._linter.request()
        return self.open_file(relpath)

    def rename_file(self, old: str, new: str) -> DocumentTab | None:
        """Rename (or move) a package file; an open tab follows it, unsaved edits included."""
        root = self._require_root()
        old, new = check_rename(root, old, new)
        tab = self._tabs.get(old)
        if tab is not None and tab.conflict:
            raise UserError(
                f"{old} was changed by another program while you were editing it.",
                "Choose “Reload from disk” or “Keep my version” first, then rename it.",
                where=old,
            )
        if tab is not None and tab.is_dirty():
            tab.document.save(tab.text())  # rename what the user sees, not an older version
        was_current = tab is not None and tab is self.current_tab()
        move_package_file(root, old, new)
        if tab is not None:
            self._remove_tab(old)
        self.tree.refresh()
        if old in self._roles.values():
            role = next(r for r, p in self._roles.items() if p == old)
            self.status_message.emit(
                f"Renamed {old} to {new}. env.toml still names {old} as the {role} file: "
                f"change [{role}] path in Settings."
            )
        else:
            self.status_message.emit(f"Renamed {old} to {new}")
        self._linter.request()
        return self.open_file(new, focus=was_current) if tab is not None else None

    def _require_root(self) -> Path:
        if self._root is None:
            raise UserError("No package is open.", "Open a package first.")
        return self._root

    def _ask_new_file(self, folder: str) -> None:
        name, ok = QInputDialog.getText(
            self, "New file", "File name (folders with /):", text=f"{folder}/" if folder else ""
        )
        if ok and name.strip():
            self._run_file_action(lambda: self.create_file(name))

    def _ask_rename(self, relpath: str) -> None:
        name, ok = QInputDialog.getText(
            self, "Rename file", f"New name for {relpath}:", text=relpath
        )
        if ok and name.strip() and name.strip() != relpath:
            self._run_file_action(lambda: self.rename_file(relpath, name))

    def _run_file_action(self, action) -> None:
        try:
            action()
        except UserError as exc:
            QMessageBox.warning(self, "Gauntlet Studio", f"{exc.message}\n\n{exc.hint}")

    def tab(self, relpath: str) -> DocumentTab | None:
        return self._tabs.get(relpath)

    def open_tabs(self) -> list[str]:
        return [self.tabs.widget(i).relpath for i in range(self.tabs.count())]

    def jump_to(self, file: str | None, line: int | None, column: int | None = 1) -> None:
        """Open `file` (package-relative; None means the package itself, shown as env.toml)
        and show 1-based `line`/`column`."""
        tab = self.open_file(file or MANIFEST)
        if tab is not None and line:
            tab.jump_to(line, column or 1)

    def save_all(self) -> bool:
        """Write every changed file (atomically). False if one could not be written."""
        self._autosave.stop()
        ok = True
        saved = []
        for tab in self._tabs.values():
            if tab.conflict or not tab.is_dirty():
                continue
            try:
                tab.document.save(tab.text())
                saved.append(tab.relpath)
            except UserError as exc:
                ok = False
                tab.banner.show_message(
                    f"<b>Not saved.</b> {exc.message} {exc.hint}", ("Try again", self.save_all)
                )
            self._disk.watch(str(tab.document.path))
        if MANIFEST in saved:
            self._refresh_roles()
        self._refresh_titles()
        if saved:
            self.status_message.emit("Saved " + ", ".join(saved))
        self.save_state.setText(
            "Unsaved changes" if self.has_unsaved_changes() else "All changes saved"
        )
        return ok

    def has_unsaved_changes(self) -> bool:
        return any(tab.is_dirty() for tab in self._tabs.values())

    # -- findings and annotations -------------------------------------------------------

    def findings(self) -> list[Finding]:
        return list(self._findings)

    def show_next_problem(self) -> Finding | None:
        """Jump to the next error or warning after the current position (wrapping around)."""
        ordered = [f for f in self._findings if f.file and f.severity != Severity.INFO]
        if not ordered:
            return None
        ordered.sort(
            key=lambda f: (f.severity != Severity.ERROR, f.file or "", f.line or 0, f.column or 0)
        )
        tab = self.current_tab()
        here = (
            (tab.relpath, tab.editor.cursor_line_column()[0])
            if tab is not None and tab.mode == "text"
            else None
        )
        target = ordered[0]
        if here is not None:
            later = [
                f
                for f in ordered
                if (f.file, f.line or 0) > here and f.severity == ordered[0].severity
            ]
            target = later[0] if later else ordered[0]
        self.jump_to(target.file, target.line, target.column)
        return target

    def lint_now(self) -> None:
        """Run the structural checks now instead of after the typing pause."""
        self._linter.run_now()

    def is_linting(self) -> bool:
        return self._linter.is_running()

    def set_annotations(self, annotations: list[ReviewAnnotation]) -> None:
        self._annotations = list(annotations)
        for tab in self._tabs.values():
            tab.set_annotations(self._annotations)

    # -- history ------------------------------------------------------------------------

    def current_tab(self) -> DocumentTab | None:
        widget = self.tabs.currentWidget()
        return widget if isinstance(widget, DocumentTab) else None

    def undo(self) -> None:
        if (tab := self.current_tab()) is not None:
            tab.undo()

    def redo(self) -> None:
        if (tab := self.current_tab()) is not None:
            tab.redo()

    # -- lifecycle ----------------------------------------------------------------------

    def shutdown(self) -> None:
        """Save, then stop every timer, watcher and the lint thread."""
        if self._closed:
            return
        if self._root is not None:
            self.close_package()
        self._closed = True
        self._linter.shutdown()
        self._autosave.stop()
        self._disk.stop()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)

    # -- internals ----------------------------------------------------------------------

    def _unsaved_buffers(self) -> dict[str, str]:
        """relpath -> text of every open file whose text differs from the disk (for the checks)."""
        buffers = {}
        for relpath, tab in self._tabs.items():
            text = tab.text()
            if tab.document.is_dirty(text):
                buffers[relpath] = text
        return buffers

    def _tab_changed(self, tab: DocumentTab) -> None:
        self.tabs.setTabText(self.tabs.indexOf(tab), self._tab_title(tab))
        if not tab.conflict:
            self._autosave.start()
        self.save_state.setText("Editing…")
        self._linter.request()

    def _apply_findings(self, findings: list[Finding]) -> None:
        self._findings = findings
        for relpath, tab in self._tabs.items():
            tab.set_findings(findings_for(findings, relpath))
        self.tree.set_findings(findings)
        self.problems.setText(problems_line(findings))
        self.findings_changed.emit(list(findings))

    def _refresh_roles(self) -> None:
        """env.toml may now name other files as tasks/solutions/negatives: relabel the tree
        and tabs, and reopen (unsaved edits permitting) a tab whose table kind changed."""
        if self._root is None:
            return
        roles, kind = file_roles(self._root), package_kind(self._root)
        self.tree.set_agentic(kind == "agentic")
        if roles == self._roles and kind == self._kind:
            return
        self._kind = kind
        self._roles = roles
        self.tree.set_roles(roles)
        self._disk.refresh_tree_soon()
        current = self.current_tab()
        for relpath, tab in list(self._tabs.items()):
            role = next((r for r, p in roles.items() if p == relpath), "tasks")
            if tab.friendly_kind == friendly_view_for(relpath, roles, kind) and (
                tab.table is None or tab.table_role == role
            ):
                continue
            if tab.is_dirty() or tab.conflict:
                continue  # never throw away edits; it picks up the new kind when reopened
            index = self.tabs.indexOf(tab)
            self._remove_tab(relpath)
            reopened = self.open_file(relpath, focus=tab is current)
            if reopened is not None:
                self.tabs.tabBar().moveTab(
                    self.tabs.indexOf(reopened), min(index, self.tabs.count() - 1)
                )
        self._refresh_titles()
        self.status_message.emit(
            "env.toml changed: " + ", ".join(f"{role} in {path}" for role, path in roles.items())
        )

    def _tab_title(self, tab: DocumentTab) -> str:
        name = short_name(tab.relpath)
        role = self.tree.label_for(tab.relpath)
        title = (
            f"{role} ({name})"
            if role and tab.relpath in ("env.toml", *self._roles.values())
            else name
        )
        if role == "Settings":
            title = f"Settings ({name})"
        return title + ("  ●" if tab.is_dirty() else "")

    def _refresh_titles(self) -> None:
        for index in range(self.tabs.count()):
            tab = self.tabs.widget(index)
            if isinstance(tab, DocumentTab):
                self.tabs.setTabText(index, self._tab_title(tab))

    def _close_tab_at(self, index: int) -> None:
        tab = self.tabs.widget(index)
        if not isinstance(tab, DocumentTab):
            return
        if tab.is_dirty() and not tab.conflict:
            try:
                tab.document.save(tab.text())
            except UserError as exc:
                tab.banner.show_message(
                    f"<b>Not saved, so the tab stays open.</b> {exc.message} {exc.hint}"
                )
                return
        self._remove_tab(tab.relpath)

    def _remove_tab(self, relpath: str) -> None:
        tab = self._tabs.pop(relpath)
        self._disk.unwatch(str(tab.document.path))
        self.tabs.removeTab(self.tabs.indexOf(tab))
        tab.shutdown()
        tab.deleteLater()

    def _reloaded(self, _tab: DocumentTab) -> None:
        self._refresh_titles()
        self._linter.request()

    def _show_package_title(self) -> None:
        assert self._root is not None
        # Plain text: a package's title is the author's text, never markup (links, images).
        self.package_title.setText(str(package_title(self._root)))
        self.package_path.setText(str(self._root))

    def _current_tab_changed(self, _index: int) -> None:
        tab = self.current_tab()
        if tab is not None:
            self.tree.select_relpath(tab.relpath)

    def _cursor_moved(self, line: int, column: int) -> None:
        self.save_state.setText(f"Line {line}, column {column}")

    def _shortcut(self, sequence, slot) -> None:
        shortcut = QShortcut(QKeySequence(sequence), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(slot)
