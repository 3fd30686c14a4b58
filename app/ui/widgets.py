"""Small building blocks every screen uses: a page header, an empty state that says what to do
next, buttons and rows of them, and a stack of pages that fills its owner."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)


class PageHeader(QWidget):
    def __init__(self, title: str, subtitle: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.setSpacing(2)
        self.title = QLabel(title)
        self.title.setObjectName("pageTitle")
        layout.addWidget(self.title)
        self.subtitle = QLabel(subtitle)
        self.subtitle.setObjectName("pageSubtitle")
        self.subtitle.setWordWrap(True)
        self.subtitle.setVisible(bool(subtitle))
        layout.addWidget(self.subtitle)

    def set_text(self, title: str, subtitle: str = "") -> None:
        self.title.setText(title)
        self.subtitle.setText(subtitle)
        self.subtitle.setVisible(bool(subtitle))


def screen_layout(
    owner: QWidget, header: PageHeader, *, spacing: int | None = None, bottom: int = 12
) -> QVBoxLayout:
    """The column a screen is laid out in: the screens' margins, `header` on top."""
    layout = QVBoxLayout(owner)
    layout.setContentsMargins(20, 16, 20, bottom)
    if spacing is not None:
        layout.setSpacing(spacing)
    layout.addWidget(header)
    return layout


class EmptyState(QFrame):
    """A friendly box in place of an empty list: what this is, and the next step."""

    def __init__(
        self, title: str, body: str, action: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("emptyState")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 28, 32, 28)
        layout.setSpacing(8)
        layout.addStretch(1)
        self.title_label = QLabel(title)
        self.title_label.setObjectName("emptyTitle")
        self.title_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title_label.setWordWrap(True)
        layout.addWidget(self.title_label)
        self.body_label = QLabel(body)
        self.body_label.setObjectName("emptyBody")
        self.body_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body_label.setWordWrap(True)
        self.body_label.setTextFormat(Qt.TextFormat.RichText)
        self.body_label.setOpenExternalLinks(False)
        layout.addWidget(self.body_label)
        self.action_button = QPushButton(action)
        self.action_button.setObjectName("primary")
        self.action_button.setVisible(bool(action))
        layout.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)

    def set_text(self, title: str, body: str) -> None:
        self.title_label.setText(title)
        self.body_label.setText(body)


def push_button(
    text: str,
    on_click: Callable[..., object],
    *,
    tip: str = "",
    primary: bool = False,
    icon: QIcon | None = None,
) -> QPushButton:
    """A button that does `on_click`; `primary` gives it the accent (the step to take next)."""
    button = QPushButton(text)
    if primary:
        button.setObjectName("primary")
    if icon is not None:
        button.setIcon(icon)
    if tip:
        button.setToolTip(tip)
    button.clicked.connect(on_click)
    return button


def button_row(*buttons: QWidget) -> QHBoxLayout:
    """Buttons side by side from the left, the rest of the row empty."""
    row = QHBoxLayout()
    for button in buttons:
        row.addWidget(button)
    row.addStretch(1)
    return row


def fill_with_pages(owner: QWidget, *pages: QWidget) -> QStackedWidget:
    """Make `owner` show one of `pages` at a time, edge to edge (the first to begin with)."""
    stack = QStackedWidget()
    for page in pages:
        stack.addWidget(page)
    layout = QVBoxLayout(owner)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(stack)
    return stack
