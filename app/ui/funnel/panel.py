"""The funnel panel: run the gauntlet (or one stage) on the open package, watch it, cancel it,
and read the verdict and the findings in plain words."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError
from app.findings import Finding, Stage
from app.funnel.pipeline import ALL_STAGES, FunnelOptions
from app.funnel.report import Report
from app.ui.funnel import red_team_cost
from app.ui.funnel.container_log import ContainerLog
from app.ui.funnel.findings_tree import FindingsTree
from app.ui.funnel.job import FunnelJob
from app.ui.funnel.stage_row import STAGE_SHORT, StageRow
from app.ui.funnel.trajectory_source import has_trajectories, report_trajectories
from app.ui.funnel.trajectory_view import show_trajectory_window
from app.ui.funnel.verdict import verdict_for
from app.ui.icons import icon
from app.ui.widgets import push_button
from app.ui.workspace.package_files import package_kind

log = logging.getLogger(__name__)

Confirm = Callable[[QWidget, str, str], bool]
STAGE_BUTTON_TIPS = {
    Stage.STRUCTURE: "Only the structure checks: files, the manifest and every task line (instant)",
    Stage.VERIFY: (
        "Only the sandbox check: in the sandbox, check that reference "
        "answers pass and wrong ones fail (structure checks run first)"
    ),
    Stage.ATTACK: (
        "Only the stress test: try to fool the grader with "
        "reward-hack attacks (structure checks run first)"
    ),
}
MAX_LOG_LINES = 5000


def ask_to_confirm(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(
        parent, title, text, QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel
    )
    return answer == QMessageBox.StandardButton.Ok


class FunnelPanel(QWidget):
    jump_requested = Signal(str, int, int)
    running_changed = Signal(bool)
    report_ready = Signal(object)
    problem = Signal(object)
    submit_requested = Signal()  # the user pressed “Submit…”

    def __init__(
        self,
        *,
        settings=None,
        credentials=None,
        job_runner=None,
        confirm: Confirm = ask_to_confirm,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._credentials = credentials
        self._job_runner = job_runner
        self._confirm = confirm
        self._package: Path | None = None
        self._queued: tuple[Stage, ...] = ()
        self._estimate: red_team_cost.CostEstimate | None = None
        self._agentic = False  # the package's kind: agents in containers (DESIGN §4.1)
        self.last_report: Report | None = None
        # Called before a run so the funnel sees what is on screen (the Workspace saves its tabs).
        self.before_run: Callable[[], object] | None = None
        self.job = FunnelJob(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self._build_verdict())
        layout.addLayout(self._build_buttons())
        layout.addLayout(self._build_red_team())
        layout.addWidget(self.llm_cost)
        layout.addLayout(self._build_stage_grid())
        layout.addWidget(self._build_results(), 1)
        self._connect_job()
        self.refresh_models()
        self.set_package(None)

    def _build_verdict(self) -> QFrame:
        """The box at the top: an icon, a one-line verdict and what it means."""
        self.verdict = QFrame()
        self.verdict.setObjectName("verdict")
        verdict_layout = QHBoxLayout(self.verdict)
        self.verdict_icon = QLabel()
        self.verdict_icon.setFixedSize(28, 28)
        verdict_layout.addWidget(self.verdict_icon, 0, Qt.AlignmentFlag.AlignTop)
        verdict_text = QVBoxLayout()
        self.verdict_title = QLabel()
        self.verdict_title.setObjectName("verdictTitle")
        self.verdict_title.setWordWrap(True)
        self.verdict_body = QLabel()
        self.verdict_body.setWordWrap(True)
        self.verdict_body.setObjectName("dimText")
        verdict_text.addWidget(self.verdict_title)
        verdict_text.addWidget(self.verdict_body)
        verdict_layout.addLayout(verdict_text, 1)
        return self.verdict

    def _build_buttons(self) -> QHBoxLayout:
        buttons = QHBoxLayout()
        self.run_button = push_button(
            "Run gauntlet",
            lambda: self.run(ALL_STAGES),
            tip="Run all three stages: structure, sandbox verification and the stress test",
            primary=True,
            icon=icon("run", "#ffffff", 16),
        )
        buttons.addWidget(self.run_button)
        # Shown when the window has a platform link (WorkspacePage.enable_submit).
        self.submit_button = push_button(
            "Submit…",
            self.submit_requested,
            tip="Check the structure, then send this environment to its bounty "
            "(queued while offline)",
            icon=icon("submissions", size=16),
        )
        self.submit_button.setVisible(False)
        self.submit_button.setEnabled(False)
        buttons.addWidget(self.submit_button)
        self.page_button = push_button("Open as page", self.open_page, tip="Report with charts")
        self.page_button.setEnabled(False)
        buttons.addWidget(self.page_button)
        self.calibration_button = push_button(
            "Calibration…", self.open_calibration, tip="The pack card from `gauntlet calibrate`"
        )
        buttons.addWidget(self.calibration_button)
        self.runs_button = push_button(
            "Agent runs…",
            self.open_agent_runs,
            tip="Step through the commands the agents ran on each task",
        )
        self.runs_button.setEnabled(False)
        buttons.addWidget(self.runs_button)
        buttons.addStretch(1)
        self.cancel_button = push_button(
            "Cancel",
            self.cancel,
            tip="Stop the run now (the sandbox is stopped too)",
            icon=icon("stop", size=16),
        )
        self.cancel_button.setEnabled(False)
        buttons.addWidget(self.cancel_button)
        return buttons

    def _build_red_team(self) -> QHBoxLayout:
        red_team = QHBoxLayout()
        self.llm_check = QCheckBox("Also attack with an LLM red team:")
        self.llm_check.setToolTip(
            "A language model tries to find answers that fool your grader. It costs money "
            "with paid providers; you see the estimate and confirm first."
        )
        self.llm_model = QComboBox()
        self.llm_model.setMinimumWidth(160)
        self.llm_cost = QLabel("")
        self.llm_cost.setObjectName("dimText")
        self.llm_cost.setWordWrap(True)
        red_team.addWidget(self.llm_check)
        red_team.addWidget(self.llm_model, 1)
        self.llm_check.toggled.connect(self._update_estimate)
        self.llm_model.currentIndexChanged.connect(self._update_estimate)
        return red_team

    def _build_stage_grid(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        self.stage_rows = {stage: StageRow(stage, grid, i) for i, stage in enumerate(ALL_STAGES)}
        # One "Run" per stage, at the end of its row (structure checks always run first).
        self.stage_buttons: dict[Stage, QPushButton] = {}
        for i, stage in enumerate(ALL_STAGES):
            button = QPushButton("Run")
            button.setToolTip(STAGE_BUTTON_TIPS[stage])
            button.clicked.connect(lambda _=False, s=stage: self.run((Stage.STRUCTURE, s)))
            self.stage_buttons[stage] = button
            grid.addWidget(button, i, 3)
        return grid

    def _build_results(self) -> QTabWidget:
        """The findings with the selected one's fix below them, and the live log."""
        self.tabs = QTabWidget()
        results = QSplitter(Qt.Orientation.Vertical)
        self.findings = FindingsTree()
        self.findings.jump_requested.connect(self.jump_requested)
        self.findings.finding_selected.connect(self._show_finding)
        results.addWidget(self.findings)
        self.finding_detail = QLabel(
            "Select a finding to see how to fix it. Double-click it to open the file at that line."
        )
        self.finding_detail.setWordWrap(True)
        self.finding_detail.setTextFormat(Qt.TextFormat.RichText)
        self.finding_detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.finding_detail.setMargin(6)
        self.finding_detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        results.addWidget(self.finding_detail)
        results.setStretchFactor(0, 4)
        results.setStretchFactor(1, 1)
        self.tabs.addTab(results, "Findings")
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(MAX_LOG_LINES)
        self.log_view.setPlaceholderText("What the gauntlet is doing appears here while it runs.")
        self.tabs.addTab(self.log_view, "Live log")
        self.container_log = ContainerLog()
        self.tabs.addTab(self.container_log, "Containers")
        return self.tabs

    def _connect_job(self) -> None:
        self.job.stage_started.connect(self._on_stage_started)
        self.job.stage_progress.connect(self._on_stage_progress)
        self.job.stage_finished.connect(self._on_stage_finished)
        self.job.log_line.connect(self.log_view.appendPlainText)
        self.job.progress_message.connect(self._on_progress_message)
        self.job.finding.connect(self.findings.add_finding)
        self.job.finished.connect(self._on_finished)
        self.job.failed.connect(self._on_failed)
        self.job.running_changed.connect(self._on_running_changed)

    # -- API ---------------------------------------------------------------------------------

    @property
    def package(self) -> Path | None:
        """The package the next run checks (a running one keeps its own)."""
        return self._package

    @property
    def is_running(self) -> bool:
        return self.job.running

    def set_submit_visible(self, visible: bool) -> None:
        """Offer "Submit…" (the window has a platform link); a click emits `submit_requested`."""
        self.submit_button.setVisible(visible)

    def set_submit_enabled(self, enabled: bool) -> None:
        self.submit_button.setEnabled(enabled)

    def set_run_enabled(self, enabled: bool) -> None:
        """Allow or refuse "Run gauntlet" (e.g. while a submission uses the package)."""
        self.run_button.setEnabled(enabled)

    def set_package(self, path: str | Path | None) -> None:
        if self.job.running:
            return  # the run keeps its package; a new one shows when it is done
        self._package = Path(path) if path else None
        enabled = self._package is not None
        self._agentic = enabled and package_kind(self._package) == "agentic"
        self.tabs.setTabVisible(self.tabs.indexOf(self.container_log), self._agentic)
        self.runs_button.setVisible(self._agentic)
        self.run_button.setEnabled(enabled)
        self.submit_button.setEnabled(enabled)
        self.calibration_button.setEnabled(enabled)
        for button in self.stage_buttons.values():
            button.setEnabled(enabled)
        if enabled:
            self._prepare_worker()
            self._set_verdict(
                "idle",
                "Ready to run the gauntlet",
                "Press “Run gauntlet” to check this environment from top to bottom. "
                "Nothing leaves your computer unless you add an LLM red team.",
            )
        else:
            self._set_verdict(
                "idle",
                "No environment open",
                "Open or start an environment in the Workspace, then run the gauntlet on it.",
            )

    def refresh_models(self) -> None:
        models = self._settings.llm_models() if self._settings is not None else []
        current = self.llm_model.currentText()
        self.llm_model.blockSignals(True)
        self.llm_model.clear()
        for entry in models:
            self.llm_model.addItem(entry["model"], entry)
        if current:
            self.llm_model.setCurrentIndex(max(0, self.llm_model.findText(current)))
        self.llm_model.blockSignals(False)
        has_models = bool(models)
        self.llm_check.setEnabled(has_models)
        self.llm_model.setVisible(has_models)
        if not has_models:
            self.llm_check.setChecked(False)
            self.llm_cost.setText("No model configured yet: add one in Settings → Language models.")
        else:
            self._update_estimate()

    def run(self, stages: tuple[Stage, ...]) -> None:
        if self._package is None or self.job.running:
            return
        if self.before_run is not None and self.before_run() is False:
            self.problem.emit(
                UserError(
                    "Some open files could not be saved, so the gauntlet did not start.",
                    "Save them (Ctrl+S) or fix what the editor reports, then run it again.",
                )
            )
            return
        options = FunnelOptions(
            backend=self._settings.sandbox_backend if self._settings is not None else "auto"
        )
        wants_llm = (
            Stage.ATTACK in stages and self.llm_check.isChecked() and self.llm_model.currentData()
        )
        if wants_llm:
            entry = self.llm_model.currentData()
            estimate = self._estimate
            if estimate:
                estimated = estimate.text()
            else:
                estimated = "still being estimated; the budget cap applies."
            text = (
                f"The red team sends your tasks and your grader’s code to {entry['model']} "
                "and tries to find answers that fool the grader.\n\nEstimated use: "
                f"{estimated}\n\nContinue?"
            )
            if not self._confirm(self, "Run the LLM red team?", text):
                return
            options.llm_model = entry["model"]
            options.llm_api_base = entry.get("api_base") or None
            options.budget_usd = (
                estimate.budget_usd if estimate else red_team_cost.DEFAULT_BUDGET_USD
            )
            options.max_llm_attempts = (
                estimate.attempts if estimate else red_team_cost.DEFAULT_ATTEMPTS
            )
            if self._credentials is not None and self._job_runner is not None:
                from app.sync.credentials import llm_key_name

                name = llm_key_name(red_team_cost.provider_of(entry["model"]))

                def with_key(key: str | None) -> None:
                    options.llm_api_key = key
                    self._start(stages, options)

                self._set_busy(True)
                self._job_runner.run_in_thread(
                    self._credentials.get, name, on_done=with_key, on_error=self._on_failed
                )
                return
        self._start(stages, options)

    def show_report(self, report: Report, title: str | None = None) -> None:
        """Show a report that did not come from a run here (e.g. the check before submitting)."""
        self.findings.clear_findings()
        for finding in report.findings:
            self.findings.add_finding(finding)
        self._queued = tuple(s.name for s in report.stages)
        self._on_finished(report)
        if title:
            self.verdict_title.setText(title)

    def open_page(self) -> None:
        from app.ui.funnel.report_view import ReportView

        self.report_page = ReportView(parent=self)
        self.report_page.problem.connect(self.problem)
        self.report_page.show_report(self.last_report)
        self.report_page.show()

    def open_calibration(self) -> None:
        """The package's pack card (.gauntlet/card.json) in the calibration view."""
        from app.ui.funnel.calibration_view import CalibrateContext, CalibrationView

        self.calibration_view = CalibrationView(parent=self)
        context = (self._package, self._settings, self._credentials, self._job_runner)
        self.calibration_view.set_calibrate_context(CalibrateContext(*context, self._confirm))
        self.calibration_view.problem.connect(self.problem)
        self.calibration_view.open_file(self._package / ".gauntlet" / "card.json")
        self.calibration_view.show()

    def open_agent_runs(self) -> None:
        """The agents' runs the last report carries, in the trajectory viewer."""
        try:
            runs = report_trajectories(self.last_report, base=self._package)
        except UserError as exc:
            self.problem.emit(exc)
            return
        show_trajectory_window(self, runs, self._package.name if self._package else "")

    def show_message(self, kind: str, title: str, body: str) -> None:
        """A verdict-box message from a neighbouring action
        ("pass", "fail", "error", "running", "idle").
        """
        self._set_verdict(kind, title, body)
        self.log_view.appendPlainText(f"{title} {body}".strip())

    def cancel(self) -> None:
        if self.job.running:
            self.cancel_button.setEnabled(False)
            self.cancel_button.setText("Cancelling…")
            self._set_verdict(
                "running", "Cancelling…", "Stopping the sandbox. This takes a moment."
            )
            self.job.cancel()

    def shutdown(self) -> None:
        self.job.shutdown()

    def showEvent(self, event) -> None:  # noqa: N802 - the package may have been set while hidden
        super().showEvent(event)
        self._prepare_worker()

    def closeEvent(self, event) -> None:  # noqa: N802 - a closed panel leaves nothing running
        self.shutdown()
        super().closeEvent(event)

    # -- run lifecycle --------------------------------------------------------------------------

    def _start(self, stages: tuple[Stage, ...], options: FunnelOptions) -> None:
        self._queued = (Stage.STRUCTURE, *[s for s in stages if s != Stage.STRUCTURE])
        self.findings.clear_findings()
        self.log_view.clear()
        self.container_log.clear()
        self.runs_button.setEnabled(False)
        if self._agentic:  # what runs where, while it runs
            self.tabs.setCurrentWidget(self.container_log)
        self.finding_detail.setText("")
        for stage, row in self.stage_rows.items():
            row.reset(stage in self._queued)
        names = ", ".join(STAGE_SHORT[s].split(" · ")[1].lower() for s in self._queued)
        self._set_verdict(
            "running",
            "Running the gauntlet…",
            f"Stages: {names}. You can keep editing; cancel any time.",
        )
        self.log_view.appendPlainText(f"Running on {self._package}")
        try:
            self.job.start(self._package, self._queued, options)
        except UserError as exc:
            self._set_busy(False)
            self.problem.emit(exc)

    def _set_busy(self, busy: bool) -> None:
        self.run_button.setEnabled(not busy and self._package is not None)
        self.submit_button.setEnabled(not busy and self._package is not None)
        for button in self.stage_buttons.values():
            button.setEnabled(not busy and self._package is not None)
        self.cancel_button.setEnabled(busy)
        if not busy:
            self.cancel_button.setText("Cancel")

    def _on_running_changed(self, running: bool) -> None:
        self._set_busy(running)
        if not running:
            self._prepare_worker()  # a warm process for the next run
        self.running_changed.emit(running)

    def _prepare_worker(self) -> None:
        """Start a spare funnel process (imports paid ahead)
        once the panel is on screen with a package.
        """
        if not self.job.running and self._package is not None and self.isVisible():
            self.job.prepare()

    def _on_stage_started(self, stage: Stage) -> None:
        self.stage_rows[stage].started()

    def _on_stage_progress(self, stage: Stage, done: int, total, eta_s) -> None:
        self.stage_rows[stage].progress(done, total, eta_s)

    def _on_progress_message(self, stage: Stage, message: str) -> None:
        if self._agentic:  # a qa run's thousands of answers stay in the counts
            self.container_log.add(stage, message)

    def _on_stage_finished(self, stage: Stage, status: str) -> None:
        self.stage_rows[stage].finished(status)

    def _on_finished(self, report: Report) -> None:
        self.last_report = report
        self.page_button.setEnabled(True)
        self.runs_button.setEnabled(has_trajectories(report))
        self.runs_button.setVisible(self._agentic or has_trajectories(report))
        if report.findings:
            self.tabs.setCurrentIndex(0)  # the findings, once there are some to read
        for result in report.stages:
            reason = (result.details or {}).get("reason", "")
            self.stage_rows[result.name].finished(str(result.status), reason)
        for stage in ALL_STAGES:
            if stage not in self._queued:
                self.stage_rows[stage].reset(False)
        self._show_verdict(report)
        self.report_ready.emit(report)

    def _on_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, UserError):
            self._set_verdict("error", exc.message, exc.hint)
        else:
            self._set_verdict(
                "error",
                "The gauntlet stopped because of an internal problem",
                "Your files are safe. See the notification for details.",
            )
            self.problem.emit(exc)
        for row in self.stage_rows.values():
            if row.status.text() in ("running…", "waiting") or row.bar.maximum() == 0:
                row.finished("error")

    def _show_verdict(self, report: Report) -> None:
        self._set_verdict(*verdict_for(report))

    def _set_verdict(self, kind: str, title: str, body: str) -> None:
        self.verdict.setProperty("verdict", kind)
        self.verdict.style().unpolish(self.verdict)
        self.verdict.style().polish(self.verdict)
        name = {"pass": "pass", "fail": "error", "error": "warning", "running": "sync"}.get(
            kind, "info"
        )
        self.verdict_icon.setPixmap(icon(name, size=28).pixmap(28, 28))
        self.verdict_title.setText(title)
        self.verdict_body.setText(body)

    def verdict_text(self) -> str:
        return self.verdict_title.text()

    def _show_finding(self, finding: Finding | None) -> None:
        if finding is None:
            self.finding_detail.setText("")
            return
        parts = [f"<b>{html.escape(finding.message)}</b>"]
        if finding.hint:
            parts.append(f"<b>How to fix:</b> {html.escape(finding.hint)}")
        where = finding.location() if finding.file else ""
        meta = " · ".join(
            p
            for p in (where, f"task {finding.task_id}" if finding.task_id else "", finding.code)
            if p
        )
        parts.append(f"<span style='color:gray'>{html.escape(meta)}</span>")
        if finding.evidence:
            response = finding.evidence.get("response")
            if isinstance(response, str) and response:
                parts.append(
                    "<span style='color:gray'>Response that fooled "
                    f"it:</span> <code>{html.escape(response[:300])}</code>"
                )
        self.finding_detail.setText("<br>".join(parts))

    # -- LLM estimate ---------------------------------------------------------------------------

    def _update_estimate(self, *_args) -> None:
        entry = self.llm_model.currentData()
        if not self.llm_check.isChecked() or not entry:
            self._estimate = None
            if self.llm_check.isEnabled():
                self.llm_cost.setText("Built-in attacks only (free, nothing leaves your computer).")
            return
        self.llm_cost.setText("Estimating the cost…")
        model = entry["model"]

        def show(estimate: red_team_cost.CostEstimate) -> None:
            if self.llm_model.currentText() == model:
                self._estimate = estimate
                self.llm_cost.setText(f"Estimate: {estimate.text()}")

        if self._job_runner is not None:
            self._job_runner.run_in_thread(
                red_team_cost.estimate,
                model,
                on_done=show,
                on_error=lambda exc: self.llm_cost.setText(
                    "The cost could not be estimated; the budget cap still applies."
                ),
            )
        else:
            show(red_team_cost.estimate(model))
