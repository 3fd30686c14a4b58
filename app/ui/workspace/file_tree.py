"""The package's files as a tree, with a plain-words label for the files every pack has."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QMenu, QTreeView, QWidget

from app.envpack.agentic_tasks import INSTRUCTION, TASKS_DIR
from app.findings import Finding, Severity
from app.ui.workspace.task_folders import GROUPS, TaskFolder, task_folders

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
FOLDER_ROLE = Qt.ItemDataRole.UserRole + 2  # a folder row's key, to keep it open over refreshes
NEW_FILE_ROLE = Qt.ItemDataRole.UserRole + 3  # the folder "New file…" on a folder row creates in
EXPAND_TASKS_UP_TO = 4  # a small package opens with its tasks unfolded

# What each well-known file is, for someone who has never seen an env pack.
ROLES = {
    "env.toml": "Settings",
    "tasks.jsonl": "Tasks",
    "solutions.jsonl": "Reference answers",
    "negatives.jsonl": "Known-wrong answers",
    "grader.py": "Grader code",
    "rubric.md": "Judge rubric",
    "README.md": "Description",
    "environment/Dockerfile": "Sandbox image",
}
ORDER = list(ROLES)
# env.toml's [tasks]/[solutions]/[negatives] `path` may point elsewhere; the label follows it.
DATA_ROLES = {
    "tasks": ("tasks.jsonl", "Tasks"),
    "solutions": ("solutions.jsonl", "Reference answers"),
    "negatives": ("negatives.jsonl", "Known-wrong answers"),
}
HIDDEN_DIRS = {".git", "__pycache__", ".venv", ".mypy_cache", ".pytest_cache", "node_modules"}
MAX_FILES = 2000  # a package is small; a huge folder is shown partially rather than freezing


class PackageTree(QTreeView):
    file_activated = Signal(str)  # relative path (posix)
    new_file_requested = Signal(str)  # folder (posix, "" for the package root) to create it in
    rename_requested = Signal(str)  # relative path of the file to rename

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("packageTree")
        self._model = QStandardItemModel(self)
        self.setModel(self._model)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setHorizontalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        )  # names elide instead
        self.setIndentation(14)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setUniformRowHeights(True)
        self.activated.connect(self._activated)
        self.clicked.connect(self._activated)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self._root: Path | None = None
        self._problems: dict[str, Severity] = {}
        self._labels: dict[str, str] = dict(ROLES)  # relpath -> what the file is
        self._agentic = False  # tasks/ shown as a tree of tasks (kind = "agentic")
        self._tasks_unfolded = False

    def set_roles(self, roles: dict[str, str]) -> None:
        """Where env.toml puts the data files: role ("tasks") -> package-relative path."""
        moved = {
            default: roles.get(role, default) for role, (default, _label) in DATA_ROLES.items()
        }
        labels = {moved.get(rel, rel): label for rel, label in ROLES.items()}  # keeps the order
        if labels != self._labels:
            self._labels = labels
            self.refresh()

    def set_agentic(self, agentic: bool) -> None:
        """Show tasks/ as one entry a task, its files grouped (an agentic package)."""
        if agentic != self._agentic:
            self._agentic = agentic
            self.refresh()

    def label_for(self, rel: str) -> str | None:
        """What a file is, in plain words ("Tasks"), or None for other files."""
        return self._labels.get(rel)

    def set_root(self, root: Path | None) -> None:
        self._root = root
        self._tasks_unfolded = False
        self.refresh()

    def relpaths(self) -> list[str]:
        out = []

        def walk(item: QStandardItem) -> None:
            for row in range(item.rowCount()):
                child = item.child(row)
                if child.data(PATH_ROLE) and child.data(PATH_ROLE) not in out:
                    out.append(child.data(PATH_ROLE))
                walk(child)

        walk(self._model.invisibleRootItem())
        return out

    def set_findings(self, findings: list[Finding]) -> None:
        """Mark files with errors or warnings (worst wins)."""
        worst: dict[str, Severity] = {}
        for finding in findings:
            if not finding.file or finding.severity == Severity.INFO:
                continue
            if worst.get(finding.file) != Severity.ERROR:
                worst[finding.file] = finding.severity
        if worst != self._problems:
            self._problems = worst
            self.refresh()

    def refresh(self) -> None:
        expanded = self._expanded_paths()
        selected = self.current_relpath()
        self._model.clear()
        if self._root is None:
            return
        files = _list_files(self._root)
        tasks: list[str] = []
        if self._agentic:
            tasks = [f for f in files if f.startswith(TASKS_DIR + "/")]
            files = [f for f in files if f not in set(tasks)]
        known = [f for f in self._labels if f in files and "/" not in f]
        others = [f for f in files if f not in known]
        folders: dict[str, QStandardItem] = {}
        root_item = self._model.invisibleRootItem()
        if tasks:
            self._add_tasks(root_item, task_folders(self._root, tasks), folders)
        for rel in known + others:
            parent = root_item
            parts = rel.split("/")
            for depth in range(len(parts) - 1):
                folder = "/".join(parts[: depth + 1])
                if folder not in folders:
                    folders[folder] = _folder_item(parts[depth] + "/", folder)
                    parent.appendRow(folders[folder])
                parent = folders[folder]
            parent.appendRow(self._file_items(rel, parts[-1]))
        # Two columns: what the file is (kept whole) and its name (cut first when narrow).
        # Task folders nest deep: there one column fills the pane and elides ("…"), or a task's
        # heading and its files' names would run out of the narrow pane, cut.
        header = self.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, header.ResizeMode.ResizeToContents)
        self.setColumnHidden(1, bool(tasks))
        plain_folders = [f for f in folders if not f.startswith(TASKS_DIR + "/")]
        for folder, item in folders.items():
            if folder in expanded or (len(plain_folders) <= 3 and folder in plain_folders):
                self.setExpanded(item.index(), True)
        if tasks and not self._tasks_unfolded:  # first showing: the tasks unfolded (a few)
            self._tasks_unfolded = True
            self._expand_tasks(folders)
        if selected:
            self.select_relpath(selected)

    def _add_tasks(
        self, parent: QStandardItem, tasks: list[TaskFolder], folders: dict[str, QStandardItem]
    ) -> None:
        """tasks/ as "Tasks", one row a task and, under it, its files by what they are for."""
        top = folders[TASKS_DIR] = _folder_item(f"Tasks ({len(tasks)})", TASKS_DIR)
        parent.appendRow(top)
        for task in tasks:
            folder = f"{TASKS_DIR}/{task.task_id}"
            item = folders[folder] = _folder_item(task.label, folder)
            item.setToolTip(f"{task.label}\n{folder}")
            worst = self._worst_problem([rel for rels in task.groups.values() for rel in rels])
            if worst is not None:
                item.setText(("● " if worst == Severity.ERROR else "▲ ") + item.text())
            top.appendRow(item)
            # Across both columns, so a long heading ends in "…" at the pane's edge.
            self.setFirstColumnSpanned(item.row(), top.index(), True)
            for group, rels in task.groups.items():
                if group == "Instruction":  # one file: the row is the file itself
                    item.appendRow(self._file_items(rels[0], INSTRUCTION, role=group))
                    continue
                key = f"{folder}#{group}"
                subfolder = GROUPS.get(group)  # where "New file…" puts a file of this group
                tip = f"{folder}/{subfolder}" if subfolder else folder
                group_item = folders[key] = _folder_item(group, key, new_files_in=tip)
                item.appendRow(group_item)
                for rel in rels:  # named inside the group: "test.sh", not "tests/test.sh"
                    group_item.appendRow(self._file_items(rel, rel[len(tip) + 1 :]))

    def _expand_tasks(self, folders: dict[str, QStandardItem]) -> None:
        task_rows = [k for k in folders if k.count("/") == 1 and k.startswith(TASKS_DIR + "/")]
        self.setExpanded(folders[TASKS_DIR].index(), True)
        for key in task_rows[:EXPAND_TASKS_UP_TO]:
            self.setExpanded(folders[key].index(), True)

    def _worst_problem(self, rels: list[str]) -> Severity | None:
        found = {self._problems.get(rel) for rel in rels}
        return next((s for s in (Severity.ERROR, Severity.WARNING) if s in found), None)

    def _file_items(self, rel: str, name: str, role: str | None = None) -> list[QStandardItem]:
        role = role or self._labels.get(rel)
        problem = self._problems.get(rel)
        marker = (
            {Severity.ERROR: "  ●", Severity.WARNING: "  ▲"}.get(problem, "") if problem else ""
        )
        item = QStandardItem((role or name) + marker)
        detail = QStandardItem(name if role else "")
        detail.setForeground(self.palette().placeholderText())
        tip = rel if not role else f"{role}: {rel}"
        if problem is not None:
            tip += (
                f"\n{'Has errors' if problem == Severity.ERROR else 'Has warnings'}: "
                "see the underlined lines."
            )
            item.setForeground(
                QColor("#c62828") if problem == Severity.ERROR else QColor("#b26a00")
            )
        for cell in (item, detail):
            cell.setData(rel, PATH_ROLE)
            cell.setToolTip(tip)
        return [item, detail]

    def current_relpath(self) -> str | None:
        index = self.currentIndex()
        return index.data(PATH_ROLE) if index.isValid() else None

    def select_relpath(self, rel: str) -> None:
        matches = self._model.match(
            self._model.index(0, 0),
            PATH_ROLE,
            rel,
            1,
            Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive,
        )
        if matches:
            self.setCurrentIndex(matches[0])

    def _expanded_paths(self) -> set[str]:
        out = set()

        def walk(item: QStandardItem) -> None:
            for row in range(item.rowCount()):
                child = item.child(row)
                if child.data(FOLDER_ROLE) and self.isExpanded(child.index()):
                    out.add(child.data(FOLDER_ROLE))
                    walk(child)

        walk(self._model.invisibleRootItem())
        return out

    def _context_menu(self, position) -> None:
        index = self.indexAt(position)
        rel = index.data(PATH_ROLE) if index.isValid() else None
        if rel:
            folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
        else:
            folder = index.siblingAtColumn(0).data(NEW_FILE_ROLE) if index.isValid() else ""
        menu = QMenu(self)
        menu.addAction("New file…", lambda: self.new_file_requested.emit(folder or ""))
        if rel:
            menu.addAction(
                f"Rename {rel.rsplit('/', 1)[-1]}…", lambda: self.rename_requested.emit(rel)
            )
        menu.exec(self.viewport().mapToGlobal(position))

    def _activated(self, index: QModelIndex) -> None:
        rel = index.data(PATH_ROLE)
        if rel:
            self.file_activated.emit(rel)


def _folder_item(text: str, key: str, new_files_in: str | None = None) -> QStandardItem:
    """A folder-like row (no file to open) and the folder new files made on it go into."""
    item = QStandardItem(text)
    item.setData(None, PATH_ROLE)
    item.setData(key, FOLDER_ROLE)
    item.setData(new_files_in or key, NEW_FILE_ROLE)
    item.setToolTip(new_files_in or key)
    return item


def _list_files(root: Path) -> list[str]:
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in HIDDEN_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") and name.endswith(".tmp"):
                continue  # an atomic write in progress
            rel = Path(dirpath, name).relative_to(root).as_posix()
            found.append(rel)
            if len(found) >= MAX_FILES:
                return found
    return found
