"""Non-modal notifications shown above the status bar: problems, and quiet confirmations.

Nothing here blocks: a card stays until dismissed (problems) or fades after a few seconds
(confirmations). "Copy details" puts the full report on the clipboard for a bug report.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.ui.error_reporter import Problem
from app.ui.widgets import push_button

MAX_CARDS = 3
INFO_TIMEOUT_MS = 6000


class NotificationCard(QFrame):
    dismissed = Signal()

    def __init__(
        self,
        title: str,
        hint: str = "",
        details: str = "",
        *,
        kind: str = "error",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("notification")
        self.setProperty("kind", kind)
        self.details = details
        self.expiry: QTimer | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        text = QVBoxLayout()
        self.title_label = QLabel(title)
        self.title_label.setObjectName("notificationTitle")
        self.title_label.setWordWrap(True)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.addWidget(self.title_label)
        if hint:
            self.hint_label = QLabel(hint)
            self.hint_label.setWordWrap(True)
            self.hint_label.setObjectName("notificationHint")
            text.addWidget(self.hint_label)
        layout.addLayout(text, 1)
        if details:
            self.copy_button = push_button(
                "Copy details",
                self.copy_details,
                tip="Copy the technical details to the clipboard, for a bug report",
            )
            layout.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        self.dismiss_button = push_button("Dismiss", self.dismiss)
        layout.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)

    def copy_details(self) -> None:
        QApplication.clipboard().setText(self.details)
        self.copy_button.setText("Copied")

    def dismiss(self) -> None:
        if self.expiry is not None:
            self.expiry.stop()
        self.hide()
        self.dismissed.emit()
        self.deleteLater()


class NotificationArea(QWidget):
    """A column of cards; hidden when empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notificationArea")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 4, 8, 4)
        self._layout.setSpacing(4)
        self.hide()

    def cards(self) -> list[NotificationCard]:
        return [c for c in self.findChildren(NotificationCard) if not c.isHidden()]

    def show_problem(self, problem: Problem) -> NotificationCard:
        kind = "error" if problem.is_bug else "warning"
        return self._add(
            NotificationCard(
                problem.title, problem.hint, problem.details if problem.is_bug else "", kind=kind
            )
        )

    def show_message(self, title: str, hint: str = "", *, kind: str = "info") -> NotificationCard:
        card = self._add(NotificationCard(title, hint, kind=kind))
        if kind == "info":
            card.expiry = QTimer(card)  # owned by the card: gone with it
            card.expiry.setSingleShot(True)
            card.expiry.timeout.connect(card.dismiss)
            card.expiry.start(INFO_TIMEOUT_MS)
        return card

    def clear(self) -> None:
        for card in self.cards():
            card.dismiss()

    def _add(self, card: NotificationCard) -> NotificationCard:
        visible = self.cards()
        for old in visible[: max(0, len(visible) - MAX_CARDS + 1)]:
            old.dismiss()
        card.setParent(self)
        card.dismissed.connect(self._update_visibility)
        self._layout.addWidget(card)
        card.show()
        self.show()
        return card

    def _update_visibility(self) -> None:
        self.setVisible(bool(self.cards()))
