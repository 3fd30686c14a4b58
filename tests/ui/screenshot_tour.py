"""Opens the real main window (run it under Xvfb), walks through every main screen as a new
user would, and saves a screenshot of each into the folder given as the first argument.

Run by tests/ui/test_ui_real_window.py in a subprocess with QT_QPA_PLATFORM=xcb; prints one
JSON line with what it saw, for the test to check.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
from PySide6.QtWidgets import QApplication


def wait(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.02)
    return condition()


def visible_texts(window) -> list[str]:
    """The words a person sees: every visible label, button, line edit, text pane and the
    first rows of every list, table and tree."""
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QLabel,
        QLineEdit,
        QTextEdit,
    )

    texts: list[str] = []
    for widget in window.findChildren(QLabel) + window.findChildren(QAbstractButton):
        if widget.isVisible() and widget.text().strip():
            texts.append(widget.text().strip())
    for edit in window.findChildren(QLineEdit):
        if edit.isVisible():
            texts.extend(t for t in (edit.text(), edit.placeholderText()) if t)
    for pane in window.findChildren(QTextEdit):
        if pane.isVisible() and pane.toPlainText().strip():
            texts.append(pane.toPlainText().strip()[:400])
    for view in window.findChildren(QAbstractItemView):
        model = view.model()
        if view.isVisible() and model is not None:
            root = view.rootIndex()
            try:
                columns = model.columnCount(root)
            except TypeError:  # list models keep columnCount private: one column
                columns = 1
            for row in range(min(model.rowCount(root), 20)):
                for col in range(columns):
                    value = model.index(row, col, root).data()
                    if value not in (None, ""):
                        texts.append(str(value))
    return texts


def main(out_dir: str) -> int:
    import asyncio

    import qasync

    from app.cli import install_local_platform
    from app.ui.application import build_main_window, create_application

    install_local_platform()  # as the `gauntlet` entry point does: the demo bounties come from it
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    app = create_application()
    loop = qasync.QEventLoop(app, already_running=True)
    asyncio.set_event_loop(loop)
    packages = Path(tempfile.mkdtemp(prefix="gauntlet-tour-"))
    window = build_main_window(
        check_sandbox=True, folder_picker=lambda _parent, _title: str(packages)
    )
    window.resize(1440, 900)
    window.show()
    seen: dict = {
        "exposed": wait_until(
            lambda: window.windowHandle() and window.windowHandle().isExposed(), 10
        ),
        "screens": {},
    }

    def shoot(name: str) -> None:
        """Save the screenshot, and what it shows, for the test to check."""
        window.grab().save(str(out / f"{name}.png"))
        seen["screens"][name] = {
            "screen": window.current_screen(),
            "texts": visible_texts(window),
        }

    # Empty Workspace (welcome page) before anything is open.
    window.show_screen("workspace")
    wait(300)
    shoot("workspace-welcome")

    window.show_screen("bounties")
    seen["bounties"] = wait_until(lambda: window.bounties.model.total_count() > 0, 90)
    wait_until(lambda: "Sandbox: checking" not in window.status.sandbox.text.text(), 60)
    window.bounties.table.selectRow(0)
    wait(300)
    seen["detail"] = window.bounties.detail_view.toPlainText()[:200]
    shoot("bounties")
    window.bounties.search.setText("zzzz no match")
    wait(200)
    shoot("bounties-no-match")
    window.bounties.clear_filters()
    window.bounties.table.selectRow(0)
    wait(200)

    # Start an environment from the selected bounty, plant a mistake, run stage 1.
    window.bounties.start_button.click()
    seen["workspace_open"] = wait_until(lambda: window.workspace.current_package() is not None, 30)
    package = window.workspace.current_package()
    tasks = package / "tasks.jsonl"
    lines = tasks.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace('"prompt"', '"promt"', 1)
    tasks.write_text("\n".join(lines) + "\n", encoding="utf-8")
    wait(500)
    panel = window.workspace.funnel
    from app.findings import Stage

    panel.stage_buttons[Stage.STRUCTURE].click()
    seen["funnel_done"] = wait_until(
        lambda: panel.last_report is not None and not panel.job.running, 60
    )
    seen["verdict"] = panel.verdict_text()
    if panel.findings.topLevelItemCount():
        first = panel.findings.topLevelItem(0).child(0).child(0)
        panel.findings.setCurrentItem(first)
        panel.findings.itemDoubleClicked.emit(first, 0)
    wait(500)
    shoot("workspace")

    # Submit: refused while the mistake is there, then sent once it is fixed.
    page = window.workspace
    page.ask_submit_message = lambda _parent: "First version."
    outcome: list = []
    for signal in (
        page.submit_job.refused,
        page.submit_job.sent,
        page.submit_job.queued,
        page.submit_job.failed,
    ):
        signal.connect(lambda *args, _s=signal: outcome.append(args))
    panel.submit_button.click()
    wait_until(lambda: bool(outcome), 60)
    seen["submit_refused"] = panel.verdict_text()
    wait(300)
    shoot("workspace-submit-refused")
    lines[1] = lines[1].replace('"promt"', '"prompt"', 1)
    tasks.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcome.clear()
    panel.submit_button.click()
    wait_until(lambda: bool(outcome), 90)
    seen["submitted"] = panel.verdict_text()
    wait(300)
    shoot("workspace-submitted")

    for name in ("submissions", "reviews", "settings"):
        window.show_screen(name)
        wait(400)
        if name == "settings":
            wait_until(lambda: "Checking" not in window.settings_view.diagnosis.text(), 60)
            wait(200)
        shoot(name)

    window.reporter.report(RuntimeError("a demonstration problem"), "in the screenshot tour")
    window.show_screen("bounties")
    wait(300)
    shoot("notification")
    seen["notifications"] = len(window.notifications.cards())
    window.close()
    wait(100)
    loop._QEventLoop__is_running = False  # noqa: SLF001 - see tests/ui/conftest.py
    asyncio.events._set_running_loop(None)
    # ends its executor's QThreads (the sync ran work there), as `with loop:` does in the app
    loop.close()
    print(json.dumps(seen), flush=True)
    QApplication.instance().quit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
