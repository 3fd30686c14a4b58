"""Opens the calibration view on a real window (run it under Xvfb) with a card that has every
part, selects the task whose failing reply holds markup, and saves screenshots of the task table
with "Why did this fail?", of the Charts tab, and of the HTML card (in a text browser, the way
the app shows pages) into the folder given as the first argument. Run by
tests/ui/test_ui_calibration_view.py; prints one JSON line."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QUrl
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtWidgets import QApplication, QTextBrowser
from support.card_samples import sample_card

from app.calibrate.card_html import page_with_png_charts
from app.calibrate.targets import evaluate, parse_targets
from app.ui.funnel.calibration_view import DOCUMENT_STYLE, CalibrationView
from app.ui.theme import apply_theme

TARGETS = [
    {"metric": "signal_share", "comparator": ">=", "value": 0.6, "model": "openai/half"},
    {"metric": "pass_rate", "comparator": ">=", "value": 0.9, "model": "openai/oracle"},
    {"metric": "tasks", "comparator": ">=", "value": 10},
    {"metric": "pass_rate", "comparator": ">", "value": 0.1, "model": "lab/reference"},
]


def select_task(view: CalibrationView, task_id: str) -> None:
    view.table.selectRow(view.table.findItems(task_id, Qt.MatchFlag.MatchExactly)[0].row())


def settle(window) -> bool:
    deadline = time.monotonic() + 10
    while not window.windowHandle().isExposed() and time.monotonic() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    for _ in range(20):
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.02)
    return window.windowHandle().isExposed()


def card_page(card: dict, out: Path) -> int:
    page, images = page_with_png_charts(card, evaluate(parse_targets(TARGETS), card))
    browser = QTextBrowser()
    browser.setStyleSheet(DOCUMENT_STYLE)
    browser.resize(1000, 1400)
    for name, png in images.items():
        browser.document().addResource(
            QTextDocument.ResourceType.ImageResource, QUrl(name), QImage.fromData(png, "PNG")
        )
    browser.setHtml(page)
    browser.show()
    settle(browser)
    shots = 0
    for shots, top in enumerate(range(0, browser.verticalScrollBar().maximum() + 1, 1300), 1):
        browser.verticalScrollBar().setValue(top)
        settle(browser)
        browser.grab().save(str(out / f"card-html-{shots}.png"))
    browser.close()
    return shots


def main(folder: str, fitted: bool) -> int:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    apply_theme(app, "light")
    card = sample_card(fitted=fitted)
    view = CalibrationView()
    view.resize(1100, 820)
    view.show_card(card)
    view.show()
    exposed = settle(view)
    select_task(view, "task-00")
    settle(view)
    view.grab().save(str(out / "calibration-view.png"))
    view.tabs.setCurrentIndex(1)
    settle(view)
    view.grab().save(str(out / "calibration-charts.png"))
    seen = {"exposed": exposed, "images": len(view.images), "page_shots": card_page(card, out)}
    view.close()
    app.processEvents()
    print(json.dumps(seen))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], "--fitted" in sys.argv))
