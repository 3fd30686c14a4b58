"""Calibrating from the app: the same code as `gauntlet calibrate` (app/calibrate/run.py), run
in the window's worker threads, and only after the user has read the cost estimate and said yes.

1. `CalibrationDialog` asks which of the models set up in Settings → Language models, how many
   samples per task, and the dollar cap.
2. In a worker thread: the package is loaded, each model's key read from the keychain, and the
   cost estimated (cached completions are free).
3. The estimate is shown; nothing is asked of any model unless the user confirms it.
4. In a worker thread: sampling (progress reported back), grading in the sandbox, the card
   written to .gauntlet/card.json with card.html next to it; the view shows it.

For an agentic package a sample is one honest agent run in the task's container (see
app/calibrate/agentic.py). Cancel stops cleanly: no new sample starts, agent runs in flight stop
at their next turn, every finished sample stays cached, and calibrating again resumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QWidget,
)

from app.errors import UserError

NO_KEY = "no-key"  # what a keyless local OpenAI-compatible server is sent (as the CLI does)


@dataclass(frozen=True, slots=True)
class CalibrationRequest:
    package: Path
    models: list[dict[str, str]]  # {"model", "api_base"} as Settings keeps them
    samples: int = 4
    budget_usd: float = 5.0
    backend: str = "auto"


class CalibrationDialog(QDialog):
    """Which models, how many samples, what cap: the settings of one calibration."""

    def __init__(self, models: list[dict[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Calibrate against real models")
        form = QFormLayout(self)
        note = QLabel(
            "Each chosen model answers every task several times (for an agentic package: "
            "runs the agent on it, a whole conversation each time); every answer is graded by "
            "your grader in the sandbox. You see the cost estimate before anything is sent."
        )
        note.setWordWrap(True)
        form.addRow(note)
        self.models = QListWidget()
        for entry in models:
            item = QListWidgetItem(entry["model"])
            item.setData(Qt.ItemDataRole.UserRole, entry)
            item.setCheckState(Qt.CheckState.Checked)
            self.models.addItem(item)
        form.addRow("Models", self.models)
        self.samples = QSpinBox()
        self.samples.setRange(1, 64)
        self.samples.setValue(4)
        form.addRow("Samples per task", self.samples)
        self.budget = QDoubleSpinBox()
        self.budget.setRange(0.0, 10_000.0)
        self.budget.setPrefix("$ ")
        self.budget.setValue(5.0)
        form.addRow("Spend at most", self.budget)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def chosen(self) -> list[dict[str, str]]:
        items = (self.models.item(i) for i in range(self.models.count()))
        return [
            item.data(Qt.ItemDataRole.UserRole)
            for item in items
            if item.checkState() == Qt.CheckState.Checked
        ]


def prepare(request: CalibrationRequest, credentials) -> tuple[Any, Any]:
    """(calibration, estimate): blocking (files, keychain, tokenizers), so a worker thread's."""
    from app.calibrate.persona_user import persona_models
    from app.calibrate.run import Calibration, not_calibratable
    from app.calibrate.sampling import SamplingSettings
    from app.envpack.loader import load_envpack
    from app.funnel.pipeline import FunnelOptions
    from app.sync.credentials import llm_key_name
    from app.ui.funnel.red_team_cost import provider_of

    if not request.models:
        raise UserError("no model chosen.", "Tick at least one model.")
    bases = {entry.get("api_base") or "" for entry in request.models}
    if len(bases) > 1:
        raise UserError(
            "the chosen models are served from different addresses.",
            "Calibrate the models of one server (or of the providers themselves) together.",
        )
    api_base = bases.pop() or None
    loaded = load_envpack(request.package)
    if not loaded.ok or loaded.pack is None:
        raise UserError(
            "the package has errors, so it cannot be calibrated.",
            "Run the structure checks and fix what they report.",
        )
    if (problem := not_calibratable(loaded.pack, request.package)) is not None:
        raise problem
    if loaded.pack.is_agentic and request.backend == "process":
        raise UserError(
            "an agentic package is calibrated only in Docker: each sample is an agent run in a "
            "container of its own.",
            "Choose Docker (or automatic) in Settings → Sandbox, then calibrate.",
        )
    keys = {}
    # a persona user is a model too: its replies are asked through the same cache and cap
    for model in [entry["model"] for entry in request.models] + persona_models(loaded.pack):
        stored = credentials.get(llm_key_name(provider_of(model))) if credentials else None
        keys[model] = stored or (NO_KEY if api_base else None)
    sampling = SamplingSettings(budget_usd=request.budget_usd, api_base=api_base, api_keys=keys)
    models = [entry["model"] for entry in request.models]
    calibration = Calibration(
        loaded.pack, models, request.samples, sampling, FunnelOptions(backend=request.backend)
    )
    return calibration, calibration.estimate()


class CalibrationJob(QObject):
    """Sampling and grading in a worker thread; `progress` comes back on the GUI thread.
    `cancel` (set from the GUI thread) stops it cleanly; `run` then returns None."""

    progress = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        from app.progress import CancelToken

        self.cancel = CancelToken()
        self.cached = 0  # samples done (and cached) when the run was cancelled

    def run(self, calibration, package: Path) -> tuple[dict[str, Any], Path] | None:
        """Blocking: a worker thread's. The card is written like the CLI writes it."""
        from app.calibrate.card_html import export_html
        from app.calibrate.run import card_page_path, default_card_path, write_card
        from app.progress import Cancelled

        started = datetime.now(UTC)
        what = "agent runs" if calibration.pack.is_agentic else "samples"

        def sampled(done: int, total: int, _sample) -> None:
            self.progress.emit(f"Asked the models: {done} of {total} {what}…")

        outcome = _sandboxed(calibration.sample, sampled, self.cancel)
        self.cached = len(outcome.samples)
        if self.cancel.cancelled:
            return None
        if outcome.error is not None:
            raise UserError(
                f"{outcome.error.message} ({len(outcome.samples)} samples are cached).",
                f"{outcome.error.hint}; then calibrate again: cached samples are free.",
            )
        self.progress.emit(f"Grading {len(outcome.samples)} {what} in the sandbox…")
        try:
            grading = _sandboxed(calibration.grade, outcome, cancel=self.cancel)
        except Cancelled:
            return None
        card = calibration.card(outcome, grading, started)
        path = default_card_path(package)
        write_card(card, path)
        export_html(card, card_page_path(path))
        return card, path


def _sandboxed(call, *args, **kwargs):
    """`call(...)`, with a sandbox that cannot run said as a clear error."""
    from app.sandbox.base import SandboxUnavailable

    try:
        return call(*args, **kwargs)
    except SandboxUnavailable as exc:
        raise UserError(
            f"the sandbox could not run: {exc.message}",
            f"{exc.hint} (finished samples are cached: calibrating again does not redo them)",
        ) from None
