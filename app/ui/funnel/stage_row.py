"""One row of the funnel panel's stage grid: the stage's name, a progress bar and its status
in words ("12 / 40 · about 8 s left", "failed — reason")."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar

from app.findings import Stage

STAGE_SHORT = {
    Stage.STRUCTURE: "1 · Structure",
    Stage.VERIFY: "2 · Sandbox",
    Stage.ATTACK: "3 · Stress test",
}
STATUS_WORDS = {
    "pass": "passed",
    "warn": "passed with warnings",
    "fail": "failed",
    "skipped": "skipped",
    "error": "could not finish",
}


class StageRow:
    """Label, progress bar and "12 / 40 · about 8 s left" for one stage."""

    def __init__(self, stage: Stage, grid: QGridLayout, row: int) -> None:
        self.stage = stage
        self.name = QLabel(STAGE_SHORT[stage])
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)
        self.status = QLabel("not run")
        self.status.setObjectName("dimText")
        self.status.setMinimumWidth(150)
        grid.addWidget(self.name, row, 0)
        grid.addWidget(self.bar, row, 1)
        grid.addWidget(self.status, row, 2)

    def _set_state(self, state: str) -> None:
        self.bar.setProperty("state", state)
        self.bar.style().unpolish(self.bar)
        self.bar.style().polish(self.bar)

    def reset(self, queued: bool) -> None:
        self._set_state("")
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.status.setText("waiting" if queued else "not run")

    def started(self) -> None:
        self.bar.setRange(0, 0)  # busy until the first count arrives
        self.status.setText("running…")

    def progress(self, done: int, total: int | None, eta_s: float | None) -> None:
        if total:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
            text = f"{done:,} / {total:,}"
            if eta_s is not None:
                text += f" · about {_duration(eta_s)} left"
        else:
            self.bar.setRange(0, 0)
            text = f"{done:,} done"
        self.status.setText(text)

    def finished(self, status: str, reason: str = "") -> None:
        self.bar.setRange(0, 1)
        self.bar.setValue(1 if status in ("pass", "warn", "fail") else 0)
        self._set_state(status)
        words = STATUS_WORDS.get(status, status)
        self.status.setText(f"{words} — {reason}" if reason else words)
        self.status.setToolTip(reason)


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "a second"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"
