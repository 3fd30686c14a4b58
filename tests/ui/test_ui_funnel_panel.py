"""The funnel panel: runs the real funnel in a worker thread, shows progress per stage, the
verdict and the findings grouped by stage and severity, jumps to the line on double-click, and
cancels for real (the Docker sandbox's container is gone afterwards)."""

from __future__ import annotations

import html
import json
import time

import pytest
from support.services import docker_available, need, sandbox_image_available

from app.envpack.templates import create_from_template
from app.findings import Finding, Severity, Stage
from app.ui.app_settings import AppSettings
from app.ui.funnel.findings_tree import FindingRole, FindingsTree
from app.ui.funnel.panel import FunnelPanel


@pytest.fixture
def package(tmp_path):
    return create_from_template(
        "qa-exact", tmp_path / "pkg", package_name="test/pkg", title="Test package"
    )


@pytest.fixture
def broken_package(package):
    lines = (package / "tasks.jsonl").read_text(encoding="utf-8").splitlines()
    lines[1] = '{"id": "broken", "prompt": '  # line 2: truncated JSON
    (package / "tasks.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return package


def make_panel(qtbot, job_runner, **kwargs):
    panel = FunnelPanel(settings=AppSettings(), job_runner=job_runner, **kwargs)
    qtbot.addWidget(panel)
    return panel


def test_without_a_package_the_panel_says_what_to_do(qtbot, job_runner):
    panel = make_panel(qtbot, job_runner)
    assert not panel.run_button.isEnabled()
    assert "No environment open" in panel.verdict_text()


def test_structure_stage_on_a_clean_package_passes(qtbot, job_runner, package):
    panel = make_panel(qtbot, job_runner)
    panel.set_package(package)
    with qtbot.waitSignal(panel.report_ready, timeout=30000) as done:
        panel.stage_buttons[Stage.STRUCTURE].click()
    report = done.args[0]
    assert report.stage(Stage.STRUCTURE) is not None
    assert panel.verdict_text().startswith("Passed")
    assert "passed" in panel.stage_rows[Stage.STRUCTURE].status.text()
    assert panel.stage_rows[Stage.VERIFY].status.text() == "not run"
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert "Done in" in panel.log_view.toPlainText()


def test_findings_are_grouped_and_double_click_jumps_to_the_line(qtbot, job_runner, broken_package):
    panel = make_panel(qtbot, job_runner)
    panel.set_package(broken_package)
    jumps = []
    panel.jump_requested.connect(lambda *args: jumps.append(args))
    with qtbot.waitSignal(panel.report_ready, timeout=30000):
        panel.run_button.click()
    assert panel.verdict_text().startswith("Not ready yet")
    stage_item = panel.findings.topLevelItem(0)
    assert stage_item.text(0).startswith("Stage 1")
    severity_item = stage_item.child(0)
    assert severity_item.text(0).startswith("Must fix")
    items = [severity_item.child(i) for i in range(severity_item.childCount())]
    finding_item = next(i for i in items if i.data(0, FindingRole).file == "tasks.jsonl")
    finding = finding_item.data(0, FindingRole)
    assert finding.line == 2 and finding_item.text(1) == "tasks.jsonl:2"
    # Later stages were skipped, and say why.
    assert "skipped" in panel.stage_rows[Stage.VERIFY].status.text()
    panel.findings.setCurrentItem(finding_item)
    assert finding.hint, "every structural finding carries a fix hint"
    assert "How to fix" in panel.finding_detail.text()
    assert html.escape(finding.hint, quote=True) in panel.finding_detail.text()
    panel.findings.itemDoubleClicked.emit(finding_item, 0)
    assert jumps == [("tasks.jsonl", 2, finding.column or 1)]


def test_findings_tree_orders_stages_and_severities():
    tree = FindingsTree()
    tree.add_finding(Finding("GX301", Severity.ERROR, Stage.ATTACK, "hit", task_id="t1"))
    tree.add_finding(
        Finding("GX101", Severity.WARNING, Stage.STRUCTURE, "warn", file="env.toml", line=3)
    )
    tree.add_finding(
        Finding("GX102", Severity.ERROR, Stage.STRUCTURE, "err", file="tasks.jsonl", line=1)
    )
    assert tree.topLevelItem(0).text(0).startswith("Stage 1")
    assert tree.topLevelItem(1).text(0).startswith("Stage 3")
    assert tree.topLevelItem(0).child(0).text(0) == "Must fix (1)"
    assert tree.topLevelItem(0).child(1).text(0) == "Worth a look (1)"
    assert tree.topLevelItem(1).child(0).child(0).text(0) == "Task t1: hit"
    tree.deleteLater()


def test_llm_red_team_needs_a_configured_model_and_a_confirmation(qtbot, job_runner, package):
    settings = AppSettings()
    panel = make_panel(qtbot, job_runner)
    assert not panel.llm_check.isEnabled()
    assert "Settings" in panel.llm_cost.text()
    settings.set_llm_models([{"model": "openai/gpt-4o-mini", "api_base": ""}])
    panel.refresh_models()
    assert panel.llm_check.isEnabled()
    panel.llm_check.setChecked(True)
    qtbot.waitUntil(lambda: panel.llm_cost.text().startswith("Estimate:"), timeout=60000)
    assert "$" in panel.llm_cost.text() and "budget cap" in panel.llm_cost.text()
    asked = []
    panel._confirm = lambda _parent, title, text: asked.append(text) or False  # the user says no
    panel.set_package(package)
    panel.run_button.click()
    assert asked and "openai/gpt-4o-mini" in asked[0] and "Estimated use" in asked[0]
    assert not panel.job.running  # declining starts nothing


@pytest.mark.docker
@pytest.mark.slow
def test_gauntlet_on_docker_shows_progress_and_cancel_stops_the_sandbox(
    qtbot, job_runner, tmp_path
):
    need("docker", docker_available(), "no Docker engine reachable")
    need("sandbox image", sandbox_image_available(), "the default sandbox image is not built")
    import os

    import docker

    from app.sandbox.containers import LABEL_PID

    package = create_from_template(
        "qa-python", tmp_path / "slow", package_name="test/slow", title="Slow"
    )
    # A grader that sleeps makes the run long enough to cancel in the middle of it.
    grader = package / "grader.py"
    grader.write_text(
        "import time\n"
        + grader.read_text(encoding="utf-8").replace("def grade(", "def _grade(", 1)
        + "\n\ndef grade(task, response):\n    time.sleep(2)\n    return _grade(task, response)\n",
        encoding="utf-8",
    )
    settings = AppSettings()
    settings.sandbox_backend = "docker"
    panel = FunnelPanel(settings=settings, job_runner=job_runner)
    qtbot.addWidget(panel)
    panel.set_package(package)
    progress = []
    panel.job.stage_progress.connect(
        lambda stage, done, total, eta: progress.append((stage, done, total))
    )
    panel.run_button.click()
    client = docker.from_env()
    # The funnel runs in a child process: the window's own process stays responsive.
    qtbot.waitUntil(lambda: panel.job.child_pid is not None, timeout=30000)
    child_pid = panel.job.child_pid
    assert child_pid != os.getpid()
    ours = {"label": f"{LABEL_PID}={child_pid}"}  # containers the run's child process started
    qtbot.waitUntil(lambda: bool(client.containers.list(filters=ours)), timeout=60000)
    assert panel.cancel_button.isEnabled()
    started = time.monotonic()
    with qtbot.waitSignal(panel.report_ready, timeout=60000):
        panel.cancel_button.click()
    assert time.monotonic() - started < 30
    assert panel.verdict_text() == "Cancelled"
    assert not client.containers.list(all=True, filters=ours), (
        "the sandbox container outlived the cancel"
    )
    client.close()
    # The child stopped by itself (a clean cancel), well before it would have been killed.
    with pytest.raises(ProcessLookupError):
        os.kill(child_pid, 0)


@pytest.mark.docker
@pytest.mark.slow
def test_full_gauntlet_on_docker_reports_each_stage(qtbot, job_runner, package):
    need("docker", docker_available(), "no Docker engine reachable")
    need("sandbox image", sandbox_image_available(), "the default sandbox image is not built")
    settings = AppSettings()
    settings.sandbox_backend = "docker"
    panel = FunnelPanel(settings=settings, job_runner=job_runner)
    qtbot.addWidget(panel)
    panel.set_package(package)
    counts = []
    panel.job.stage_progress.connect(
        lambda stage, done, total, eta: counts.append((stage, done, total))
    )
    with qtbot.waitSignal(panel.report_ready, timeout=240000) as done:
        panel.run_button.click()
    report = done.args[0]
    assert [s.name for s in report.stages] == [Stage.STRUCTURE, Stage.VERIFY, Stage.ATTACK]
    assert any(stage == Stage.VERIFY and total for stage, _d, total in counts), (
        "no counts from the sandbox"
    )
    for stage in (Stage.STRUCTURE, Stage.VERIFY, Stage.ATTACK):
        assert panel.stage_rows[stage].status.text() != "not run"
    assert panel.verdict_text()
    json.dumps(report.to_dict())
