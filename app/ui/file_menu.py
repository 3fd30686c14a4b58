"""The window's File menu: open an environment folder, or an agent's trajectory file to step
through (a gauntlet-trajectory/1 JSON file, as the red-team and baseline agents write)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QMessageBox, QWidget

from app.errors import UserError

if TYPE_CHECKING:
    from app.ui.funnel.trajectory_view import TrajectoryView


def install_file_menu(window: QMainWindow, open_environment: Callable[[], object]) -> QMenu:
    menu = window.menuBar().addMenu("&File")
    menu.setToolTipsVisible(True)
    open_folder = menu.addAction("Open environment folder…")
    open_folder.setShortcut(QKeySequence.StandardKey.Open)
    open_folder.triggered.connect(lambda: open_environment())
    open_runs = menu.addAction("Open trajectory…")
    open_runs.setShortcut(QKeySequence("Ctrl+Shift+O"))
    open_runs.setToolTip("Step through an agent's commands on agentic tasks (a JSON file)")
    open_runs.triggered.connect(lambda: open_trajectory(window))
    return menu


def pick_trajectory_file(parent: QWidget) -> str | None:
    path, _filter = QFileDialog.getOpenFileName(
        parent,
        "Open an agent trajectory",
        str(Path.home()),
        "Trajectory files (*.json);;All files (*)",
    )
    return path or None


def open_trajectory(parent: QWidget, path: str | None = None) -> TrajectoryView | None:
    """Show the runs in `path` (asked for when None); a bad file gets a dialog saying why."""
    # Imported here: the window starts without the funnel's modules (startup budget).
    from app.ui.funnel.trajectory_source import read_trajectory_file
    from app.ui.funnel.trajectory_view import show_trajectory_window

    path = path or pick_trajectory_file(parent)
    if not path:
        return None
    try:
        trajectories = read_trajectory_file(Path(path))
    except UserError as exc:
        QMessageBox.warning(parent, "Not a trajectory file", f"{exc.message}\n\n{exc.hint}")
        return None
    return show_trajectory_window(parent, trajectories, Path(path).name)
