"""The live log of an agentic run: every progress message of the stages as it comes
("qc-report: forge-reward-txt"), so the user sees which task and which agent runs in which
container now. Append-only, monospace and capped, so a long run cannot grow it without end."""

from __future__ import annotations

import time

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from app.findings import Stage
from app.ui.funnel.stage_row import STAGE_SHORT

MAX_LINES = 3000


class ContainerLog(QPlainTextEdit):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("containerLog")
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)  # the oldest lines go first
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText(
            "Each task, agent and container of the run appears here as it starts."
        )

    def add(self, stage: Stage, message: str) -> None:
        name = STAGE_SHORT.get(stage, str(stage)).split(" · ")[-1].lower()
        self.appendPlainText(f"{time.strftime('%H:%M:%S')}  {name:<11}  {message}")
