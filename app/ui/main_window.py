"""The main window: a sidebar of the screens of the role the user acts in (author, reviewer,
lab), badges for what a sync brought, notifications above a quiet status bar, and the layout
remembered between runs."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.sync.credentials import CredentialStore
from app.ui.app_settings import AppSettings
from app.ui.background_jobs import JobRunner
from app.ui.bounties.browser import BountyBrowser, ask_for_folder
from app.ui.docker_guide import DockerGuide
from app.ui.error_reporter import ErrorReporter, Problem
from app.ui.file_menu import install_file_menu
from app.ui.icons import icon
from app.ui.notifications import NotificationArea
from app.ui.platform_service import PlatformService
from app.ui.sidebar import ROLE_SCREENS, ROLE_TITLES, Sidebar
from app.ui.status_bar import StudioStatusBar

if TYPE_CHECKING:  # the other screens are imported when first shown (a faster start)
    from app.ui.settings_view import SettingsView
    from app.ui.store_views import ReviewsView, SubmissionsView
    from app.ui.workspace_page import WorkspacePage

log = logging.getLogger(__name__)

SCREENS = ("lab", "queue", "bounties", "workspace", "submissions", "reviews", "settings")
SCREEN_TITLES = {
    "lab": "My bounties",
    "queue": "Review queue",
    "bounties": "Bounties",
    "workspace": "Workspace",
    "submissions": "Submissions",
    "reviews": "Reviews",
    "settings": "Settings",
}
SCREEN_TIPS = {
    "lab": "Post bounties, see their submissions and assign reviewers",
    "queue": "The submissions assigned to you for review",
    "bounties": "Find a bounty and start an environment for it",
    "workspace": "Edit an environment and run the gauntlet on it",
    "submissions": "What you submitted and what the platform said",
    "reviews": "Reviewers' verdicts and comments",
    "settings": "Platform, language models, sandbox and theme",
}
BADGED = ("submissions", "reviews", "queue")  # screens that show what a sync brought


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(
        self,
        settings: AppSettings,
        credentials: CredentialStore,
        reporter: ErrorReporter,
        *,
        folder_picker=ask_for_folder,
        connect_platform: bool = True,
        check_sandbox: bool = True,
        connector=None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.credentials = credentials
        self.reporter = reporter
        self._check_sandbox = check_sandbox
        self._diagnosis = None
        self._closing = False
        self.setWindowTitle("Gauntlet Studio")
        self.setWindowIcon(icon("app", "#2f6fde", 64))
        self.setObjectName("mainWindow")
        self.job_runner = JobRunner(self.report, parent=self)
        self.platform = PlatformService(
            credentials, self.job_runner, connector=connector, parent=self
        )

        self._folder_picker = folder_picker
        self._store = None
        self._built: dict[str, QWidget] = {}
        self._banner_put_away = False
        self._banner_wanted = False

        self._build_layout()

        self._follow_services()
        self._add_shortcuts()
        self._restore_layout()
        self._connect_platform = connect_platform
        if not connect_platform:
            self.status.set_platform("offline", "Not connected.")
        if not check_sandbox:
            self.status.set_sandbox(None, "Sandbox: not checked")
        # Background work starts once the window has painted: its imports and threads would
        # otherwise compete with the first paint.
        QTimer.singleShot(150, self, self._start_background_work)

    # -- building ---------------------------------------------------------------------------------

    def _build_layout(self) -> None:
        """The sidebar, the screens (each built the first time it is shown: a fast start), the
        notifications and the status bar."""
        self.side = Sidebar(SCREENS, SCREEN_TITLES, SCREEN_TIPS)
        self.side.role_chosen.connect(self.switch_role)
        self.sidebar = self.side.list
        self.pages = QStackedWidget()
        for _name in SCREENS:
            self.pages.addWidget(QWidget())
        self.sidebar.currentRowChanged.connect(self._on_screen_changed)
        self.notifications = NotificationArea()
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.side)
        layout.addWidget(self._build_right_column(), 1)
        self.setCentralWidget(central)
        self.status = StudioStatusBar()
        self.setStatusBar(self.status)

    def _build_right_column(self) -> QWidget:
        """The Docker banner above the current screen, the notifications below it."""
        # First-run guide to Docker: shown when the sandbox check finds Docker not ready.
        self.docker_banner = DockerGuide(compact=True)
        self.docker_banner.recheck_requested.connect(self.check_sandbox)
        self.docker_banner.settings_requested.connect(self._open_sandbox_settings)
        self.docker_banner.dismissed.connect(self._dismiss_docker_banner)
        self.docker_banner.build_requested.connect(self._build_sandbox_image)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(0)
        banner_box = QWidget()
        banner_layout = QVBoxLayout(banner_box)
        banner_layout.setContentsMargins(12, 10, 12, 0)
        banner_layout.addWidget(self.docker_banner)
        right_layout.addWidget(banner_box)
        right_layout.addWidget(self.pages, 1)
        right_layout.addWidget(self.notifications)
        return right

    def _follow_services(self) -> None:
        """Problems, background jobs and the platform's state show in the window."""
        self.reporter.problem.connect(self.show_problem)
        self.job_runner.jobs_changed.connect(lambda _n: self._update_jobs())
        self.platform.state_changed.connect(self._on_platform_state)
        self.platform.store_ready.connect(self._on_store_ready)
        self.platform.data_changed.connect(self._on_data_changed)
        self.platform.problem.connect(self._on_platform_problem)
        self.platform.connected.connect(self._on_connected)

    def _start_background_work(self) -> None:
        if self._closing:
            return
        if self._connect_platform:
            self.platform.start()
        if self._check_sandbox:
            self.check_sandbox()

    # -- screens, built on first use ------------------------------------------------------------

    def _build(self, name: str) -> QWidget:
        page = self._built.get(name)
        if page is not None:
            return page
        makers = {
            "bounties": self._make_bounties,
            "workspace": self._make_workspace,
            "lab": self._make_lab,
            "queue": self._make_queue,
            "submissions": self._make_submissions,
            "reviews": self._make_reviews,
            "settings": self._make_settings,
        }
        page = makers[name]()
        page.problem.connect(self.report)
        if self._store is not None and hasattr(page, "set_store"):
            page.set_store(self._store)
        index = SCREENS.index(name)
        placeholder = self.pages.widget(index)
        self.pages.insertWidget(index, page)
        self.pages.removeWidget(placeholder)
        placeholder.deleteLater()
        self._built[name] = page
        return page

    def _make_bounties(self) -> QWidget:
        page = BountyBrowser(self.job_runner, folder_picker=self._folder_picker)
        page.environment_created.connect(self._on_environment_created)
        saved = self.settings.splitter_state("bounties")
        if saved is not None:
            page.splitter.restoreState(saved)
        return page

    def _make_workspace(self) -> QWidget:
        from app.ui.workspace_page import WorkspacePage

        page = WorkspacePage(
            settings=self.settings,
            credentials=self.credentials,
            job_runner=self.job_runner,
            folder_picker=self._folder_picker,
            platform=self.platform,
        )
        page.welcome.bounties_requested.connect(lambda: self.show_screen("bounties"))
        page.package_opened.connect(
            lambda path: self.setWindowTitle(f"{Path(path).name} — Gauntlet Studio")
        )
        page.funnel.running_changed.connect(self._update_jobs)
        saved = self.settings.splitter_state("workspace")
        if saved is not None:
            page.splitter.restoreState(saved)
        return page

    def _make_lab(self) -> QWidget:
        from app.ui.lab.bounties_screen import MyBountiesScreen

        page = MyBountiesScreen(self.job_runner)
        page.set_client_factory(self._platform_client_factory())
        if self.platform.session is not None:
            page.refresh()
        return page

    def _make_queue(self) -> QWidget:
        from app.ui.review.review_screen import ReviewScreen

        page = ReviewScreen(
            settings=self.settings, credentials=self.credentials, job_runner=self.job_runner
        )
        page.set_session(self.platform.session)
        page.changed.connect(self.platform.sync_now)
        return page

    def _make_submissions(self) -> QWidget:
        from app.ui.store_views import SubmissionsView

        return SubmissionsView()

    def _make_reviews(self) -> QWidget:
        from app.ui.store_views import ReviewsView

        return ReviewsView()

    def _make_settings(self) -> QWidget:
        from app.ui.settings_view import SettingsView

        page = SettingsView(self.settings, self.credentials, self.job_runner)
        page.platform_changed.connect(self.platform.restart)
        page.models_changed.connect(self._on_models_changed)
        page.theme_changed.connect(self._apply_theme)
        page.refresh_keychain_status()
        page.diagnosis_shown.connect(self._on_diagnosis)
        if self._diagnosis is not None:
            page.show_diagnosis(self._diagnosis)
        return page

    @property
    def bounties(self) -> BountyBrowser:
        return self._build("bounties")

    @property
    def workspace(self) -> WorkspacePage:
        return self._build("workspace")

    @property
    def submissions(self) -> SubmissionsView:
        return self._build("submissions")

    @property
    def reviews(self) -> ReviewsView:
        return self._build("reviews")

    @property
    def settings_view(self) -> SettingsView:
        return self._build("settings")

    def _on_models_changed(self) -> None:
        if "workspace" in self._built:
            self.workspace.funnel.refresh_models()

    # -- screens -------------------------------------------------------------------------------

    def show_screen(self, name: str) -> None:
        self.sidebar.setCurrentRow(SCREENS.index(name))

    def current_screen(self) -> str:
        return SCREENS[max(0, self.sidebar.currentRow())]

    def _on_screen_changed(self, row: int) -> None:
        if row < 0:
            return
        name = SCREENS[row]
        fresh = name not in self._built
        page = self._build(name)
        self.pages.setCurrentWidget(page)
        self._update_banner()  # Settings → Sandbox carries the full guide itself
        if name in BADGED and self._store is not None:
            from app.sync.activity import mark_seen

            mark_seen(self._store, name)
            self.side.set_badge(name, 0)
        if name in ("submissions", "reviews", "queue") and not fresh:
            page.refresh()
        elif (
            name == "settings"
            and self._check_sandbox
            and page.diagnosis.text() == "Not checked yet."
        ):
            page.run_doctor()

    def _add_shortcuts(self) -> None:
        for i in range(max(len(screens) for screens in ROLE_SCREENS.values())):
            action = QAction(self)
            action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))  # the i-th screen of the role
            action.triggered.connect(lambda _=False, i=i: self._show_nth(i))
            self.addAction(action)
        install_file_menu(self, lambda: (self.show_screen("workspace"), self.workspace.browse()))

    def _show_nth(self, index: int) -> None:
        visible = self.side.visible_screens()
        if index < len(visible):
            self.show_screen(visible[index])

    # -- roles and badges -----------------------------------------------------------------------

    def _platform_client_factory(self):
        """Opens a short-lived client as the signed-in account (None while not connected)."""
        session = self.platform.session
        if session is None:
            return None
        url, token = session.connection.url, session.connection.token

        @asynccontextmanager
        async def open_client():
            from app.sync.client import PlatformClient

            async with PlatformClient(url, token) as client:
                yield client

        return open_client

    def _on_connected(self, _label: str) -> None:
        if "queue" in self._built:
            self._built["queue"].set_session(self.platform.session)
        lab = self._built.get("lab")
        if lab is not None:
            lab.set_client_factory(self._platform_client_factory())
            lab.refresh()

    def switch_role(self, role: str) -> None:
        """Act as author, reviewer or lab: that role's screens, and on the local platform its
        local account (the platform service reconnects in the background)."""
        if role not in ROLE_SCREENS:
            return
        self.settings.role = role
        self.side.show_role(role)
        self.platform.switch_role(role)
        if "lab" in self._built:  # not connected until the new account's session is up
            self._built["lab"].set_client_factory(self._platform_client_factory())
        if "queue" in self._built:
            self._built["queue"].set_session(self.platform.session)
        self.show_screen(ROLE_SCREENS[role][0])  # the role's home: queue, My bounties, Bounties
        self.notifications.show_message(
            f"You are acting as {ROLE_TITLES[role].lower()}.",
            "On the local platform each role is its own local account; switch back from the "
            "button at the bottom of the sidebar.",
        )

    def _update_badges(self, *, announce: bool) -> None:
        """Badges for what the user has not seen; after a sync, one quiet notification."""
        from app.sync.activity import Activity, activity, mark_seen

        if self._store is None:
            return
        current = self.current_screen()
        if current in BADGED:
            mark_seen(self._store, current)
        news = activity(self._store)
        shown = {s: n for s, n in news.unseen.items() if s in self.side.visible_screens()}
        added = {}
        for screen in BADGED:
            count = shown.get(screen, 0)
            added[screen] = max(0, count - self.side.badge(screen))  # what this sync brought
            self.side.set_badge(screen, count)
        summary = Activity(added).summary()
        if announce and summary:
            self.notifications.show_message(f"New on the platform: {summary}.", "")

    # -- packages ------------------------------------------------------------------------------

    def open_package(self, path: str | Path) -> None:
        self.show_screen("workspace")
        self.workspace.open_package(path)

    def _on_environment_created(self, path: Path) -> None:
        self.notifications.show_message(
            f"Created your environment in {path}",
            "It is a complete example: change the tasks, answers and grader to fit the bounty.",
        )
        self.open_package(path)

    # -- platform --------------------------------------------------------------------------------

    def _on_store_ready(self, store) -> None:
        self._store = store
        for page in self._built.values():
            if hasattr(page, "set_store"):
                page.set_store(store)
        self._update_badges(announce=False)

    def _on_data_changed(self) -> None:
        for name, page in self._built.items():
            if name == "bounties":
                page.reload()
            elif name in ("submissions", "reviews", "queue"):
                page.refresh()
        self._update_badges(announce=True)

    def _on_platform_state(self, state) -> None:
        self.status.set_platform(str(state.phase), state.message, state.hint, self.platform.label)

    def _on_platform_problem(self, exc: BaseException) -> None:
        # Offline is a state shown in the status bar, not a notification.
        from app.sync.errors import PlatformOffline

        if not isinstance(exc, PlatformOffline):
            self.report(exc)

    # -- sandbox --------------------------------------------------------------------------------

    def check_sandbox(self) -> None:
        from app.ui.sandbox_status import diagnose

        self.status.set_sandbox(None, "Sandbox: checking…")

        def show(diagnosis) -> None:
            if "settings" in self._built:
                self.settings_view.show_diagnosis(diagnosis)  # which calls _on_diagnosis
            else:
                self._on_diagnosis(diagnosis)

        self.job_runner.run_in_thread(
            diagnose,
            self.settings.sandbox_backend,
            on_done=show,
            on_error=lambda exc: self.status.set_sandbox(False, "Sandbox: check failed", str(exc)),
        )

    def _on_diagnosis(self, diagnosis) -> None:
        """Every new sandbox check (here or in Settings) updates the status bar and the banner."""
        from app.ui.sandbox_status import DOCKER_READY, status_line

        self._diagnosis = diagnosis
        self.status.set_sandbox(diagnosis.ready, status_line(diagnosis), diagnosis.summary)
        wanted = (
            diagnosis.docker != DOCKER_READY
            and diagnosis.backend != "process"  # the user chose the weaker sandbox on purpose
            and not self._banner_put_away
            and not self.settings.docker_guide_dismissed
        )
        if wanted or (self._banner_wanted and diagnosis.docker == DOCKER_READY):
            # When Docker just became ready, the banner says so once; "Close" puts it away.
            self.docker_banner.show_diagnosis(diagnosis)
            self._banner_wanted = True
        else:
            self._banner_wanted = False
        self._update_banner()

    def _update_banner(self) -> None:
        self.docker_banner.setVisible(self._banner_wanted and self.current_screen() != "settings")

    def _open_sandbox_settings(self) -> None:
        self.show_screen("settings")
        self.settings_view.show_sandbox()

    def _build_sandbox_image(self) -> None:
        """The banner's "Build sandbox image": the build and its progress bar live in Settings."""
        self._open_sandbox_settings()
        self.settings_view.start_image_build()

    def _dismiss_docker_banner(self, forever: bool) -> None:
        self._banner_put_away = True
        self._banner_wanted = False
        if forever:
            self.settings.docker_guide_dismissed = True
        self._update_banner()

    # -- problems --------------------------------------------------------------------------------

    def report(self, exc: BaseException) -> None:
        """Thread-safe through the reporter: log it and show a notification."""
        self.reporter.report(exc)

    def show_problem(self, problem: Problem) -> None:
        if self._closing:
            return
        self.notifications.show_problem(problem)

    def _update_jobs(self, *_args) -> None:
        if "workspace" in self._built and self.workspace.funnel.job.running:
            self.status.set_jobs(1, "Running the gauntlet…")
        else:
            self.status.set_jobs(self.job_runner.running)

    # -- layout and closing ----------------------------------------------------------------------

    def _apply_theme(self, choice: str) -> None:
        from app.ui.theme import apply_theme

        apply_theme(QApplication.instance(), choice)
        self.side.refresh_icons()

    def _splitters(self):
        return {
            name: self._built[name].splitter
            for name in ("bounties", "workspace")
            if name in self._built
        }

    def _restore_layout(self) -> None:
        geometry, state = self.settings.window_state()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1280, 800)
        if state is not None:
            self.restoreState(state)
        role = self.settings.role if self.settings.role in ROLE_SCREENS else "author"
        self.side.show_role(role)
        self.platform.role = role
        last = self.settings.last_screen
        self.show_screen(last if last in ROLE_SCREENS[role] else ROLE_SCREENS[role][0])

    def save_layout(self) -> None:
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        for name, splitter in self._splitters().items():
            self.settings.save_splitter_state(name, splitter.saveState())
        self.settings.last_screen = self.current_screen()
        self.settings.sync()

    def shutdown(self) -> None:
        """Stop everything this window started: funnel run, sync, worker threads."""
        if self._closing:
            return
        self._closing = True
        self.save_layout()
        self.notifications.clear()
        for name in ("workspace", "queue"):
            if name in self._built:
                self._built[name].shutdown()
        self.platform.shutdown()
        self.job_runner.shutdown(wait=True)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)
        self.closed.emit()
