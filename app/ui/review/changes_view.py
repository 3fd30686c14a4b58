"""Changes since my last review: the files added, modified or deleted between the revision I
last reviewed and the latest one, with +/- counts, and the selected file's unified diff with
old and new line numbers on green and red.

Fast on a big submission: the file list comes from the two manifests (hashes only); the
selected file is diffed in a worker, and so are the counts of all files, one job each.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontDatabase,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.editor.theme import EditorTheme
from app.sync.review_queue import changed_files
from app.sync.revision_diff import FileDiff, diff_changed, diff_revisions
from app.sync.revision_files import Checkout

PathRole = Qt.ItemDataRole.UserRole + 1
MAX_SHOWN_LINES = 5000  # a longer diff shows its start and says how much is left out
MARKS = {"added": "A", "modified": "M", "deleted": "D"}
WORDS = {"added": "added", "modified": "modified", "deleted": "deleted"}


def diff_colours(theme: EditorTheme) -> dict[str, QColor]:
    """Backgrounds and markers for diff lines, on the editor's light or dark background."""
    if theme.dark:
        return {
            "added": QColor("#1f3d2a"),
            "removed": QColor("#4a2326"),
            "hunk": QColor("#24344d"),
            "added_mark": QColor("#5fd38a"),
            "removed_mark": QColor("#ff7b72"),
            "modified_mark": QColor("#f0b43c"),
        }
    return {
        "added": QColor("#e6ffec"),
        "removed": QColor("#ffebe9"),
        "hunk": QColor("#ddf4ff"),
        "added_mark": QColor("#1a7f37"),
        "removed_mark": QColor("#cf222e"),
        "modified_mark": QColor("#9a6700"),
    }


