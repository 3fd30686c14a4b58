"""The trajectory editor (a multi-turn package's solutions/negatives as conversations) and its
step-by-step replay in the real sandbox. Opened in a real WorkspaceView on the mt-analyst
template."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from support.services import docker_available, need, sandbox_image_available, xvfb_display

from app.envpack.templates import create_from_template
from app.envpack.tool_schemas import read_tools
from app.funnel.replay_steps import prefixes
from app.ui.trajectory import trajectory_doc as tdoc
from app.ui.workspace import WorkspaceView

ROOT = Path(__file__).resolve().parents[3]
SHOTS = Path(os.environ.get("GAUNTLET_MT_SHOTS", ROOT / "test-artifacts" / "screenshots" / "mt"))


@pytest.fixture
def analyst(tmp_path: Path) -> Path:
    return create_from_template("mt-analyst", tmp_path / "analyst", package_name="lab/analyst")


@pytest.fixture
def mt_workspace(qtbot, analyst, job_runner):
    view = WorkspaceView()
    qtbot.addWidget(view)
    view.replay_context = (job_runner, lambda: "docker")
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    view.open_package(analyst)
    qtbot.waitUntil(lambda: not view.is_linting(), timeout=20_000)
    yield view
    view.shutdown()


def test_edit_a_turn_add_a_wrong_call_fix_it_and_save_only_that_line(mt_workspace, analyst):
    before = (analyst / "solutions.jsonl").read_bytes().splitlines(keepends=True)
    tab = mt_workspace.open_file("solutions.jsonl")
    assert tab.mode == "chat" and tab.chat is not None
    editor = tab.chat
    editor.select_trajectory(1)
    assert editor.task_choice.currentText() == "south-all"
    assert "Task prompt" in editor.chat.bubbles[0].spec.title  # the prompt opens the chat
    assert "south region" in editor.chat.bubbles[0].spec.body_html
    editor.select_turn(2)
    editor.turn_editor.content.setPlainText("The south total is 118.00.\nAnswer: 118.00")
    assert "118.00" in editor.chat.bubble(2).spec.body_html

    editor.select_turn(1)
    editor.add_call("query_orders")
    box = editor.turn_editor.boxes[-1]
    assert "region" in box.schema.text() and "YYYY-MM" in box.schema.text()  # the docstring
    box.arguments.setPlainText('{"regoin": "south"')  # not JSON: shown, not written
    assert "Not saved" in box.problem.text()
    box.arguments.setPlainText('{"regoin": "south"}')
    assert "missing region" in box.problem.text()
    assert "no parameter named regoin" in box.problem.text()
    assert any("regoin" in p for p in editor.chat.bubble(1).spec.problems)
    box.arguments.setPlainText('{"region": "south"}')
    assert box.problem.text().startswith("✓ Fits query_orders(")
    assert not editor.chat.bubble(1).spec.problems

    assert mt_workspace.save_all()
    after = (analyst / "solutions.jsonl").read_bytes().splitlines(keepends=True)
    assert len(after) == len(before)
    assert [a for i, a in enumerate(after) if i != 1] == [b for i, b in enumerate(before) if i != 1]
    record = json.loads(after[1])
    assert record["turns"][2]["content"] == "The south total is 118.00.\nAnswer: 118.00"
    calls = record["turns"][1]["tool_calls"]
    assert calls[-1] == {"name": "query_orders", "arguments": {"region": "south"}}  # short form
    assert list(record) == ["task_id", "turns"]  # the key order is kept

    # Undo takes back the typing of the arguments as one step each field, then the call.
    while editor.undo_stack.canUndo():
        editor.undo_stack.undo()
    assert tab.text().encode() == b"".join(before)
    # The raw JSONL is still one click away, and the file is the same there.
    assert tab.set_mode("text") and tab.editor.text() == tab.text()
    assert tab.set_mode("chat")


def test_turns_are_added_moved_and_deleted_and_negatives_have_their_note(mt_workspace, analyst):
    editor = mt_workspace.open_file("negatives.jsonl").chat
    assert editor.note.isVisible() and editor.note.text().startswith("the right number")
    editor.select_turn(0)
    editor.add_user()
    assert editor.turns()[1] == {"role": "user", "content": ""} and editor.turn == 1
    editor.turn_editor.content.setPlainText("And in April?")
    editor.add_assistant()
    editor.turn_editor.content.setPlainText("Answer: 310.00")
    editor.move_turn(-1)
    assert [t["role"] for t in editor.turns()] == ["assistant", "assistant", "user"]
    editor.delete_turn()
    assert [t.get("content") for t in editor.turns()] == ["Answer: 200.00", "And in April?"]
    editor.note.setText("a new note")
    editor.note.textEdited.emit("a new note")
    assert json.loads(editor.text().splitlines()[0])["note"] == "a new note"
    editor.add_trajectory()
    assert len(editor.doc.rows) == 9 and editor.row == 1
    assert json.loads(editor.text().splitlines()[1])["task_id"] == "north-march"


def test_trajectory_problems_name_the_turn():
    tools = read_tools("def lookup(order_id: int) -> str:\n    return ''\n")
    turns = [
        {"role": "assistant", "tool_calls": [{"name": "nope", "arguments": {}}]},
        {"role": "robot", "content": "x"},
        {"role": "assistant", "tool_calls": [{"name": "lookup", "arguments": {"id": 1}}]},
    ]
    per_turn, overall = tdoc.turn_problems(turns, tools)
    assert "no tool named 'nope'" in per_turn[0][0]
    assert 'role "robot"' in per_turn[1][0]
    assert "missing order_id; no parameter named id" in per_turn[2][0]
    assert not overall
    canonical = {"id": "c1", "type": "function", "function": {"name": "a", "arguments": "{}"}}
    updated = tdoc.with_call(canonical, "lookup", {"order_id": 3})
    assert updated["function"]["arguments"] == '{"order_id": 3}' and updated["id"] == "c1"
    assert [len(p) for p in prefixes([*turns[:1], {"role": "user"}, turns[2]])] == [1, 3]


@pytest.mark.docker
def test_replay_steps_end_at_one_for_the_reference_and_zero_for_a_negative(qtbot, mt_workspace):
    need("docker", docker_available(), "no Docker engine reachable")
    need("sandbox image", sandbox_image_available(), "the default sandbox image is not built")
    editor = mt_workspace.open_file("solutions.jsonl").chat
    view = editor.replay_view
    editor.replay()
    qtbot.waitUntil(lambda: view.replay is not None, timeout=120_000)
    rewards = [step.result.reward for step in view.replay.steps]
    assert rewards == [0.0, 0.0, 1.0]
    assert view.current_step == 2 and "Reward 1.00" in view.scores.toPlainText()
    scores = view.scores.toPlainText()
    assert "correct-total" in scores and "used-the-data" in scores
    assert any(m["role"] == "tool" for m in view.replay.steps[-1].messages)  # tool results
    assert any("Tool result" in b.spec.title for b in view.chat.bubbles)
    view.previous_step()
    assert view.current_step == 1 and "Reward 0.00" in view.scores.toPlainText()
    assert "Step 2 of 3" in view.step_label.text()
    view.back_requested.emit()
    assert editor.pages.currentIndex() == 0

    negatives = mt_workspace.open_file("negatives.jsonl").chat
    negatives.select_trajectory(0)  # the right number without querying
    negatives.replay()
    qtbot.waitUntil(lambda: negatives.replay_view.replay is not None, timeout=120_000)
    final = negatives.replay_view.replay.final
    assert final.result.reward == 0.0
    assert "Not met: used-the-data" in negatives.replay_view.scores.toPlainText()


def test_a_trajectory_that_cannot_be_replayed_says_why(qtbot, mt_workspace):
    editor = mt_workspace.open_file("solutions.jsonl").chat
    editor.select_turn(2)
    editor.turn_editor.content.setPlainText("")
    editor.delete_turn()
    editor.delete_turn()
    editor.delete_turn()
    editor.replay()
    assert "cannot be replayed" in editor.replay_view.title.text()
    assert "no assistant turn" in editor.replay_view.title.text()


@pytest.mark.xvfb
@pytest.mark.docker
@pytest.mark.slow
def test_trajectory_editor_and_replay_on_a_real_window(tmp_path):
    display = xvfb_display()
    need("xvfb", display is not None, "no X server (GAUNTLET_XVFB_DISPLAY unset or unreachable)")
    need("sandbox image", sandbox_image_available(), "the default sandbox image is not built")
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="xcb", DISPLAY=display, GAUNTLET_HOME=str(tmp_path / "home"))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    script = ROOT / "tests" / "ui" / "trajectory_editor_shot.py"
    done = subprocess.run(
        [sys.executable, str(script), str(SHOTS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert not seen["errors"]
    for path in seen["shots"].values():
        image = QImage(path)
        assert not image.isNull() and image.width() >= 1000, path


@pytest.mark.docker
def test_replay_shows_the_notes_and_a_criterion_that_raised(qtbot, mt_workspace, analyst):
    need("sandbox image", sandbox_image_available(), "the default sandbox image is not built")
    grader = analyst / "grader.py"
    grader.write_text(grader.read_text().replace('task["region"] in', 'task["regio"] in'))
    editor = mt_workspace.open_file("solutions.jsonl").chat
    editor.select_turn(2)
    editor.add_assistant()  # after the answer: the (empty) user script has nothing more to say
    editor.turn_editor.content.setPlainText("Anything else?")
    editor.replay()
    view = editor.replay_view
    qtbot.waitUntil(lambda: view.replay is not None, timeout=120_000)
    final = view.replay.final
    assert final.result.error == "exception" and final.result.reward is None
    scores = view.scores.toPlainText()
    assert "No reward: the grading failed" in scores
    assert "KeyError: 'regio'" in scores and "line 38, in used_the_data" in scores
    assert "the user had nothing more to say: 1 assistant turn left out" in scores
    assert "Not met: used-the-data" in scores


@pytest.mark.docker
def test_a_scripted_client_without_tools_replays_with_the_users_replies(
    qtbot, tmp_path, job_runner
):
    need("sandbox image", sandbox_image_available(), "the default sandbox image is not built")
    root = create_from_template("mt-intake", tmp_path / "intake", package_name="lab/intake")
    view = WorkspaceView()
    qtbot.addWidget(view)
    view.replay_context = (job_runner, lambda: "docker")
    view.open_package(root)
    editor = view.open_file("solutions.jsonl").chat
    assert "scripted replies" in editor.task_header.text()
    assert "Rosa Delgado" in editor.task_header.text()
    assert editor.turn == 0 and editor.turn_editor.content.toPlainText().startswith("Of course")
    assert editor.turn_editor.add_row.isHidden()  # no tools.py: nothing to call
    editor.replay()
    qtbot.waitUntil(lambda: editor.replay_view.replay is not None, timeout=120_000)
    replay = editor.replay_view.replay
    assert [s.result.reward for s in replay.steps] == [0.0, 0.0, 0.0, 1.0]
    said = [b.spec.body_html for b in editor.replay_view.chat.bubbles if b.spec.kind == "user"]
    assert any("Rosa Delgado" in text for text in said)
    assert "Criteria" not in editor.replay_view.scores.toPlainText()  # a python grader
    view.shutdown()


def test_a_persona_task_asks_for_recorded_replies():
    from app.ui.trajectory.chat_bubbles import task_html

    text = task_html({"prompt": "p", "user": {"persona": "a tired client"}}, "t")
    assert "a persona" in text and "a tired client" in text and "record its replies" in text
    assert "No task has the id" in task_html(None, "ghost")
