"""An agentic package in the Workspace: tasks/ as a tree of tasks (id and instruction heading,
files grouped by what they are for), a click opening the file, and the settings form showing
the agent, verifier and disk fields instead of the per-answer time limit."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt

from app.ui.workspace.document_tab import FORM, TEXT
from app.ui.workspace.file_tree import NEW_FILE_ROLE, PATH_ROLE


def rows(tree, parent: QModelIndex | None = None) -> list[str]:
    model = tree.model()
    parent = parent or QModelIndex()
    return [model.index(r, 0, parent).data() for r in range(model.rowCount(parent))]


def child(tree, parent: QModelIndex, text: str) -> QModelIndex:
    model = tree.model()
    for r in range(model.rowCount(parent)):
        index = model.index(r, 0, parent)
        if index.data().startswith(text):
            return index
    raise AssertionError(f"no row {text!r} under {parent.data()!r}: {rows(tree, parent)}")


def test_tasks_show_as_a_tree_of_tasks_with_grouped_files(agentic_workspace):
    tree = agentic_workspace.tree
    top = rows(tree)
    assert top[0] == "Tasks (2)"
    assert "tasks/" not in top  # no plain folder listing of tasks/
    assert "Settings" in top and "environment/" in top
    tasks = child(tree, QModelIndex(), "Tasks")
    assert rows(tree, tasks) == [
        "qc-report — Reconcile two plate readers into a QC report",
        "qc-summary — Summarise the QC of two plate readers",
    ]
    report = child(tree, tasks, "qc-report")
    assert tree.isFirstColumnSpanned(report.row(), tasks)  # a long heading is elided, not cut
    assert tree.isExpanded(tasks) and tree.isExpanded(report)
    assert rows(tree, report) == ["Instruction", "Solution", "Tests", "Negatives"]
    instruction = child(tree, report, "Instruction")
    assert instruction.data(PATH_ROLE) == "tasks/qc-report/instruction.md"
    tests = child(tree, report, "Tests")
    assert tests.data(PATH_ROLE) is None
    assert tests.data(NEW_FILE_ROLE) == "tasks/qc-report/tests"  # "New file…" on it goes there
    assert rows(tree, tests) == ["check_output.py", "expected_report.csv", "test.sh"]
    assert rows(tree, child(tree, report, "Negatives")) == [
        "case-sensitive-join.sh",
        "header-only.sh",
        "unrounded.sh",
    ]


def test_the_first_task_and_the_settings_open_and_a_click_opens_a_file(agentic_workspace, qtbot):
    view = agentic_workspace
    assert view.open_tabs() == ["tasks/qc-report/instruction.md", "env.toml"]
    assert view.current_tab().relpath == "tasks/qc-report/instruction.md"
    assert view.tab("env.toml").mode == FORM
    title = view.tabs.tabText(view.tabs.indexOf(view.tab("tasks/qc-report/instruction.md")))
    assert title == "qc-report: instruction.md"
    tree = view.tree
    summary = child(tree, child(tree, QModelIndex(), "Tasks"), "qc-summary")
    solution = child(tree, summary, "Solution")
    tree.expand(solution)
    solve = child(tree, solution, "solve.sh")
    tree.scrollTo(solve)
    qtbot.mouseClick(
        tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualRect(solve).center()
    )
    tab = view.current_tab()
    assert tab.relpath == "tasks/qc-summary/solution/solve.sh" and tab.mode == TEXT
    assert "#!" in tab.text()


def test_a_new_task_folder_appears_in_the_tree(agentic_workspace, agentic_pack, qtbot):
    view = agentic_workspace
    view.create_file("tasks/zz-new/instruction.md")
    tasks = child(view.tree, QModelIndex(), "Tasks")
    assert rows(view.tree, tasks)[-1] == "zz-new"  # no heading yet: the id alone
    assert child(view.tree, QModelIndex(), "Tasks").data() == "Tasks (3)"


def test_a_qa_package_keeps_the_plain_file_list(workspace):
    top = rows(workspace.tree)
    assert not any(row.startswith("Tasks (") for row in top)
    assert "Tasks" in top  # tasks.jsonl, labelled by its role


def test_settings_form_shows_agent_fields_for_an_agentic_package(agentic_workspace):
    form = agentic_workspace.tab("env.toml").form
    assert not form.is_field_shown("grader.timeout_s")  # a per-answer limit means nothing here
    for key in ("agent.timeout_s", "agent.network", "verifier.timeout_s", "verifier.mode"):
        assert form.is_field_shown(key), key
    assert form.is_field_shown("sandbox.disk_mb")
    assert not form.is_field_shown("tasks.path")  # agentic tasks are folders, not a file
    assert not form.is_field_shown("agent.hosts")  # only with network = "allowlist"
    assert form.value("verifier.timeout_s") == 60
    form.set_value("agent.network", "allowlist")
    assert form.is_field_shown("agent.hosts")
    assert 'network = "allowlist"' in form.text()


def test_settings_form_keeps_the_time_limit_for_a_qa_package(workspace):
    form = workspace.tab("env.toml").form
    assert form.is_field_shown("grader.timeout_s")
    for key in ("agent.timeout_s", "verifier.mode", "sandbox.disk_mb"):
        assert not form.is_field_shown(key), key


def test_a_task_with_a_problem_in_one_of_its_files_is_marked(agentic_workspace, qtbot):
    view = agentic_workspace
    view.create_file("tasks/qc-summary/negatives/notes.txt")  # not a <name>.sh: GX184
    view.lint_now()
    qtbot.waitUntil(
        lambda: any(f.code == "GX184" for f in view.findings()) and not view.is_linting(),
        timeout=20_000,
    )
    tasks = child(view.tree, QModelIndex(), "Tasks")
    assert rows(view.tree, tasks)[0].startswith("qc-report")  # untouched
    marked = rows(view.tree, tasks)[1]
    assert marked[:2] in ("● ", "▲ ") and "qc-summary" in marked
