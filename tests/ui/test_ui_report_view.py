"""The report view: the funnel report as a page in the app, with its charts as images, the
findings (hostile text shown as text), "Export HTML…" and "Open report file…", and the funnel
panel's "Open as page" button; plus a screenshot on a real window (Xvfb) for people to check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QImage, QTextDocument
from support.report_samples import HOSTILE, sample_report, sample_report_dict
from support.services import need, xvfb_display

from app.ui.app_settings import AppSettings
from app.ui.funnel.panel import FunnelPanel
from app.ui.funnel.report_view import ReportView

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "test-artifacts" / "screenshots" / "report-view.png"


def make_view(qtbot, **pickers) -> ReportView:
    view = ReportView(**pickers)
    qtbot.addWidget(view)
    return view


def test_the_view_shows_the_findings_and_the_chart_images(qtbot):
    view = make_view(qtbot)
    view.show_report(sample_report())
    text = view.browser.toPlainText()
    for words in ("Gauntlet report: acme/enzyme-kinetics", "FAIL", "GX301", "Fix: Tighten"):
        assert words in text
    assert HOSTILE in text  # shown as the text it is, not run as markup
    document = view.browser.document()
    for name in ("chart-rewards.png", "chart-attacks.png", "chart-stages.png"):
        image = document.resource(QTextDocument.ResourceType.ImageResource, QUrl(name))
        assert isinstance(image, QImage) and image.width() > 600, name
        assert f'src="{name}"' in document.toHtml()


def test_export_writes_the_standalone_page(qtbot, tmp_path):
    target = tmp_path / "shared" / "page.html"
    offered = []

    def save_picker(_parent, suggested):
        offered.append(suggested)
        return str(target)

    view = make_view(qtbot, save_picker=save_picker)
    assert not view.export_button.isEnabled()
    view.show_report(sample_report())
    view.export_button.click()
    assert offered[0].endswith("acme-enzyme-kinetics-report.html")
    page = target.read_text(encoding="utf-8")
    assert page.count("<svg") == 3 and "<script" not in page
    assert f"Exported to {target}" in view.status.text()


def test_open_report_file_shows_it_or_says_why_not(qtbot, tmp_path):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(sample_report_dict()), encoding="utf-8")
    bad.write_text("[1, 2]", encoding="utf-8")
    picked = iter([str(bad), str(good)])
    view = make_view(qtbot, open_picker=lambda _parent: next(picked))
    with qtbot.waitSignal(view.problem) as problem:
        view.open_button.click()
    assert problem.args[0].where == str(bad) and "not a gauntlet-report/1" in view.status.text()
    assert view.report is None and not view.export_button.isEnabled()
    view.open_button.click()
    assert view.report is not None and "GX301" in view.browser.toPlainText()
    assert f"From {good}" in view.status.text()


def test_the_funnel_panel_opens_its_last_report_as_a_page(qtbot, job_runner):
    panel = FunnelPanel(settings=AppSettings(), job_runner=job_runner)
    qtbot.addWidget(panel)
    assert not panel.page_button.isEnabled()
    panel.show_report(sample_report())
    assert panel.page_button.isEnabled()
    panel.page_button.click()
    page = panel.report_page
    assert page.isVisible() and "GX301" in page.browser.toPlainText()
    assert len(page.images) == 3
    page.close()


@pytest.mark.xvfb
@pytest.mark.slow
def test_report_view_on_a_real_window(tmp_path):
    display = xvfb_display()
    need("xvfb", display is not None, "no X server (GAUNTLET_XVFB_DISPLAY unset or unreachable)")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="xcb", DISPLAY=display, GAUNTLET_HOME=str(tmp_path / "home"))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("report_view_shot.py")), str(SCREENSHOT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["exposed"] and seen["images"] == 3
    image = QImage(str(SCREENSHOT))
    assert not image.isNull() and image.width() >= 1000 and image.height() >= 800
