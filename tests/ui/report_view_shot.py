"""Opens the report view on a real window (run it under Xvfb) with a report that has every
part (charts, a reward hack, a warning), scrolls to the charts and saves a screenshot to the
path given as the first argument. Run by tests/ui/test_ui_report_view.py; prints one JSON line."""

from __future__ import annotations

import json
import sys
import time

from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QApplication
from support.report_samples import sample_report

from app.ui.funnel.report_view import ReportView
from app.ui.theme import apply_theme


def main(out: str) -> int:
    app = QApplication(sys.argv[:1])
    apply_theme(app, "light")  # as the app starts: its fonts, buttons and header styles
    view = ReportView()
    view.resize(1100, 900)
    view.show_report(sample_report(), "The report of the last run.")
    view.show()
    deadline = time.monotonic() + 10
    while not view.windowHandle().isExposed() and time.monotonic() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    for _ in range(20):
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.02)
    # Show the verdict, the stages and the first chart: what a first-time reader sees.
    view.grab().save(out)
    seen = {"exposed": view.windowHandle().isExposed(), "images": len(view.images)}
    view.close()
    app.processEvents()
    print(json.dumps(seen))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
