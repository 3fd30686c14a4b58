"""The task table: edits round-trip to JSONL, untouched lines stay byte-identical, undo works."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit

from app.ui.workspace.task_table import TaskTable
from app.ui.workspace.task_table_model import JsonlTableModel

TASKS = (
    '{"id": "t1",   "prompt": "2+2?", "answer": 4}\n'  # odd spacing: must survive untouched
    '{"id": "t2", "prompt": "Name the base pairing with A", "answer": "T", "choices": ["T", "G"]}\n'
    "\n"
    '{"id": "t3", "prompt": "ln(e)?" "answer": 1}\n'  # not valid JSON (missing comma)
    '{"id": "t4", "prompt": "Caf\\u00e9 \\ud83e\\uddec?", "answer": [1, 2]}\n'
)


@pytest.fixture
def table(qtbot):
    widget = TaskTable("tasks")
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    widget.show()
    qtbot.waitExposed(widget)
    widget.load_text(TASKS)
    return widget


def lines(text: str) -> list[str]:
    return text.split("\n")


def cell(model: JsonlTableModel, row: int, column: str, role=Qt.ItemDataRole.EditRole):
    return model.data(model.index(row, model.columns.index(column)), role)


def test_columns_and_cells_for_people_not_json(table):
    model = table.model
    assert model.columns[:4] == ["id", "prompt", "answer", "choices"]
    assert model.rowCount() == 4
    assert cell(model, 0, "prompt") == "2+2?"  # text shown as text, no quotes
    assert cell(model, 0, "answer") == "4"  # numbers as JSON
    assert cell(model, 1, "choices") == '["T", "G"]'
    assert cell(model, 3, "prompt") == "Café 🧬?"  # escapes decoded for display
    # the header shows file line numbers (the blank line counts)
    assert model.headerData(3, Qt.Orientation.Vertical) == "5"


def test_invalid_line_is_marked_and_kept_verbatim(table):
    model = table.model
    [(row, line, error)] = model.invalid_rows()
    assert (row, line) == (2, 4) and error
    first = model.index(2, 0)
    assert cell(model, 2, "id") == '{"id": "t3", "prompt": "ln(e)?" "answer": 1}'
    assert model.data(first, Qt.ItemDataRole.BackgroundRole) is not None
    assert "not valid JSON" in model.data(first, Qt.ItemDataRole.ToolTipRole)
    assert "not valid JSON" in table.status.text()
    assert model.text() == TASKS
    # fixing it in the table makes it a normal row
    assert model.setData(first, '{"id": "t3", "prompt": "ln(e)?", "answer": 1}')
    assert model.invalid_rows() == []
    assert cell(model, 2, "prompt") == "ln(e)?"


def test_cell_edit_changes_one_line_only(table):
    model = table.model
    assert model.setData(model.index(1, model.columns.index("answer")), "A")
    new = lines(model.text())
    old = lines(TASKS)
    assert new[0] == old[0] and new[2:] == old[2:]  # untouched lines byte-identical, blank kept
    assert json.loads(new[1])["answer"] == "A"
    assert list(json.loads(new[1])) == ["id", "prompt", "answer", "choices"]  # key order kept


def test_json_typed_cells_parse_and_invalid_json_is_marked_not_written(table):
    model = table.model
    answer = model.index(0, model.columns.index("answer"))
    assert model.setData(answer, "4.5")
    assert json.loads(lines(model.text())[0])["answer"] == 4.5  # a number stays a number
    before = model.text()
    assert model.setData(answer, "[1, 2")  # broken JSON
    assert model.text() == before  # not written
    assert model.data(answer, Qt.ItemDataRole.DisplayRole) == "[1, 2"  # but kept on screen
    assert model.data(answer, Qt.ItemDataRole.BackgroundRole) is not None
    assert "Not valid JSON" in model.data(answer, Qt.ItemDataRole.ToolTipRole)
    assert model.invalid_cells() == [(0, "answer", model.invalid_cells()[0][2])]
    assert model.setData(answer, "[1, 2]")
    assert model.invalid_cells() == []
    assert model.setData(answer, "forty")  # plain words in a number column stay words
    assert json.loads(lines(model.text())[0])["answer"] == "forty"
    # a text cell stays text even if it looks like a number
    prompt = model.index(0, model.columns.index("prompt"))
    assert model.setData(prompt, "42")
    assert json.loads(lines(model.text())[0])["prompt"] == "42"


def test_add_duplicate_delete_reorder_round_trip(table):
    model = table.model
    table.select_row(0)
    row = table.add_row()
    assert row == 1
    record = json.loads(lines(model.text())[1])
    assert record["id"].startswith("task-") and record["prompt"] == ""
    model.setData(model.index(row, model.columns.index("prompt")), "What is Km?")
    table.select_row(0)
    dup = table.duplicate_selected()
    assert dup == 1
    assert json.loads(lines(model.text())[1])["id"] == "t1-copy"
    table.select_row(dup)
    table.move_selected(1)  # the copy moves below the new task
    ids = [
        json.loads(line)["id"]
        for line in lines(model.text())
        if line.strip() and "ln(e)" not in line
    ]
    assert ids == ["t1", ids[1], "t1-copy", "t2", "t4"] and ids[1].startswith("task-")
    table.select_row(2)
    table.delete_selected()
    assert "t1-copy" not in model.text()
    # every untouched original line is still byte-identical
    for original in lines(TASKS):
        if original:
            assert original in lines(model.text())


def test_undo_redo_restores_exact_text(table, qtbot):
    model = table.model
    texts = [model.text()]
    table.select_row(0)
    table.add_row()
    texts.append(model.text())
    model.setData(model.index(0, model.columns.index("answer")), "5")
    texts.append(model.text())
    table.select_row(0)
    table.delete_selected()
    texts.append(model.text())
    for expected in reversed(texts[:-1]):
        model.undo_stack.undo()
        assert model.text() == expected
    for expected in texts[1:]:
        model.undo_stack.redo()
        assert model.text() == expected
    # keyboard: Ctrl+Z in the table undoes
    table.view.setFocus()
    qtbot.keyClick(table.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert model.text() == texts[-2]


def test_editing_through_the_view_delegate(table, qtbot):
    model = table.model
    index = model.index(1, model.columns.index("answer"))
    table.view.setCurrentIndex(index)
    table.view.edit(index)
    editor = table.view.viewport().findChild(QLineEdit)
    assert editor is not None and editor.text() == "T"
    editor.selectAll()
    qtbot.keyClicks(editor, "G")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # Qt commits on the next event-loop turn
    qtbot.waitUntil(lambda: json.loads(lines(model.text())[1])["answer"] == "G")


def test_long_text_is_edited_in_a_multiline_box(table, qtbot):
    model = table.model
    index = model.index(1, model.columns.index("prompt"))  # 28 chars: line edit
    long_prompt = "A long prompt\nwith two lines that a biologist wrote about enzyme kinetics"
    assert model.setData(index, long_prompt)
    assert model.data(index, Qt.ItemDataRole.DisplayRole) == long_prompt.replace("\n", " ⏎ ")
    table.view.edit(index)
    box = table.view.viewport().findChild(QPlainTextEdit)
    assert box is not None and box.toPlainText() == long_prompt
    box.setPlainText(long_prompt + "\nthird line")
    table.view.commitData(box)
    table.view.closeEditor(box, table.view.itemDelegate().EndEditHint.NoHint)
    assert json.loads(lines(model.text())[1])["prompt"].endswith("\nthird line")


def test_selected_row_is_shown_in_full(table):
    table.select_row(1)
    assert "Name the base pairing with A" in table.details.toPlainText()
    assert '["T", "G"]' in table.details.toPlainText()


def test_solutions_role_prefills_task_id(qtbot):
    widget = TaskTable("solutions")
    qtbot.addWidget(widget)
    widget.load_text('{"task_id": "t1", "response": "4"}\n')
    widget.select_row(0)
    row = widget.add_row()
    assert json.loads(lines(widget.text())[row]) == {"task_id": "t1", "response": ""}
    assert widget.add_button.text() == "+ Add answer"


def test_answer_cells_take_json_values_and_name_their_type(table):
    from app.ui.workspace.task_table_model import TYPE_ROLE

    model = table.model
    answer = model.index(1, model.columns.index("answer"))  # holds the text "T"
    assert model.data(answer, TYPE_ROLE) == "text"
    assert model.setData(answer, "[1, 2]")  # typed into a text answer: it becomes a list
    assert json.loads(lines(model.text())[1])["answer"] == [1, 2]
    assert model.data(answer, TYPE_ROLE) == "list"
    assert model.setData(answer, "42")
    assert (
        json.loads(lines(model.text())[1])["answer"] == 42
        and model.data(answer, TYPE_ROLE) == "number"
    )
    assert model.setData(answer, '"42"')  # quotes keep it text
    assert (
        json.loads(lines(model.text())[1])["answer"] == "42"
        and model.data(answer, TYPE_ROLE) == "text"
    )
    # Editing shows the quotes, so committing the editor unchanged keeps the text a text.
    assert model.data(answer, Qt.ItemDataRole.EditRole) == '"42"'
    assert model.data(answer, Qt.ItemDataRole.DisplayRole) == "42"
    assert not model.setData(
        answer, model.data(answer, Qt.ItemDataRole.EditRole)
    )  # nothing changed
    assert "quotes" in model.data(answer, Qt.ItemDataRole.ToolTipRole)
    assert model.setData(answer, "true")
    assert (
        json.loads(lines(model.text())[1])["answer"] is True
        and model.data(answer, TYPE_ROLE) == "true/false"
    )
    assert model.setData(answer, "NaN")  # not JSON: kept as the word
    assert json.loads(lines(model.text())[1])["answer"] == "NaN"
    # Text columns never change type, and show no badge.
    prompt = model.index(1, model.columns.index("prompt"))
    assert model.setData(prompt, "[1, 2]")
    assert json.loads(lines(model.text())[1])["prompt"] == "[1, 2]"
    assert model.data(prompt, TYPE_ROLE) is None


def test_type_badges_are_painted(table, qtbot, tmp_path):
    from pathlib import Path

    table.view.setColumnWidth(table.model.columns.index("answer"), 160)
    qtbot.wait(20)
    image = table.grab()
    shots = Path("test-artifacts/screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    image.save(str(shots / "workspace-task-table-types.png"))
    assert not image.isNull()