class ChangesView(QWidget):
    problem = Signal(object)

    def __init__(self, job_runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._jobs = job_runner
        self._old: Checkout | None = None
        self._new: Checkout | None = None
        self._generation = 0
        self.diffs: dict[str, FileDiff] = {}
        self.theme = EditorTheme.from_palette()
        self.colours = diff_colours(self.theme)
        self.summary = QLabel("Open a submission to see what changed.")
        self.summary.setObjectName("pageSubtitle")
        self.summary.setWordWrap(True)
        self.summary.setContentsMargins(4, 4, 4, 6)
        self.files = QTreeWidget()
        self.files.setHeaderLabels(["", "File", "Lines"])
        self.files.setRootIsDecorated(False)
        self.files.setUniformRowHeights(True)
        self.files.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.files.header()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        header.resizeSection(0, 28)
        header.resizeSection(2, 90)
        self.files.currentItemChanged.connect(lambda item, _prev: self._select(item))
        self.diff = QPlainTextEdit()
        self.diff.setReadOnly(True)
        self.diff.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.diff.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.diff.setPlaceholderText("Select a file to see its changes.")
        # Files above the diff: the view usually sits in a side pane, too narrow for both abreast.
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.files)
        splitter.addWidget(self.diff)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([150, 600])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)

    # -- what to show ------------------------------------------------------------------------

    def show_changes(self, old: Checkout | None, new: Checkout) -> None:
        """The changes from `old` (the revision I last reviewed; None: never) to `new`."""
        self._generation += 1
        self._old, self._new = old, new
        self.diffs = {}
        changes = changed_files(old.files if old else None, new.files)
        self.summary.setText(_summary(old, new, changes))
        self.files.clear()
        self.diff.clear()
        for change in changes:
            self.files.addTopLevelItem(self._file_item(change["path"], change["change"]))
        if changes:
            self.files.setCurrentItem(self.files.topLevelItem(0))
            self._count_all()

    def _file_item(self, path: str, change: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([MARKS[change], path, "…"])
        item.setData(0, PathRole, path)
        item.setToolTip(0, WORDS[change])
        item.setToolTip(1, f"{path} ({WORDS[change]})")
        mark = {"added": "added_mark", "deleted": "removed_mark"}.get(change, "modified_mark")
        item.setForeground(0, QBrush(self.colours[mark]))
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setTextAlignment(0, Qt.AlignmentFlag.AlignCenter)
        item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return item

    def _readers(self):
        old, new = self._old, self._new
        return (old.files if old else None), new.files, (old.read if old else None), new.read

    def _count_all(self) -> None:
        generation = self._generation
        self._jobs.run_in_thread(
            diff_revisions,
            *self._readers(),
            on_done=lambda diffs: self._counted(generation, diffs),
            on_error=self.problem.emit,
        )

    def _counted(self, generation: int, diffs: list[FileDiff]) -> None:
        if generation != self._generation:
            return
        for diff in diffs:
            self.diffs.setdefault(diff.path, diff)
        for index in range(self.files.topLevelItemCount()):
            item = self.files.topLevelItem(index)
            diff = self.diffs.get(item.data(0, PathRole))
            if diff is not None:
                item.setText(2, _counts(diff))

    # -- the selected file -------------------------------------------------------------------

    def _select(self, item: QTreeWidgetItem | None) -> None:
        if item is None or self._new is None:
            return
        path = item.data(0, PathRole)
        cached = self.diffs.get(path)
        if cached is not None:
            self._render(cached)
            return
        self.diff.setPlainText(f"Comparing {path}…")
        generation = self._generation
        self._jobs.run_in_thread(
            diff_changed,
            *self._readers(),
            path,
            on_done=lambda diff: self._diffed(generation, diff),
            on_error=self.problem.emit,
        )

    def _diffed(self, generation: int, diff: FileDiff) -> None:
        if generation != self._generation:
            return
        self.diffs[diff.path] = diff
        current = self.files.currentItem()
        if current is not None and current.data(0, PathRole) == diff.path:
            current.setText(2, _counts(diff))
            self._render(diff)

    def _render(self, diff: FileDiff) -> None:
        document = self.diff.document()
        document.clear()
        document.setUndoRedoEnabled(False)
        cursor = QTextCursor(document)
        numbers = QTextCharFormat()
        numbers.setForeground(QBrush(self.theme.gutter_foreground))
        text = QTextCharFormat()
        text.setForeground(QBrush(self.theme.foreground))
        cursor.beginEditBlock()

        def line(background: QColor | None, gutter: str, body: str) -> None:
            block = QTextBlockFormat()
            if background is not None:
                block.setBackground(QBrush(background))
            if cursor.position() == 0:
                cursor.setBlockFormat(block)
            else:
                cursor.insertBlock(block)
            cursor.insertText(gutter, numbers)
            cursor.insertText(body, text)

        line(None, "", f"{diff.path} — {WORDS[diff.change]}  {_counts(diff)}")
        if diff.note:
            line(None, "", diff.note)
        shown = 0
        for hunk in diff.hunks:
            if shown >= MAX_SHOWN_LINES:
                break
            line(self.colours["hunk"], "", hunk.header)
            for entry in hunk.lines[: MAX_SHOWN_LINES - shown]:
                sign = {"added": "+", "removed": "-"}.get(entry.kind, " ")
                gutter = f"{_number(entry.old)} {_number(entry.new)} {sign} "
                line(self.colours.get(entry.kind), gutter, entry.text)
            shown += len(hunk.lines)
        if sum(len(hunk.lines) for hunk in diff.hunks) > MAX_SHOWN_LINES:
            line(None, "", f"… the rest of this diff is not shown here ({_counts(diff)}).")
        cursor.endEditBlock()
        self.diff.moveCursor(QTextCursor.MoveOperation.Start)


def _number(value: int | None) -> str:
    return f"{value:>5}" if value is not None else "     "


def _counts(diff: FileDiff) -> str:
    if diff.note and not diff.hunks:
        return "binary" if "binary" in diff.note else "—"
    return f"+{diff.added} −{diff.removed}"


def _summary(old: Checkout | None, new: Checkout, changes: list[dict[str, str]]) -> str:
    files = f"{len(changes)} file{'s' if len(changes) != 1 else ''}"
    if old is None:
        return f"First review: every file is new. Revision {new.number} has {files}."
    if not changes:
        return (
            f"Nothing changed between revision {old.number}, which you reviewed, and "
            f"revision {new.number}."
        )
    return (
        f"Changes since your review of revision {old.number}: {files} changed in revision "
        f"{new.number}."
    )
