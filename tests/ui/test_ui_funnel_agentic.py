"""The funnel panel on an agentic package: a "Containers" log with every progress message of
the run as it comes (monospace, capped), and "Agent runs…" opening the trajectory viewer on the
runs a report carries (a file path or inline), with a problem, not a traceback, for a bad one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtGui import QFontInfo
from support.services import docker_available, need, sandbox_image_available

from app.envpack.templates import create_from_template
from app.errors import UserError
from app.findings import Stage
from app.funnel.report import Report, StageResult, StageStatus
from app.progress import ProgressEvent
from app.ui.app_settings import AppSettings
from app.ui.funnel.container_log import MAX_LINES
from app.ui.funnel.job import FunnelJob
from app.ui.funnel.panel import FunnelPanel
from app.ui.funnel.trajectory_view import TrajectoryView

SAMPLE = Path(__file__).parent / "data" / "sample_trajectory.json"


@pytest.fixture
def agentic_package(tmp_path):
    return create_from_template(
        "agentic-data", tmp_path / "qc", package_name="test/qc", title="Instrument QC"
    )


def make_panel(qtbot, job_runner, backend: str = "auto") -> FunnelPanel:
    settings = AppSettings()
    settings.sandbox_backend = backend
    panel = FunnelPanel(settings=settings, job_runner=job_runner)
    qtbot.addWidget(panel)
    return panel


def tab_titles(panel) -> list[str]:
    return [panel.tabs.tabText(i) for i in range(panel.tabs.count()) if panel.tabs.isTabVisible(i)]


def test_the_containers_log_and_agent_runs_show_for_agentic_packages_only(
    qtbot, job_runner, agentic_package, tmp_path
):
    panel = make_panel(qtbot, job_runner)
    panel.set_package(agentic_package)
    assert tab_titles(panel) == ["Findings", "Live log", "Containers"]
    assert not panel.runs_button.isHidden() and not panel.runs_button.isEnabled()
    assert QFontInfo(panel.container_log.font()).fixedPitch()
    assert panel.container_log.maximumBlockCount() == MAX_LINES
    qa = create_from_template("qa-exact", tmp_path / "qa", package_name="test/qa")
    panel.set_package(qa)
    assert tab_titles(panel) == ["Findings", "Live log"]
    assert panel.runs_button.isHidden()


def test_the_job_passes_on_every_progress_message_the_counts_coalesce(qtbot):
    job = FunnelJob()
    messages, lines = [], []
    job.progress_message.connect(lambda stage, message: messages.append((stage, message)))
    job.log_line.connect(lines.append)
    for done, name in enumerate(("qc-report: noop", "qc-report: forge", "qc-summary: noop"), 1):
        job._queue.append(ProgressEvent(Stage.ATTACK, "progress", done, 3, name))
    job._drain()  # one batch, as when the events come faster than the 40 ms drain
    assert [m for _s, m in messages] == ["qc-report: noop", "qc-report: forge", "qc-summary: noop"]
    assert lines == ["[attack] qc-summary: noop"]  # the live log keeps only the latest count


def test_agent_runs_open_the_trajectory_viewer_from_a_report(
    qtbot, job_runner, agentic_package, tmp_path
):
    panel = make_panel(qtbot, job_runner)
    panel.set_package(agentic_package)
    shutil.copy(SAMPLE, agentic_package / "runs.json")
    report = Report(
        stages=[StageResult(Stage.ATTACK, StageStatus.FAIL, details={"trajectories": "runs.json"})]
    )
    panel.show_report(report)
    assert panel.runs_button.isEnabled()
    panel.runs_button.click()
    viewer = panel.findChild(TrajectoryView)
    assert viewer is not None and viewer.isVisible()
    assert viewer.runs.topLevelItemCount() == 3 and viewer.current_step() == 2
    viewer.close()

    problems = []
    panel.problem.connect(problems.append)
    report.stages[0].details["trajectories"] = [{"format": "gauntlet-trajectory/1"}]
    panel.show_report(report)
    panel.runs_button.click()
    assert len(problems) == 1 and isinstance(problems[0], UserError)
    assert "malformed" in problems[0].message
    panel.show_report(Report(stages=[StageResult(Stage.ATTACK, StageStatus.PASS)]))
    assert not panel.runs_button.isEnabled()


@pytest.mark.docker
@pytest.mark.slow
def test_an_agentic_run_on_docker_logs_each_task_as_it_runs(qtbot, job_runner, agentic_package):
    need("docker", docker_available(), "no Docker engine reachable")
    need("sandbox image", sandbox_image_available(), "the default sandbox image is not built")
    panel = make_panel(qtbot, job_runner, backend="docker")
    panel.set_package(agentic_package)
    seen_during_run = []
    panel.job.progress_message.connect(
        lambda *_: seen_during_run.append(panel.tabs.currentWidget() is panel.container_log)
    )
    with qtbot.waitSignal(panel.report_ready, timeout=300_000) as done:
        panel.stage_buttons[Stage.VERIFY].click()
    assert done.args[0].stage(Stage.VERIFY) is not None
    log = panel.container_log.toPlainText().splitlines()
    assert any(line.endswith("running agentic gates") for line in log)
    assert any(line.endswith("ran qc-report") for line in log)
    assert any(line.endswith("ran qc-summary") for line in log)
    assert all("sandbox" in line for line in log)  # the stage, named as in the stage rows
    assert seen_during_run and all(seen_during_run)  # the log is in view while it runs
