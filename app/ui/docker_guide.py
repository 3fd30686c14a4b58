"""The first-run guide to Docker: what its state means for the user, in plain words, and the
next step (download the installer for this computer, start it, build the sandbox image).

The same widget is the banner at the top of the window (compact, can be put away) and the
first block of Settings → Sandbox (full). It only shows things and asks for them through
signals; the window runs the checks and the build in worker threads.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from app.sandbox.docker_install import DockerInstaller, installer_for
from app.sandbox.doctor import permission_advice, running_advice
from app.ui.sandbox_status import (
    DOCKER_BROKEN,
    DOCKER_DENIED,
    DOCKER_MISSING,
    DOCKER_NO_IMAGE,
    DOCKER_READY,
    DOCKER_STOPPED,
    Diagnosis,
)
from app.ui.widgets import push_button

WHY_DOCKER = (
    "Gauntlet Studio runs each environment's grading code inside Docker, a sealed box that "
    "keeps that code away from your files and the internet."
)
WEAKER_SANDBOX = (
    "Meanwhile, nothing is blocked: your own packages can still be checked, in a lighter "
    "sandbox on this computer. That is fine for code you wrote yourself; set up Docker before "
    "you check packages that other people wrote."
)

# state -> (kind for the style sheet, title, what it means)
_TEXT = {
    DOCKER_MISSING: (
        "guide",
        "Docker is not installed yet",
        WHY_DOCKER + " Docker is free; you install it once and it then starts by itself.",
    ),
    DOCKER_STOPPED: (
        "guide",
        "Docker is installed but not running",
        "Docker is on this computer, but it has not been started, so the app cannot use it yet. ",
    ),
    DOCKER_DENIED: (
        "guide",
        "Docker is running, but your account may not use it",
        "Docker is started, but it refuses requests from your user account. ",
    ),
    DOCKER_NO_IMAGE: (
        "guide",
        "Docker is ready: one last step",
        "The app needs its sandbox image, a small Linux system with Python in which graders "
        "run. Building it takes a few minutes, once.",
    ),
    DOCKER_BROKEN: (
        "guide",
        "Docker cannot seal the sandbox",
        "Docker runs, but it would not start a container with the sandbox's limits (no network, "
        "read-only files). Updating Docker usually fixes this.",
    ),
    DOCKER_READY: (
        "ready",
        "Docker is ready",
        "Graders run in Docker, sealed off from your files and the internet.",
    ),
}


class DockerGuide(QFrame):
    recheck_requested = Signal()
    build_requested = Signal()
    settings_requested = Signal()  # the banner's "Sandbox settings"
    dismissed = Signal(bool)  # the banner was put away; True: do not show it again

    def __init__(
        self,
        *,
        compact: bool = False,
        installer: DockerInstaller | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("dockerGuide")
        self.compact = compact
        self.installer = installer or installer_for()
        self.state: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(6)
        self.title = QLabel()
        self.title.setObjectName("dockerGuideTitle")
        layout.addWidget(self.title)
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.body)
        self.steps = QLabel()
        self.steps.setWordWrap(True)
        self.steps.setTextFormat(Qt.TextFormat.PlainText)
        self.steps.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.steps)
        self.reassurance = QLabel(WEAKER_SANDBOX)
        self.reassurance.setWordWrap(True)
        self.reassurance.setObjectName("dimText")
        layout.addWidget(self.reassurance)

        layout.addLayout(self._build_buttons(compact))

        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress.setFormat("%p%")
        layout.addWidget(self.progress)
        self.build_status = QLabel("")
        self.build_status.setWordWrap(True)
        self.build_status.setObjectName("dimText")
        self.build_status.setVisible(False)
        layout.addWidget(self.build_status)
        self.opened_links: list[str] = []  # what the user asked to open (tests read it)
        self.setVisible(False)

    def _build_buttons(self, compact: bool) -> QHBoxLayout:
        """Get Docker, read the guide, build the image, check again; the banner's extras."""
        buttons = QHBoxLayout()
        self.download = push_button(
            self.installer.action,
            lambda: self.open_link(self.installer.url),
            tip=self.installer.url,
            primary=True,
        )
        self.guide_link = push_button(
            "Step-by-step guide",
            lambda: self.open_link(self.installer.guide),
            tip=self.installer.guide,
        )
        self.build = push_button("Build sandbox image", self.build_requested, primary=True)
        self.recheck = push_button("Check again", self.recheck_requested)
        for button in (self.download, self.guide_link, self.build, self.recheck):
            buttons.addWidget(button)
        self.open_settings = push_button("Sandbox settings", self.settings_requested)
        self.later = push_button("Not now", lambda: self.dismissed.emit(False))
        self.never = push_button("Don't show again", lambda: self.dismissed.emit(True))
        buttons.addStretch(1)
        for button in (self.open_settings, self.later, self.never):
            button.setVisible(compact)
            buttons.addWidget(button)
        return buttons

    # -- what is shown --------------------------------------------------------------------------

    def show_diagnosis(self, diagnosis: Diagnosis) -> None:
        state = diagnosis.docker
        self.state = state
        kind, title, body = _TEXT[state]
        if state == DOCKER_STOPPED:
            body += "What to do: " + running_advice() + "."
        elif state == DOCKER_DENIED:
            body += "What to do: " + permission_advice() + "."
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        self.title.setText(title)
        self.body.setText(body)
        missing = state == DOCKER_MISSING
        self.steps.setText(self.installer.steps if missing else "")
        self.steps.setVisible(missing and not self.compact)
        self.download.setVisible(missing)
        separate_guide = self.installer.guide != self.installer.url
        self.guide_link.setVisible(missing and not self.compact and separate_guide)
        self.build.setVisible(state == DOCKER_NO_IMAGE)
        self.recheck.setVisible(state != DOCKER_READY)
        weaker = diagnosis.weaker_sandbox_ok and state != DOCKER_READY
        self.reassurance.setVisible(weaker)
        if self.compact:
            ready = state == DOCKER_READY
            self.open_settings.setVisible(not ready)
            self.never.setVisible(not ready)
            self.later.setText("Close" if ready else "Not now")
        self.setVisible(True)

    def open_link(self, url: str) -> None:
        self.opened_links.append(url)
        QDesktopServices.openUrl(QUrl(url))

    # -- the image build ------------------------------------------------------------------------

    def build_started(self) -> None:
        self.build.setEnabled(False)
        self.recheck.setEnabled(False)
        self.progress.setRange(0, 0)  # busy until the first step is known
        self.progress.setVisible(True)
        self.build_status.setText("Building the sandbox image… this can take a few minutes.")
        self.build_status.setVisible(True)

    def build_step(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))

    def build_message(self, text: str) -> None:
        self.build_status.setText(text)

    def build_finished(self, ok: bool, message: str) -> None:
        self.build.setEnabled(True)
        self.recheck.setEnabled(True)
        self.progress.setVisible(False)
        self.build_status.setText(message)
