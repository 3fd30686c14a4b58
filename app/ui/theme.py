"""Light, dark or follow-the-system: a Fusion palette plus one calm stylesheet
(resources/styles/studio.qss), which uses palette() colours so it fits both."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from app.resources import resource_path
from app.ui import icons

_LIGHT = {
    "window": "#f6f7f9",
    "base": "#ffffff",
    "alt": "#f2f4f7",
    "text": "#1f2430",
    "button": "#ffffff",
    "highlight": "#2f6fde",
    "highlighted_text": "#ffffff",
    "mid": "#d5d9e0",
    "dim": "#6b7280",
    "link": "#2f6fde",
    "tooltip": "#ffffff",
}
_DARK = {
    "window": "#1e2128",
    "base": "#262a33",
    "alt": "#2b303a",
    "text": "#e6e8ec",
    "button": "#2d323c",
    "highlight": "#4c8dff",
    "highlighted_text": "#ffffff",
    "mid": "#3b414d",
    "dim": "#9aa3b2",
    "link": "#79a8ff",
    "tooltip": "#2d323c",
}


def system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    return bool(scheme and scheme() == Qt.ColorScheme.Dark)


def effective_theme(choice: str) -> str:
    if choice in ("light", "dark"):
        return choice
    return "dark" if system_prefers_dark() else "light"


def apply_theme(app: QApplication, choice: str = "system") -> str:
    """Apply `choice` ("system" | "light" | "dark"); returns the theme actually used."""
    theme = effective_theme(choice)
    colours = _DARK if theme == "dark" else _LIGHT
    app.setStyle(QStyleFactory.create("Fusion"))
    app.setPalette(_palette(colours))
    qss = resource_path("styles", "studio.qss").read_text(encoding="utf-8")
    for key in sorted(colours, key=len, reverse=True):  # "@highlighted_text" before "@highlight"
        qss = qss.replace(f"@{key}", colours[key])
    app.setStyleSheet(qss)
    app.setProperty("gauntletTheme", theme)
    icons.clear_cache()
    return theme


def _palette(c: dict[str, str]) -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    p.setColor(role.Window, QColor(c["window"]))
    p.setColor(role.WindowText, QColor(c["text"]))
    p.setColor(role.Base, QColor(c["base"]))
    p.setColor(role.AlternateBase, QColor(c["alt"]))
    p.setColor(role.Text, QColor(c["text"]))
    p.setColor(role.Button, QColor(c["button"]))
    p.setColor(role.ButtonText, QColor(c["text"]))
    p.setColor(role.Highlight, QColor(c["highlight"]))
    p.setColor(role.HighlightedText, QColor(c["highlighted_text"]))
    p.setColor(role.ToolTipBase, QColor(c["tooltip"]))
    p.setColor(role.ToolTipText, QColor(c["text"]))
    p.setColor(role.Link, QColor(c["link"]))
    p.setColor(role.PlaceholderText, QColor(c["dim"]))
    p.setColor(role.Mid, QColor(c["mid"]))
    for group in (QPalette.ColorGroup.Disabled,):
        p.setColor(group, role.Text, QColor(c["dim"]))
        p.setColor(group, role.WindowText, QColor(c["dim"]))
        p.setColor(group, role.ButtonText, QColor(c["dim"]))
    return p
