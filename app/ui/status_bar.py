"""The status bar: platform (online / offline / syncing, quietly), sandbox, running jobs."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.ui.icons import icon

_PHASE_TEXT = {
    "online": "Online",
    "offline": "Offline",
    "syncing": "Syncing…",
    "error": "Needs attention",
}
_PHASE_ICON = {"online": "online", "offline": "offline", "syncing": "sync", "error": "warning"}


class IconLabel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtWidgets import QHBoxLayout

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(4)
        self.icon = QLabel()
        self.icon.setObjectName("statusIcon")
        self.icon.setFixedSize(14, 14)
        self.text = QLabel()
        layout.addWidget(self.icon)
        layout.addWidget(self.text)

    def set(self, icon_name: str, text: str, tooltip: str = "") -> None:
        self.icon.setPixmap(icon(icon_name, size=14).pixmap(14, 14))
        self.text.setText(text)
        self.setToolTip(tooltip)


class StudioStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(True)
        self.platform = IconLabel()
        self.sandbox = IconLabel()
        self.jobs = QLabel("")
        self.addWidget(self.platform)
        self.addWidget(self.sandbox)
        self.addPermanentWidget(self.jobs)
        self.set_platform("offline", "Connecting to the platform…")
        self.set_sandbox(None, "Checking the sandbox…")

    def set_platform(self, phase: str, message: str = "", hint: str = "", where: str = "") -> None:
        text = _PHASE_TEXT.get(phase, phase.capitalize())
        if where:
            text = f"{text} · {where}"
        tooltip = " ".join(p for p in (message, hint) if p)
        if phase == "offline" and not tooltip:
            tooltip = "You can keep working; changes are sent when the platform is reachable again."
        self.platform.set(_PHASE_ICON.get(phase, "info"), text, tooltip)

    def set_sandbox(self, ready: bool | None, text: str, tooltip: str = "") -> None:
        name = "sandbox" if ready is None else ("pass" if ready else "warning")
        self.sandbox.set(name, text, tooltip)

    def set_jobs(self, count: int, what: str = "") -> None:
        if count <= 0:
            self.jobs.setText("")
        elif what:
            self.jobs.setText(what)
        else:
            self.jobs.setText(f"{count} job{'s' if count != 1 else ''} running")
