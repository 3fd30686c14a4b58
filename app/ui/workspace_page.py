"""The Workspace screen: the editor helper's WorkspaceView with the funnel panel beside it, or
a welcome page (open a folder, recent packages) while no environment is open."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTabWidget,
    QWidget,
)

from app.errors import UserError
from app.ui.author_review import AuthorReview
from app.ui.funnel.panel import FunnelPanel
from app.ui.widgets import PageHeader, button_row, fill_with_pages, push_button, screen_layout

log = logging.getLogger(__name__)

FolderPicker = Callable[[QWidget, str], str | None]


def _pick_package(parent: QWidget, title: str) -> str | None:
    return QFileDialog.getExistingDirectory(parent, title, str(Path.home())) or None


def _ask_submit_message(parent: QWidget) -> str | None:
    """The note for reviewers that goes with a submission; None when the user cancels."""
    text, ok = QInputDialog.getText(
        parent,
        "Submit this environment",
        "The structure is checked first, then the environment is sent to its bounty.\n"
        "A note for the reviewers (optional):",
    )
    return text if ok else None


class WelcomePage(QWidget):
    open_requested = Signal(str)
    browse_requested = Signal()
    bounties_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        header = PageHeader(
            "Workspace",
            "An environment is a folder with tasks, "
            "reference answers, known-wrong answers and a grader. "
            "Open one to edit it and run the gauntlet on it.",
        )
        layout = screen_layout(self, header, spacing=12)
        self.from_bounty = push_button(
            "Start from a bounty…",
            self.bounties_requested,
            tip="Pick a bounty and create an environment pre-filled for it",
            primary=True,
        )
        self.open_button = push_button("Open an environment folder…", self.browse_requested)
        layout.addLayout(button_row(self.from_bounty, self.open_button))
        steps = QLabel(
            "<b>How it works</b><ol style='margin-left:-20px'>"
            "<li>Start from a bounty: the app writes a complete, "
            "working example environment for it.</li>"
            "<li>Replace the example tasks, reference answers "
            "and wrong answers with your own, in tables.</li>"
            "<li>Press <b>Run gauntlet</b> until it passes: "
            "it says in plain words what to fix and where.</li>"
            "</ol>"
        )
        steps.setObjectName("emptyState")
        steps.setTextFormat(Qt.TextFormat.RichText)
        steps.setWordWrap(True)
        steps.setContentsMargins(16, 12, 16, 4)
        layout.addWidget(steps)
        title = QLabel("Recently opened")
        title.setObjectName("sectionTitle")
        layout.addWidget(title)
        self.recent = QListWidget()
        self.recent.itemActivated.connect(
            lambda item: self.open_requested.emit(item.data(Qt.ItemDataRole.UserRole))
        )
        self.recent.itemDoubleClicked.connect(
            lambda item: self.open_requested.emit(item.data(Qt.ItemDataRole.UserRole))
        )
        self.recent.setMaximumHeight(320)
        layout.addWidget(self.recent)
        self.no_recent = QLabel("Nothing yet. Environments you open or start appear here.")
        self.no_recent.setObjectName("dimText")
        layout.addWidget(self.no_recent)
        layout.addStretch(1)

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for path in paths:
            exists = Path(path, "env.toml").is_file()
            item = QListWidgetItem(
                f"{Path(path).name}    —    {path}" + ("" if exists else "   (missing)")
            )
            item.setData(Qt.ItemDataRole.UserRole, path)
            if not exists:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.recent.addItem(item)
        self.recent.setVisible(bool(paths))
        self.no_recent.setVisible(not paths)


class WorkspacePage(QWidget):
    package_opened = Signal(Path)
    problem = Signal(object)

    def __init__(
        self,
        *,
        settings,
        credentials,
        job_runner,
        folder_picker: FolderPicker = _pick_package,
        platform=None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._job_runner = job_runner
        # Asks for the reviewers' note before submitting; tests replace it.
        self.ask_submit_message: Callable[[QWidget], str | None] = _ask_submit_message
        self.submit_job = None
        self._folder_picker = folder_picker
        self.welcome = WelcomePage()
        self.welcome.open_requested.connect(self.open_package)
        self.welcome.browse_requested.connect(self.browse)
        self.funnel = FunnelPanel(settings=settings, credentials=credentials, job_runner=job_runner)
        self.funnel.problem.connect(self.problem)
        self.workspace = self._make_workspace_view()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.workspace)
        self.side = QTabWidget()  # the gauntlet, and the reviewers' threads
        self.side.setDocumentMode(True)
        self.side.addTab(self.funnel, "Gauntlet")
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([700, 460])
        self.stack = fill_with_pages(self, self.welcome, self.splitter)
        self.funnel.jump_requested.connect(self.jump_to)
        self.funnel.before_run = getattr(self.workspace, "save_all", None)
        self.welcome.set_recent(settings.recent_packages())
        self.review = AuthorReview(self.workspace, self.side, platform, parent=self)
        self.threads = self.review.panel
        self.threads.problem.connect(self.problem)
        if platform is not None:
            self.enable_submit(platform)

    def set_store(self, store) -> None:
        """The main window hands over the local store once it is ready (and on a role switch)."""
        self.review.set_store(store)

    # -- submitting ------------------------------------------------------------------------------

    def enable_submit(self, platform) -> None:
        from app.ui.submit import SubmitJob

        job = self.submit_job = SubmitJob(platform, self._job_runner, self)
        self.funnel.set_submit_visible(True)
        self.funnel.submit_requested.connect(self.submit)
        job.progress.connect(lambda text: self.funnel.show_message("running", "Submitting…", text))
        job.refused.connect(
            lambda report: self.funnel.show_report(
                report,
                f"Not submitted: {len(report.errors())} "
                f"problem{'s' if len(report.errors()) != 1 else ''} "
                "to fix first",
            )
        )
        job.checked.connect(self.funnel.show_report)  # what was checked replaces an older result
        job.sent.connect(lambda text: self.funnel.show_message("pass", "Submitted", text))
        job.queued.connect(
            lambda text: self.funnel.show_message("idle", "Waiting to be sent", text)
        )
        job.failed.connect(self._on_submit_failed)
        job.running_changed.connect(self._on_submit_running)

    def _on_submit_running(self, running: bool) -> None:
        # While a submission checks and uploads the package, neither it nor a run starts again.
        ready = not running and not self.funnel.is_running and self.current_package() is not None
        self.funnel.set_submit_enabled(ready)
        self.funnel.set_run_enabled(ready)

    def submit(self) -> None:
        path = self.current_package()
        if (
            self.submit_job is None
            or path is None
            or self.submit_job.running
            or self.funnel.is_running
        ):
            return
        save_all = getattr(self.workspace, "save_all", None)
        if callable(save_all) and save_all() is False:
            self.problem.emit(
                UserError(
                    "Some open files could not be saved, so nothing was submitted.",
                    "Save them (Ctrl+S) or fix what the editor reports, then submit again.",
                )
            )
            return
        message = self.ask_submit_message(self)
        if message is None:
            return
        self.submit_job.submit(path, message.strip())

    def _on_submit_failed(self, exc: BaseException) -> None:
        if isinstance(exc, UserError):
            self.funnel.show_message("error", "Not submitted", f"{exc.message} {exc.hint}".strip())
        else:
            self.funnel.show_message(
                "error", "Not submitted", "An internal problem stopped it; your files are safe."
            )
            self.problem.emit(exc)

    def _make_workspace_view(self) -> QWidget:
        from app.ui.workspace import WorkspaceView  # the editor helper's widget

        view = WorkspaceView()
        view.package_opened.connect(self._on_package_opened)
        # trajectory replays: the window's worker threads, the sandbox Settings choose (the
        # lambda holds the settings, not this page, so the page is freed when it is deleted)
        settings = self._settings
        view.replay_context = (self._job_runner, lambda: settings.sandbox_backend)
        return view

    def current_package(self) -> Path | None:
        current = self.workspace.current_package()
        return Path(current) if current else None

    def browse(self) -> None:
        folder = self._folder_picker(self, "Open an environment folder")
        if folder:
            self.open_package(folder)

    def open_package(self, path: str | Path) -> None:
        path = Path(path)
        if not (path / "env.toml").is_file():
            self.problem.emit(
                UserError(
                    f"{path} is not an environment: it has no env.toml.",
                    (
                        "Pick the folder that contains env.toml, "
                        "or start a new environment from a bounty."
                    ),
                )
            )
            return
        try:
            self.workspace.open_package(path)
        except Exception as exc:
            self.problem.emit(exc)
            return
        self._on_package_opened(path)

    def _on_package_opened(self, path) -> None:
        path = Path(path)
        if self.stack.currentWidget() is self.splitter and self.funnel.package == path:
            return
        self._settings.add_recent_package(path)
        self.welcome.set_recent(self._settings.recent_packages())
        self.funnel.set_package(path)
        self.stack.setCurrentWidget(self.splitter)
        self.review.refresh()
        self.package_opened.emit(path)

    def jump_to(self, file: str, line: int, column: int) -> None:
        self.workspace.jump_to(file, line, column)

    def shutdown(self) -> None:
        self.review.shutdown()
        self.funnel.shutdown()
        close = getattr(self.workspace, "shutdown", None)
        if callable(close):
            close()

    def closeEvent(self, event) -> None:  # noqa: N802 - a closed page leaves no process behind
        # Children get no closeEvent of their own: stop the funnel's warm child process here.
        self.shutdown()
        super().closeEvent(event)
