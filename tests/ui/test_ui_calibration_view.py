"""The calibration view: the pack card's per-task table (sortable by difficulty and pass rate),
"Why did this fail?" (the model's reply next to the grader's verdict, markup shown as text), the
charts, "Open HTML card", reading a missing or bad card, the funnel panel's "Calibration…"
button, and screenshots on a real window (Xvfb) for people to check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QImage, QTextDocument
from support.card_samples import HOSTILE_REPLY, sample_card
from support.services import need, xvfb_display

from app.ui.app_settings import AppSettings
from app.ui.funnel.calibration_view import CalibrationView
from app.ui.funnel.panel import FunnelPanel

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("GAUNTLET_SCREENSHOTS", ROOT / "test-artifacts" / "screenshots"))


def make_view(qtbot, **kwargs) -> CalibrationView:
    view = CalibrationView(**kwargs)
    qtbot.addWidget(view)
    return view


def select_task(view: CalibrationView, task_id: str) -> bool:
    found = view.table.findItems(task_id, Qt.MatchFlag.MatchExactly)
    if found:
        view.table.selectRow(found[0].row())
    return bool(found)


def column(view: CalibrationView, title: str) -> list[str]:
    heads = [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())]
    index = heads.index(title)
    return [view.table.item(r, index).text() for r in range(view.table.rowCount())]


def test_the_table_lists_every_task_hardest_first_and_sorts_by_any_model(qtbot):
    view = make_view(qtbot)
    view.show_card(sample_card())
    assert view.table.rowCount() == 12
    assert column(view, "Task")[:4] == ["task-07", "task-08", "task-10", "task-11"]
    assert column(view, "Mean pass rate")[:6] == ["0.33"] * 4 + ["0.50"] * 2
    assert "Signal share 0.17" in view.summary.text()
    assert "96 of 144 from the cache" in view.summary.text()
    heads = [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())]
    view.table.sortItems(heads.index("openai/half"), Qt.SortOrder.DescendingOrder)
    half = column(view, "openai/half")
    assert half == sorted(half, reverse=True) and half[0] == "1.00" and half[-1] == "0.00"
    view.table.sortItems(heads.index("Failing samples"), Qt.SortOrder.AscendingOrder)
    failing = [int(n) for n in column(view, "Failing samples")]
    assert failing == sorted(failing)  # as numbers: 4 before 10


def test_a_fitted_card_sorts_by_the_fitted_difficulty(qtbot):
    view = make_view(qtbot)
    view.show_card(sample_card(fitted=True))
    assert column(view, "Task")[0] == "task-11"  # the highest difficulty: hardest first
    assert column(view, "Difficulty (fit)")[:2] == ["1.75", "1.50"]


def test_why_did_this_fail_shows_the_reply_next_to_the_verdict_as_text(qtbot):
    view = make_view(qtbot)
    view.show_card(sample_card())
    assert "Select a task" in view.why.toPlainText()
    assert select_task(view, "task-00")
    shown = view.why.toPlainText()
    assert HOSTILE_REPLY in shown  # the markup is shown as the text it is
    assert "<script>" not in view.why.toHtml()
    assert "expected 0, got 42" in shown and "reward 0.00" in shown
    assert "4 failing sample(s); the card keeps the first 1" in shown
    assert select_task(view, "task-01")
    assert "not in the form the grader reads" in view.why.toPlainText()
    assert not select_task(view, "no-such-task")


def test_the_charts_tab_carries_the_four_charts_as_images(qtbot):
    view = make_view(qtbot)
    view.show_card(sample_card())
    document = view.charts.document()
    assert len(view.images) == 4
    for name in view.images:
        image = document.resource(QTextDocument.ResourceType.ImageResource, QUrl(name))
        assert isinstance(image, QImage) and image.width() > 600, name
    text = view.charts.toPlainText()
    assert "Difficulty ladder" in text and "mean raw pass rate" in text


def test_open_html_card_writes_the_page_next_to_the_card_and_opens_it(qtbot, tmp_path):
    opened = []
    card = tmp_path / ".gauntlet" / "card.json"
    card.parent.mkdir()
    card.write_text(json.dumps(sample_card()), encoding="utf-8")
    view = make_view(qtbot, open_url=opened.append)
    assert not view.html_button.isEnabled()
    assert view.open_file(card)
    view.html_button.click()
    page = (card.parent / "card.html").read_text(encoding="utf-8")
    assert "Pack card: geometry-qa" in page and "<script" not in page
    assert opened == [QUrl.fromLocalFile(str(card.parent / "card.html"))]


def test_a_missing_card_says_how_to_make_one_and_a_bad_file_says_why(qtbot, tmp_path):
    view = make_view(qtbot)
    problems = []
    view.problem.connect(problems.append)
    assert not view.open_file(tmp_path / ".gauntlet" / "card.json")
    assert "gauntlet calibrate" in view.charts.toPlainText() and not problems
    assert not view.html_button.isEnabled()
    bad = tmp_path / "report.json"
    bad.write_text('{"schema": "gauntlet-report/1"}')
    assert not view.open_file(bad)
    assert "not a gauntlet-card/1 pack card" in problems[0].message
    assert "not a gauntlet-card/1" in view.summary.text()


def test_the_funnel_panel_opens_the_packages_card(qtbot, job_runner, tmp_path):
    from app.envpack.templates import create_from_template

    package = create_from_template("qa-exact", tmp_path / "pkg")
    (package / ".gauntlet").mkdir(exist_ok=True)
    (package / ".gauntlet" / "card.json").write_text(json.dumps(sample_card()))
    panel = FunnelPanel(settings=AppSettings(), job_runner=job_runner)
    qtbot.addWidget(panel)
    assert not panel.calibration_button.isEnabled()
    panel.set_package(package)
    panel.calibration_button.click()
    view = panel.calibration_view
    assert view.isVisible() and view.table.rowCount() == 12
    assert view.calibrate_button.isVisibleTo(view)  # calibrating is offered from here
    view.close()


def test_calibrate_needs_a_model_and_the_dialog_says_which(qtbot, tmp_path, job_runner):
    from app.ui.funnel.calibration_run import CalibrationDialog
    from app.ui.funnel.calibration_view import CalibrateContext

    settings = AppSettings(tmp_path / "app.ini")
    view = make_view(qtbot)
    problems = []
    view.problem.connect(problems.append)
    view.set_calibrate_context(
        CalibrateContext(tmp_path, settings, None, job_runner, lambda *_: True)
    )
    view.calibrate_button.click()
    assert "no language model is set up" in problems[0].message
    assert "Settings → Language models" in problems[0].hint
    models = [{"model": "openai/a", "api_base": ""}, {"model": "openai/b", "api_base": ""}]
    dialog = CalibrationDialog(models)
    qtbot.addWidget(dialog)
    assert dialog.chosen() == models  # every model ticked to begin with
    dialog.models.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert dialog.chosen() == models[1:]


@pytest.mark.xvfb
@pytest.mark.slow
def test_calibration_view_on_a_real_window(tmp_path):
    display = xvfb_display()
    need("xvfb", display is not None, "no X server (GAUNTLET_XVFB_DISPLAY unset or unreachable)")
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="xcb", DISPLAY=display, GAUNTLET_HOME=str(tmp_path / "home"))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    script = Path(__file__).with_name("calibration_view_shot.py")
    done = subprocess.run(
        [sys.executable, str(script), str(SCREENSHOTS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["exposed"] and seen["images"] == 4 and seen["page_shots"] >= 2
    for name in ("calibration-view.png", "calibration-charts.png", "card-html-1.png"):
        image = QImage(str(SCREENSHOTS / name))
        assert not image.isNull() and image.width() >= 1000, name
