"""The Workspace screen end to end: open, edit, autosave, external changes, live lint."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from app.editor import AnnotationState, ReviewAnnotation
from app.errors import UserError
from app.ui.workspace.document_tab import FORM, TABLE, TEXT


def wait_saved(qtbot, view, relpath: str) -> None:
    tab = view.tab(relpath)
    qtbot.waitUntil(lambda: not tab.is_dirty(), timeout=10_000)


def test_open_package_shows_tasks_table_and_settings_form(workspace, pack):
    assert workspace.current_package() == pack.resolve()
    assert workspace.open_tabs() == ["tasks.jsonl", "env.toml"]
    assert workspace.tab("tasks.jsonl").mode == TABLE
    assert workspace.tab("env.toml").mode == FORM
    assert set(workspace.tree.relpaths()) >= {
        "env.toml",
        "tasks.jsonl",
        "solutions.jsonl",
        "negatives.jsonl",
        "README.md",
    }
    assert workspace.findings() == []  # the template is clean
    assert "No problems" in workspace.problems.text()


def test_open_package_refuses_a_folder_without_env_toml(qtbot, tmp_path):
    from app.ui.workspace import WorkspaceView

    view = WorkspaceView()
    qtbot.addWidget(view)
    with pytest.raises(UserError) as caught:
        view.open_package(tmp_path)
    assert "env.toml" in caught.value.message and caught.value.hint
    assert view.current_package() is None
    view.shutdown()


def test_package_opened_signal(qtbot, pack):
    from app.ui.workspace import WorkspaceView

    view = WorkspaceView()
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.package_opened) as blocker:
        view.open_package(pack)
    assert blocker.args == [pack.resolve()]
    view.shutdown()


def test_table_edit_autosaves_atomically_and_keeps_other_lines(workspace, pack, qtbot):
    path = pack / "tasks.jsonl"
    original = path.read_text(encoding="utf-8").split("\n")
    inode = path.stat().st_ino
    model = workspace.tab("tasks.jsonl").table.model
    model.setData(model.index(1, model.columns.index("answer")), "91")
    wait_saved(qtbot, workspace, "tasks.jsonl")
    saved = path.read_text(encoding="utf-8").split("\n")
    assert json.loads(saved[1])["answer"] == 91
    assert saved[0] == original[0] and saved[2:] == original[2:]
    assert path.stat().st_ino != inode  # written to a temporary file, then renamed over
    assert [p.name for p in pack.iterdir() if p.name.endswith(".tmp")] == []


def test_failed_save_keeps_the_file_and_the_edit(workspace, pack, qtbot, monkeypatch):
    path = pack / "tasks.jsonl"
    before = path.read_bytes()

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    tab = workspace.tab("tasks.jsonl")
    tab.table.model.setData(tab.table.model.index(0, 1), "Changed prompt")
    assert workspace.save_all() is False
    assert path.read_bytes() == before  # never half-written
    assert [p.name for p in pack.iterdir() if p.name.endswith(".tmp")] == []
    assert (
        tab.is_dirty()
        and "Not saved" in tab.banner.label.text()
        and "No space left" in tab.banner.label.text()
    )
    monkeypatch.undo()
    assert workspace.save_all() is True
    assert "Changed prompt" in path.read_text(encoding="utf-8")


def test_form_edit_saves_env_toml_with_comments(workspace, pack, qtbot):
    path = pack / "env.toml"
    comments = [line for line in path.read_text(encoding="utf-8").splitlines() if "#" in line]
    form = workspace.tab("env.toml").form
    form.set_value("grader.tolerance", 0.01)
    wait_saved(qtbot, workspace, "env.toml")
    text = path.read_text(encoding="utf-8")
    assert "tolerance = 0.01" in text
    kept = [line for line in text.splitlines() if "#" in line]
    assert [c.split("#", 1)[1] for c in comments] == [k.split("#", 1)[1] for k in kept]


def test_external_change_reloads_a_clean_file(workspace, pack, qtbot):
    path = pack / "solutions.jsonl"
    tab = workspace.open_file("solutions.jsonl")
    new_text = path.read_text(encoding="utf-8") + '{"task_id": "mm-rate-1", "response": "50.0"}\n'
    path.write_text(new_text, encoding="utf-8")  # another program edits it
    qtbot.waitUntil(lambda: tab.text() == new_text, timeout=10_000)
    assert tab.banner.isVisible() and "reloaded" in tab.banner.label.text()
    assert not tab.is_dirty()
    tab.undo()  # the previous version is one undo away
    assert tab.text() != new_text


def test_external_change_with_unsaved_edits_is_offered_not_forced(workspace, pack, qtbot):
    path = pack / "README.md"
    tab = workspace.open_file("README.md")
    assert tab.mode == TEXT
    workspace._autosave.setInterval(60_000)  # keep the edit unsaved while the file changes
    cursor = QTextCursor(tab.editor.document())
    cursor.insertText("My unsaved intro.\n")
    path.write_text("Rewritten elsewhere.\n", encoding="utf-8")
    qtbot.waitUntil(lambda: tab.banner.isVisible() and tab.conflict, timeout=10_000)
    assert "unsaved edits" in tab.banner.label.text()
    assert tab.text().startswith("My unsaved intro.")  # nothing lost
    assert workspace.save_all() is True
    assert (
        path.read_text(encoding="utf-8") == "Rewritten elsewhere.\n"
    )  # autosave waits for the user
    tab.banner.primary.click()  # "Reload from disk"
    assert tab.text() == "Rewritten elsewhere.\n" and not tab.conflict
    tab.undo()  # and the user's version is still one undo away
    assert tab.text().startswith("My unsaved intro.")
    workspace._autosave.setInterval(800)


def test_keep_my_version_overwrites_after_confirmation(workspace, pack, qtbot):
    path = pack / "README.md"
    tab = workspace.open_file("README.md")
    workspace._autosave.setInterval(60_000)
    QTextCursor(tab.editor.document()).insertText("Mine. ")
    path.write_text("Theirs.\n", encoding="utf-8")
    qtbot.waitUntil(lambda: tab.conflict, timeout=10_000)
    tab.banner.secondary.click()  # "Keep my version"
    assert path.read_text(encoding="utf-8").startswith("Mine. ")
    assert not tab.conflict and not tab.is_dirty()


def test_switching_views_carries_edits_and_undo(workspace, qtbot):
    tab = workspace.tab("tasks.jsonl")
    model = tab.table.model
    model.setData(model.index(0, model.columns.index("id")), "renamed-1")
    assert tab.set_mode(TEXT)
    assert '"renamed-1"' in tab.editor.text()
    cursor = QTextCursor(tab.editor.document())
    cursor.movePosition(QTextCursor.MoveOperation.End)
    cursor.insertText('{"id": "typed", "prompt": "p", "answer": 1}\n')
    assert tab.set_mode(TABLE)
    assert model.rowCount() == 6 and '"typed"' in tab.text()
    tab.undo()  # the text edit, as one step
    assert model.rowCount() == 5 and '"renamed-1"' in tab.text()
    tab.undo()
    assert '"renamed-1"' not in tab.text()
    tab.redo()
    assert '"renamed-1"' in tab.text()


def test_form_refuses_broken_toml_and_stays_on_text(workspace, qtbot):
    tab = workspace.tab("env.toml")
    tab.set_mode(TEXT)
    tab.editor.replace_text_undoably('schema = "gauntlet/1"\n[grader\n')
    assert tab.set_mode(FORM) is False
    assert (
        tab.mode == TEXT and not tab.banner.isHidden() and "cannot show" in tab.banner.label.text()
    )


def test_live_lint_underlines_a_typed_mistake(workspace, qtbot):
    tab = workspace.open_file("solutions.jsonl")
    tab.set_mode(TEXT)
    editor = tab.editor
    editor.go_to_line(1, 1)
    with qtbot.waitSignal(
        workspace.findings_changed,
        timeout=20_000,
        check_params_cb=lambda findings: any(f.file == "solutions.jsonl" for f in findings),
    ):
        editor.textCursor().insertText('{"task_id": "mm-rate-1", "respons": "50"}\n')
    findings = [f for f in workspace.findings() if f.file == "solutions.jsonl"]
    assert any("respons" in f.message for f in findings)
    ranges = editor.diagnostic_ranges()
    assert ranges
    block_numbers = {editor.document().findBlock(start).blockNumber() for _f, start, _e in ranges}
    assert block_numbers == {0}  # on the line that was typed
    assert 0 in editor.line_severities()
    typo = next(r for r in ranges if '"respons"' in r[0].message)
    assert editor.document().toPlainText()[typo[1] : typo[2]].startswith('"respons"')
    # the file on disk was never needed: the checks ran on the unsaved text
    qtbot.waitUntil(lambda: not workspace.is_linting(), timeout=20_000)


def test_live_lint_runs_off_the_gui_thread_once_per_pause(workspace, qtbot, monkeypatch):
    import threading

    import app.funnel.structure as structure

    calls = []
    real = structure.run_structure_stage

    def spy(root, overrides=None):  # the real stage, recording where and on what it ran
        calls.append((threading.current_thread().name, dict(overrides or {})))
        return real(root, overrides=overrides)

    monkeypatch.setattr(structure, "run_structure_stage", spy)
    workspace._autosave.setInterval(60_000)  # keep README unsaved: the checks must see the buffer
    tab = workspace.open_file("README.md")
    for word in ("one ", "two ", "three "):  # a burst of typing
        QTextCursor(tab.editor.document()).insertText(word)
    with qtbot.waitSignal(workspace.findings_changed, timeout=20_000):
        pass
    qtbot.waitUntil(lambda: not workspace.is_linting(), timeout=20_000)
    assert len(calls) == 1
    thread, overrides = calls[0]
    assert thread != threading.main_thread().name and thread == "gauntlet-live-lint"
    assert overrides.get("README.md", "").startswith("three two one ")


def test_jump_to_opens_the_file_at_the_line(workspace, qtbot):
    workspace.jump_to("README.md", 3, 2)
    tab = workspace.current_tab()
    assert tab.relpath == "README.md"
    assert tab.editor.cursor_line_column() == (3, 2)
    workspace.jump_to("tasks.jsonl", 2)
    tab = workspace.current_tab()
    assert tab.mode == TABLE and tab.table.selected_rows() == [1]


def test_annotations_reach_the_right_editor(workspace, qtbot):
    note = ReviewAnnotation(
        "README.md", 1, 2, "Reviewer", "Clarify the units.", AnnotationState.MOVED, "th-9"
    )
    workspace.set_annotations([note])
    tab = workspace.open_file("README.md")
    assert tab.editor.annotations() == [note]
    with qtbot.waitSignal(workspace.annotation_clicked) as blocker:
        tab.editor.annotation_clicked.emit(note)
    assert blocker.args[0].thread_id == "th-9"


def test_annotations_mark_table_rows(workspace, qtbot):
    note = ReviewAnnotation(
        "tasks.jsonl", 2, 2, "Reviewer", "Is 90 right?", AnnotationState.CURRENT, "th-1"
    )
    workspace.set_annotations([note])
    model = workspace.tab("tasks.jsonl").table.model
    assert "Is 90 right?" in model.headerData(
        1, Qt.Orientation.Vertical, Qt.ItemDataRole.ToolTipRole
    )
    assert model.headerData(1, Qt.Orientation.Vertical, Qt.ItemDataRole.DecorationRole) is not None
    assert model.headerData(0, Qt.Orientation.Vertical, Qt.ItemDataRole.DecorationRole) is None


def test_show_me_jumps_to_the_problem(workspace, qtbot):
    tab = workspace.tab("tasks.jsonl")
    model = tab.table.model
    with qtbot.waitSignal(
        workspace.findings_changed,
        timeout=20_000,
        check_params_cb=lambda fs: any(f.file == "tasks.jsonl" for f in fs),
    ):
        model.setData(model.index(3, model.columns.index("prompt")), "")  # an empty prompt
    assert "show me" in workspace.problems.text()
    target = workspace.show_next_problem()
    assert target is not None and target.file == "tasks.jsonl" and target.line == 4
    assert workspace.current_tab() is tab and tab.table.selected_rows() == [3]


def test_tab_close_saves_and_shutdown_stops_everything(workspace, pack, qtbot):
    tab = workspace.open_file("README.md")
    workspace._autosave.setInterval(60_000)
    QTextCursor(tab.editor.document()).insertText("Saved on close. ")
    workspace.tabs.tabCloseRequested.emit(workspace.tabs.indexOf(tab))
    assert (pack / "README.md").read_text(encoding="utf-8").startswith("Saved on close. ")
    assert "README.md" not in workspace.open_tabs()
    workspace.shutdown()
    assert workspace.current_package() is None
    assert not workspace.is_linting()


def test_screenshots(workspace, pack, qtbot):
    """Screens for people to look at (test-artifacts/screenshots)."""
    out = Path(
        os.environ.get(
            "GAUNTLET_SCREENSHOTS",
            Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots",
        )
    )
    out.mkdir(parents=True, exist_ok=True)
    workspace.tabs.setCurrentWidget(workspace.tab("tasks.jsonl"))
    model = workspace.tab("tasks.jsonl").table.model
    model.setData(model.index(2, model.columns.index("answer")), "[9,")  # an invalid cell, marked
    workspace.tab("tasks.jsonl").table.select_row(1)
    qtbot.wait(50)
    assert workspace.grab().save(str(out / "workspace-task-table.png"))
    workspace.tabs.setCurrentWidget(workspace.tab("env.toml"))
    qtbot.wait(50)
    assert workspace.grab().save(str(out / "workspace-manifest-form.png"))
    tab = workspace.open_file("solutions.jsonl")
    tab.set_mode(TEXT)
    tab.editor.go_to_line(2, 1)
    with qtbot.waitSignal(
        workspace.findings_changed,
        timeout=20_000,
        check_params_cb=lambda fs: any(f.file == "solutions.jsonl" for f in fs),
    ):
        tab.editor.textCursor().insertText('{"task_id": "mm-rate-1", "respons": "50"}\n')
    tab.editor.go_to_line(2, 30)
    qtbot.wait(50)
    assert workspace.grab().save(str(out / "workspace-editor-squiggle.png"))
    readme = workspace.open_file("README.md")
    readme.editor.show_find(replace=True)
    readme.editor.find_bar.find_edit.setText("enzyme")
    qtbot.wait(50)
    assert workspace.grab().save(str(out / "workspace-editor-find.png"))
    readme.editor.find_bar.close_bar()
    model.setData(model.index(2, model.columns.index("answer")), "9")


def test_a_closed_workspace_can_open_another_package(workspace, pack, qtbot, tmp_path):
    from app.envpack.templates import create_from_template

    workspace.shutdown()
    other = create_from_template("qa-numeric", tmp_path / "second", package_name="lab/second")
    (other / "tasks.jsonl").write_text(
        '{"id": "t1", "prompt": "2+2?", "answer": "4", "bogus": 1}\n', encoding="utf-8"
    )
    workspace.open_package(other)
    assert workspace.current_package() == other.resolve()
    assert workspace.tab("tasks.jsonl").table.model.rowCount() == 1
    # the live checks run again: the new package's findings arrive
    qtbot.waitUntil(lambda: not workspace.is_linting(), timeout=20_000)
    with qtbot.waitSignal(workspace.findings_changed, timeout=20_000):
        workspace.lint_now()
    workspace.tab("tasks.jsonl").table.model.set_cell(0, "prompt", "3+3?")
    assert workspace.save_all()
    assert "3+3?" in (other / "tasks.jsonl").read_text(encoding="utf-8")


def test_moving_the_tasks_file_in_env_toml_is_picked_up(workspace, pack, qtbot):
    (pack / "data").mkdir()
    (pack / "data" / "cases.jsonl").write_text(
        (pack / "tasks.jsonl").read_text(encoding="utf-8"), encoding="utf-8"
    )
    settings = workspace.open_file("env.toml")
    text = settings.text().replace(
        '[tasks]\npath = "tasks.jsonl"', '[tasks]\npath = "data/cases.jsonl"'
    )
    assert "data/cases.jsonl" in text
    settings.replace_text(text, "Move tasks")
    assert workspace.save_all()
    assert workspace.tree.label_for("data/cases.jsonl") == "Tasks"
    assert workspace.tree.label_for("tasks.jsonl") is None
    tab = workspace.open_file("data/cases.jsonl")
    assert tab.table_role == "tasks" and tab.mode == TABLE
    assert workspace.tabs.tabText(workspace.tabs.indexOf(tab)).startswith("Tasks")
    # and another program changing env.toml back is noticed too
    (pack / "env.toml").write_text(
        text.replace("data/cases.jsonl", "tasks.jsonl"), encoding="utf-8"
    )
    qtbot.waitUntil(lambda: workspace.tree.label_for("tasks.jsonl") == "Tasks", timeout=10_000)


def test_create_and_rename_files_from_the_workspace(workspace, pack, qtbot):
    tab = workspace.create_file("notes/method.md")
    assert (pack / "notes" / "method.md").read_text(encoding="utf-8") == ""
    assert "notes/method.md" in workspace.tree.relpaths() and workspace.current_tab() is tab
    tab.editor.textCursor().insertText("# How the rates were measured\n")  # unsaved edit
    renamed = workspace.rename_file("notes/method.md", "docs/method.md")
    assert not (pack / "notes" / "method.md").exists()
    assert (pack / "docs" / "method.md").read_text(
        encoding="utf-8"
    ) == "# How the rates were measured\n"
    assert (
        renamed is not None
        and renamed.relpath == "docs/method.md"
        and workspace.tab("notes/method.md") is None
    )
    assert "docs/method.md" in workspace.tree.relpaths()
    for bad, fragment in [
        ("../escape.md", "outside the package"),
        ("", "empty"),
        ("tasks.jsonl", "already exists"),
        ("a/b?.md", "not a usable file name"),
    ]:
        with pytest.raises(UserError, match=fragment):
            workspace.create_file(bad)
    with pytest.raises(UserError, match="cannot be renamed"):
        workspace.rename_file("env.toml", "settings.toml")
    with pytest.raises(UserError, match="already exists"):
        workspace.rename_file("docs/method.md", "README.md")
    messages = []
    workspace.status_message.connect(messages.append)
    workspace.rename_file("negatives.jsonl", "wrong.jsonl")  # env.toml still points at the old name
    assert "[negatives] path" in messages[-1]


def test_package_title_is_shown_as_plain_text_never_markup(qtbot, tmp_path):
    from app.envpack.templates import create_from_template
    from app.ui.workspace import WorkspaceView

    title = '<img src="file:///etc/passwd"><a href="https://evil.example">Click</a>'
    pack = create_from_template("qa-numeric", tmp_path / "p", title=title)
    view = WorkspaceView()
    qtbot.addWidget(view)
    view.open_package(pack)
    assert view.package_title.textFormat() == Qt.TextFormat.PlainText
    assert view.package_title.text() == title
    view.shutdown()
