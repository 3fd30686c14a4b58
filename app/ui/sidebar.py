"""The window's sidebar: one entry per screen, only the screens of the role the user acts in,
a small count badge where something new arrived, and the role switch at the bottom.

Roles: an author builds environments, a reviewer reviews submissions assigned to them, a lab
posts bounties and assigns reviewers. On the local platform each role is a local account, so
one person can try every side of the loop; switching is a menu choice, not a restart.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QPainter
from PySide6.QtWidgets import (
    QListWidget,
    QListWidgetItem,
    QMenu,
    QSizePolicy,
    QStyledItemDelegate,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.icons import icon

ROLES = ("author", "reviewer", "lab")
ROLE_TITLES = {"author": "Author", "reviewer": "Reviewer", "lab": "Lab"}
ROLE_TIPS = {
    "author": "Build environments for bounties and submit them",
    "reviewer": "Review the submissions assigned to you",
    "lab": "Post bounties, follow their submissions, assign reviewers",
}
# The screens each role sees, in the window's sidebar order.
ROLE_SCREENS = {
    "author": ("bounties", "workspace", "submissions", "reviews", "settings"),
    "reviewer": ("queue", "bounties", "workspace", "settings"),
    "lab": ("lab", "bounties", "settings"),
}
_BADGE = Qt.ItemDataRole.UserRole + 1


class _BadgeDelegate(QStyledItemDelegate):
    """Draws the item as usual, then a small rounded count on its right edge."""

    def paint(self, painter: QPainter, option, index) -> None:
        super().paint(painter, option, index)
        count = index.data(_BADGE) or 0
        if count <= 0:
            return
        text = str(count) if count < 100 else "99+"
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = option.fontMetrics
        width = max(20, metrics.horizontalAdvance(text) + 10)
        rect = QRect(0, 0, width, 18)
        rect.moveCenter(option.rect.center())
        rect.moveRight(option.rect.right() - 18)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#d93f3f"))
        painter.drawRoundedRect(rect, 9, 9)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


class Sidebar(QWidget):
    """Rows keep the window's screen order; a role hides the rows it does not use."""

    role_chosen = Signal(str)

    def __init__(self, screens, titles, tips, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.screens = tuple(screens)
        self._titles = titles
        self._tips = tips
        self.role = "author"
        self.list = QListWidget()
        self.list.setObjectName("sidebar")
        self.list.setIconSize(QSize(20, 20))
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setItemDelegate(_BadgeDelegate(self.list))
        for name in self.screens:
            item = QListWidgetItem(icon(name, size=20), titles[name])
            item.setSizeHint(QSize(170, 40))
            self.list.addItem(item)
        self.role_button = QToolButton()
        self.role_button.setObjectName("roleSwitch")
        self.role_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.role_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.role_button.setIcon(icon("role", size=18))
        self.role_button.setMenu(self._role_menu())
        self.role_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.role_button)
        self.setFixedWidth(190)
        self.show_role("author")

    def _role_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        group = QActionGroup(menu)
        self._role_actions: dict[str, QAction] = {}
        for role in ROLES:
            action = QAction(f"Act as {ROLE_TITLES[role].lower()}", menu, checkable=True)
            action.setToolTip(ROLE_TIPS[role])
            action.triggered.connect(lambda _=False, r=role: self._choose(r))
            group.addAction(action)
            menu.addAction(action)
            self._role_actions[role] = action
        return menu

    def _choose(self, role: str) -> None:
        if role != self.role:
            self.role_chosen.emit(role)

    # -- what the window asks ----------------------------------------------------------------

    def show_role(self, role: str) -> None:
        """Show the screens of `role` (its shortcuts are Ctrl+1… in this order)."""
        self.role = role
        visible = ROLE_SCREENS[role]
        for row, name in enumerate(self.screens):
            self.list.setRowHidden(row, name not in visible)
            if name in visible:
                shortcut = visible.index(name) + 1
                self.list.item(row).setToolTip(f"{self._tips[name]} (Ctrl+{shortcut})")
        self._role_actions[role].setChecked(True)
        self.role_button.setText(f"Acting as {ROLE_TITLES[role].lower()}  ▾")
        self.role_button.setToolTip(
            f"{ROLE_TIPS[role]}. Click to act as another role (on the local platform each role "
            "is a local account)."
        )

    def visible_screens(self) -> tuple[str, ...]:
        return ROLE_SCREENS[self.role]

    def set_badge(self, screen: str, count: int) -> None:
        item = self.list.item(self.screens.index(screen))
        item.setData(_BADGE, count)
        title = self._titles[screen]
        item.setData(
            Qt.ItemDataRole.AccessibleTextRole, f"{title}, {count} new" if count else title
        )

    def badge(self, screen: str) -> int:
        return self.list.item(self.screens.index(screen)).data(_BADGE) or 0

    def refresh_icons(self) -> None:
        for row, name in enumerate(self.screens):
            self.list.item(row).setIcon(icon(name, size=20))
        self.role_button.setIcon(icon("role", size=18))
