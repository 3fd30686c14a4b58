"""Diagnostics, find/replace, go to line, indentation, annotations, theme."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent, QPalette, QTextCursor
from PySide6.QtWidgets import QApplication, QToolTip

from app.editor import AnnotationState, CodeEditor, ReviewAnnotation
from app.findings import Finding, Severity, Stage

TASKS = (
    '{"id": "t1", "prompt": "2+2?", "answer": 4}\n{"id": '
    '"t2", "prompt": "🧬 base pairs?", "answr": 2}\n{"id": "t3"}\n'
)


@pytest.fixture
def editor(qtbot):
    widget = CodeEditor(file_name="tasks.jsonl")
    qtbot.addWidget(widget)
    widget.resize(800, 400)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_text(TASKS)
    yield widget
    widget.close_editor()


def finding(
    line,
    column=None,
    end_column=None,
    severity=Severity.ERROR,
    message="bad",
    hint="fix it",
    code="GX101",
):
    return Finding(
        code=code,
        severity=severity,
        stage=Stage.STRUCTURE,
        message=message,
        hint=hint,
        file="tasks.jsonl",
        line=line,
        column=column,
        end_line=line if end_column else None,
        end_column=end_column,
    )


def underlined(editor: CodeEditor) -> list[tuple[str, str]]:
    """(underlined text, underline colour) for each squiggle the editor draws."""
    out = []
    for selection in editor.extraSelections():
        if selection.format.underlineStyle() == selection.format.UnderlineStyle.WaveUnderline:
            out.append((selection.cursor.selectedText(), selection.format.underlineColor().name()))
    return out


def test_squiggle_on_exact_range_and_severity_colour(editor):
    # line 2: `"answr"` starts at column 47 (1-based, in characters; the emoji is one character)
    line2 = TASKS.splitlines()[1]
    col = line2.index('"answr"') + 1
    editor.set_diagnostics(
        [
            finding(
                2,
                col,
                col + len('"answr"'),
                message='unknown key "answr"',
                hint='did you mean "answer"?',
            ),
            finding(
                3, None, severity=Severity.WARNING, code="GX110", message="task t3 has no prompt"
            ),
        ]
    )
    marks = dict(underlined(editor))
    assert '"answr"' in marks  # the exact range, not shifted by the emoji's two UTF-16 units
    assert marks['"answr"'] == editor.theme.severity[Severity.ERROR].name()
    assert marks['{"id": "t3"}'] == editor.theme.severity[Severity.WARNING].name()
    assert editor.line_severities() == {1: Severity.ERROR, 2: Severity.WARNING}


def test_squiggle_word_at_column_without_end_and_clamping(editor):
    editor.set_diagnostics([finding(1, 3), finding(99, 500)])
    texts = [text for text, _ in underlined(editor)]
    assert "id" in texts  # the word at column 3 of line 1
    assert len(texts) == 2  # the out-of-range finding still shows, clamped to the document


def test_squiggle_moves_with_typing(editor):
    editor.set_diagnostics([finding(2, 2, 6)])
    cursor = QTextCursor(editor.document())
    cursor.insertText('{"id": "t0"}\n')
    [(finding_, start, end)] = editor.diagnostic_ranges()
    block = editor.document().findBlock(start)
    assert block.blockNumber() == 2 and editor.document().toPlainText()[start:end] == '"id"'


def test_tooltip_shows_message_and_hint(editor, qtbot):
    editor.set_diagnostics([finding(1, 2, 6, message='"id" is reserved', hint="rename the key")])
    start = editor.diagnostic_ranges()[0][1]
    cursor = QTextCursor(editor.document())
    cursor.setPosition(start + 1)
    point = editor.cursorRect(cursor).center()
    event = QHelpEvent(QEvent.Type.ToolTip, point, editor.viewport().mapToGlobal(point))
    QApplication.sendEvent(editor.viewport(), event)
    text = QToolTip.text()
    assert "is reserved" in text and "How to fix" in text and "rename the key" in text
    # the gutter tells the same story for the line
    gutter_point = QPoint(5, point.y())
    QApplication.sendEvent(
        editor.gutter,
        QHelpEvent(QEvent.Type.ToolTip, gutter_point, editor.gutter.mapToGlobal(gutter_point)),
    )
    assert "rename the key" in QToolTip.text()
    QToolTip.hideText()


def test_find_replace_and_replace_all_is_one_undo_step(editor, qtbot):
    editor.show_find(replace=True)
    bar = editor.find_bar
    assert bar.isVisible()
    bar.find_edit.setText('"id"')
    assert bar.match_count == 3
    assert "of 3" in bar.count_label.text()
    assert bar.find_next()
    assert editor.textCursor().selectedText() == '"id"'
    bar.case_button.setChecked(True)
    bar.find_edit.setText('"ID"')
    assert bar.match_count == 0 and bar.count_label.text() == "No results"
    bar.case_button.setChecked(False)
    bar.replace_edit.setText('"key"')
    assert bar.replace_all() == 3
    assert editor.toPlainText().count('"key"') == 3
    editor.undo()
    assert editor.toPlainText() == TASKS


def test_find_regex_with_groups_and_invalid_pattern(editor):
    editor.show_find(replace=True)
    bar = editor.find_bar
    bar.regex_button.setChecked(True)
    bar.find_edit.setText(r'"(t\d)"')
    assert bar.match_count == 3
    bar.replace_edit.setText(r'"task-\1"')
    bar.replace_all()
    assert '"task-t1"' in editor.toPlainText() and '"task-t3"' in editor.toPlainText()
    bar.find_edit.setText("(unclosed")
    assert bar.count_label.text() == "Invalid pattern"
    assert "valid regular expression" in bar.find_edit.toolTip()
    qtkey = bar.find_edit
    from pytestqt.qtbot import QtBot  # noqa: F401  (keyboard close path below)

    bar.keyPressEvent(_key(Qt.Key.Key_Escape))
    assert not bar.isVisible() and not [
        s
        for s in editor.extraSelections()
        if s.format.background().color() == editor.theme.find_match
    ]
    del qtkey


def _key(key, modifiers=Qt.KeyboardModifier.NoModifier, text=""):
    from PySide6.QtGui import QKeyEvent

    return QKeyEvent(QEvent.Type.KeyPress, key, modifiers, text)


def test_go_to_line_api_and_bar(editor, qtbot):
    editor.go_to_line(3, 4)
    assert editor.cursor_line_column() == (3, 4)
    editor.go_to_line(1000)
    assert editor.cursor_line_column()[0] == editor.blockCount()
    editor.show_go_to_line()
    bar = editor.go_to_line_bar
    bar.line_edit.setText("abc")
    assert not bar.accept() and "number" in bar.hint_label.text()
    bar.line_edit.setText("2:5")
    assert bar.accept()
    assert editor.cursor_line_column() == (2, 5) and not bar.isVisible()


def test_shortcuts_open_bars(editor, qtbot):
    editor.setFocus()
    qtbot.keyClick(editor, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert editor.find_bar.isVisible()
    qtbot.keyClick(editor.find_bar.find_edit, Qt.Key.Key_Escape)
    assert not editor.find_bar.isVisible()
    editor.setFocus()
    qtbot.keyClick(editor, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert editor.go_to_line_bar.isVisible()


def test_indentation_helpers(qtbot):
    ed = CodeEditor(file_name="grader.py")
    qtbot.addWidget(ed)
    ed.set_text("def grade(task, response):")
    ed.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClick(ed, Qt.Key.Key_Return)
    qtbot.keyClicks(ed, "x = 1")
    qtbot.keyClick(ed, Qt.Key.Key_Return)
    assert ed.toPlainText() == "def grade(task, response):\n    x = 1\n    "
    qtbot.keyClick(ed, Qt.Key.Key_Backspace)  # back to the previous stop in one key
    assert ed.toPlainText().endswith("x = 1\n")
    # Tab / Shift+Tab on a selection of lines; one undo step each
    ed.set_text("a = 1\nb = 2\nc = 3")
    cursor = ed.textCursor()
    cursor.setPosition(0)
    cursor.setPosition(len("a = 1\nb"), QTextCursor.MoveMode.KeepAnchor)
    ed.setTextCursor(cursor)
    qtbot.keyClick(ed, Qt.Key.Key_Tab)
    assert ed.toPlainText() == "    a = 1\n    b = 2\nc = 3"
    qtbot.keyClick(ed, Qt.Key.Key_Backtab)
    assert ed.toPlainText() == "a = 1\nb = 2\nc = 3"
    ed.undo()
    assert ed.toPlainText() == "    a = 1\n    b = 2\nc = 3"
    cursor = ed.textCursor()
    cursor.setPosition(0)
    cursor.setPosition(len("    a = 1\n    b"), QTextCursor.MoveMode.KeepAnchor)
    ed.setTextCursor(cursor)
    ed.toggle_comment()
    assert ed.toPlainText() == "    # a = 1\n    # b = 2\nc = 3"
    ed.toggle_comment()
    assert ed.toPlainText() == "    a = 1\n    b = 2\nc = 3"
    # Tab without a selection goes to the next stop
    ed.set_text("ab")
    ed.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClick(ed, Qt.Key.Key_Tab)
    assert ed.toPlainText() == "ab  "
    ed.close_editor()


def test_indent_unit_follows_the_file(qtbot):
    ed = CodeEditor(file_name="data.json")
    qtbot.addWidget(ed)
    ed.set_text('{\n  "a": 1')
    ed.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClick(ed, Qt.Key.Key_Return)
    assert ed.toPlainText().endswith('"a": 1\n  ')
    ed.close_editor()


def test_annotations_markers_tooltip_and_click_signal(editor, qtbot):
    notes = [
        ReviewAnnotation(
            "tasks.jsonl",
            2,
            3,
            "Dr. Rivera",
            "Is 2 really right here?",
            AnnotationState.CURRENT,
            "th_1",
        ),
        ReviewAnnotation(
            "tasks.jsonl", 1, 1, "Sam", "Old remark", AnnotationState.OUTDATED, "th_2"
        ),
    ]
    editor.set_annotations(notes)
    by_line = editor.annotations_by_line()
    assert [a.thread_id for a in by_line[1]] == ["th_1"] and [a.thread_id for a in by_line[2]] == [
        "th_1"
    ]
    assert by_line[0][0].state == AnnotationState.OUTDATED
    y = editor.cursorRect(QTextCursor(editor.document().findBlockByNumber(1))).center().y()
    point = QPoint(4, y)
    QApplication.sendEvent(
        editor.gutter, QHelpEvent(QEvent.Type.ToolTip, point, editor.gutter.mapToGlobal(point))
    )
    assert "Dr. Rivera" in QToolTip.text() and "Is 2 really right here?" in QToolTip.text()
    QToolTip.hideText()
    with qtbot.waitSignal(editor.annotation_clicked) as blocker:
        qtbot.mouseClick(editor.gutter, Qt.MouseButton.LeftButton, pos=point)
    assert blocker.args[0].thread_id == "th_1"
    # the gutter paints markers without errors (grab renders it)
    assert not editor.grab().isNull()


def test_theme_follows_a_dark_palette(editor, qtbot):
    app = QApplication.instance()
    original = app.palette()
    dark = QPalette(original)
    dark.setColor(QPalette.ColorRole.Window, Qt.GlobalColor.black)
    dark.setColor(QPalette.ColorRole.WindowText, Qt.GlobalColor.white)
    dark.setColor(QPalette.ColorRole.Base, Qt.GlobalColor.black)
    dark.setColor(QPalette.ColorRole.Text, Qt.GlobalColor.white)
    try:
        app.setPalette(dark)
        qtbot.waitUntil(lambda: editor.theme.dark)
        assert editor.theme.background.lightness() < 80
    finally:
        app.setPalette(original)
    qtbot.waitUntil(lambda: not editor.theme.dark)


def test_screenshot_annotations_and_diagnostics(qtbot):
    """A grader with a review thread and a finding, for people to look at."""
    import os
    from pathlib import Path

    out = Path(
        os.environ.get(
            "GAUNTLET_SCREENSHOTS",
            Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots",
        )
    )
    out.mkdir(parents=True, exist_ok=True)
    ed = CodeEditor(file_name="grader.py")
    qtbot.addWidget(ed)
    ed.resize(900, 360)
    ed.set_text(
        '"""Grade a numeric answer with a relative tolerance."""\n\nimport math\n\n\n'
        "def grade(task: dict, response: str) -> float:\n"
        "    try:\n        value = float(response.strip())\n"
        "    except ValueError:\n        return 0.0\n"
        '    expected = float(task["answer"])\n'
        "    return 1.0 if math.isclose(value, expected, rel_tol=1e-3) else 0.0\n"
    )
    ed.highlighter.finish()
    ed.set_annotations(
        [
            ReviewAnnotation(
                "grader.py",
                8,
                10,
                "Dr. Rivera",
                "What about '50 µM'? Units make this return 0.",
                AnnotationState.CURRENT,
                "th-1",
            ),
            ReviewAnnotation(
                "grader.py", 3, 3, "Sam", "Unused import?", AnnotationState.OUTDATED, "th-2"
            ),
        ]
    )
    ed.set_diagnostics(
        [
            Finding(
                "GX171",
                Severity.WARNING,
                Stage.STRUCTURE,
                "float() also accepts 'nan' and 'inf'",
                "Reject non-finite values with math.isfinite.",
                file="grader.py",
                line=8,
                column=17,
                end_line=8,
                end_column=22,
            )
        ]
    )
    ed.show()
    qtbot.waitExposed(ed)
    ed.go_to_line(12, 5)
    assert ed.grab().save(str(out / "editor-annotations.png"))
    ed.close_editor()
