"""Opens the mt-analyst template's trajectories in a real Workspace window (run it under Xvfb),
and saves screenshots into the folder given as the first argument: the trajectory editor with a
turn selected, a tool call whose arguments do not fit (the inline error), the replay of the
reference step by step (first and last step) and the replay of a negative. The replays run in
the real sandbox (the backend named by the second argument, "docker" by default). Run by
tests/ui/test_ui_trajectory_editor.py; prints one JSON line."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QApplication

from app.envpack.templates import create_from_template
from app.ui.background_jobs import JobRunner
from app.ui.theme import apply_theme
from app.ui.workspace import WorkspaceView


def pump(seconds: float = 0.4) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.02)


def wait_for(condition, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        pump(0.1)
    return condition()


def main(out: Path, backend: str) -> dict:
    app = QApplication.instance() or QApplication(sys.argv)
    apply_theme(app, "light")
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="mt-shot-"))
    root = create_from_template("mt-analyst", work / "analyst", package_name="example/analyst")
    errors: list[BaseException] = []
    jobs = JobRunner(errors.append)
    view = WorkspaceView()
    view.replay_context = (jobs, lambda: backend)
    view.resize(1400, 900)
    view.show()
    wait_for(lambda: view.windowHandle().isExposed(), 10)
    view.open_package(root)
    view.splitter.setSizes([220, 1180])
    tab = view.open_file("solutions.jsonl")
    editor = tab.chat
    editor.select_turn(2)
    pump()
    shots = {"editor": out / "1-editor.png"}
    view.grab().save(str(shots["editor"]))
    editor.select_turn(0)
    editor.add_call("list_regions")
    box = editor.turn_editor.boxes[0]
    box.arguments.setPlainText('{"regoin": "north"}')
    box.tool.setCurrentText("query_orders")
    pump()
    shots["tool-call-error"] = out / "2-tool-call-error.png"
    view.grab().save(str(shots["tool-call-error"]))
    editor.undo_stack.undo()
    editor.undo_stack.undo()
    editor.undo_stack.undo()
    editor.replay()
    wait_for(
        lambda: editor.replay_view.replay is not None or "Not" in editor.replay_view.title.text()
    )
    pump()
    editor.replay_view.select_step(0)
    pump()
    shots["replay-step-1"] = out / "3-replay-step-1.png"
    view.grab().save(str(shots["replay-step-1"]))
    editor.replay_view.select_step(2)
    pump()
    shots["replay-final"] = out / "4-replay-final.png"
    view.grab().save(str(shots["replay-final"]))
    negatives = view.open_file("negatives.jsonl").chat
    negatives.select_trajectory(1)
    negatives.replay()
    wait_for(lambda: negatives.replay_view.replay is not None)
    pump()
    shots["replay-negative"] = out / "5-replay-negative.png"
    view.grab().save(str(shots["replay-negative"]))
    # A grader criterion that raises, and turns past what the (empty) user script allows.
    grader = root / "grader.py"
    grader.write_text(grader.read_text().replace('task["region"] in', 'task["regio"] in'))
    view.tabs.setCurrentWidget(tab)
    editor.pages.setCurrentIndex(0)
    editor.select_turn(2)
    editor.add_assistant()
    editor.turn_editor.content.setPlainText("Anything else?")
    editor.replay()
    wait_for(lambda: editor.replay_view.replay is not None)
    pump()
    shots["replay-notes-and-error"] = out / "6-replay-notes-and-error.png"
    view.grab().save(str(shots["replay-notes-and-error"]))
    view.shutdown()
    jobs.shutdown(wait=True)
    return {"shots": {k: str(v) for k, v in shots.items()}, "errors": [repr(e) for e in errors]}


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/mt-shots")
    print(json.dumps(main(target, sys.argv[2] if len(sys.argv) > 2 else "docker")))
