"""The settings form: writes back preserving comments, shows only relevant fields, undoes."""

from __future__ import annotations

import pytest

from app.errors import UserError
from app.findings import Finding, Severity, Stage
from app.ui.workspace.manifest_form import ManifestForm

MANIFEST = """\
# My environment — keep this comment
schema = "gauntlet/1"
kind = "qa"

[package]
name = "lab/kinetics"   # owner/name
version = "0.1.0"
title = "Kinetics"

[grader]
type = "match"
mode = "numeric"        # numbers only
tolerance = 1e-3        # relative
reward_range = [0.0, 1.0]
pass_threshold = 1.0

[sandbox]
memory_mb = 512
"""


@pytest.fixture
def form(qtbot):
    widget = ManifestForm()
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    qtbot.waitExposed(widget)
    widget.load_text(MANIFEST)
    return widget


def test_edits_write_back_keeping_comments_and_layout(form, qtbot):
    form.field_widget("package.title").setFocus()
    qtbot.keyClicks(form.field_widget("package.title"), " of enzymes")
    form.field_widget("sandbox.memory_mb").setValue(1024)
    form.field_widget("grader.tolerance").setText("")
    qtbot.keyClicks(form.field_widget("grader.tolerance"), "0.01")
    text = form.text()
    assert 'title = "Kinetics of enzymes"' in text
    assert "memory_mb = 1024" in text
    assert "tolerance = 0.01        # relative" in text  # the comment on the line survives
    assert text.startswith("# My environment — keep this comment\n")
    assert 'mode = "numeric"        # numbers only' in text
    # nothing else moved: only the three edited lines differ
    changed = [
        (a, b) for a, b in zip(MANIFEST.splitlines(), text.splitlines(), strict=True) if a != b
    ]
    assert len(changed) == 3


def test_fields_appear_only_when_relevant(form):
    assert form.is_field_shown("grader.mode") and form.is_field_shown("grader.tolerance")
    assert not form.is_field_shown("grader.entry") and not form.is_field_shown("grader.model")
    form.set_value("grader.mode", "exact")
    assert not form.is_field_shown("grader.tolerance") and form.is_field_shown("grader.normalize")
    form.set_value("grader.type", "judge")
    assert form.is_field_shown("grader.model") and form.is_field_shown("grader.rubric")
    assert not form.is_field_shown("grader.mode")
    form.set_value("grader.type", "python")
    assert form.is_field_shown("grader.entry") and not form.is_field_shown("grader.model")


def test_choice_shows_plain_explanation(form):
    combo = form.field_widget("grader.type")
    assert "compare with the answer" in combo.currentText()
    form.set_value("grader.type", "python")
    assert form.field_widget("grader.type").currentData() == "python"


def test_undo_redo_gives_back_the_exact_text(form, qtbot):
    form.set_value("grader.tolerance", 0.05)
    form.set_value("grader.type", "python")
    form.set_value("package.tags", ["biology", "kinetics"])
    assert 'tags = ["biology", "kinetics"]' in form.text()
    after = form.text()
    for _ in range(3):
        form.undo_stack.undo()
    assert form.text() == MANIFEST  # 1e-3 comes back spelled as the author wrote it
    assert form.field_widget("grader.tolerance").text() == "0.001"
    for _ in range(3):
        form.undo_stack.redo()
    assert form.text() == after


def test_typing_in_one_field_is_one_undo_step(form, qtbot):
    edit = form.field_widget("package.title")
    edit.setFocus()
    qtbot.keyClicks(edit, " XYZ")
    assert form.undo_stack.count() == 1
    form.undo_stack.undo()
    assert form.text() == MANIFEST and edit.text() == "Kinetics"


def test_invalid_toml_is_refused_with_a_clear_error(form):
    with pytest.raises(UserError) as caught:
        form.replace_text('schema = "gauntlet/1"\n[grader\n')
    assert "not valid TOML" in caught.value.message
    assert form.text() == MANIFEST


def test_findings_show_under_their_field(form):
    line = MANIFEST.splitlines().index('mode = "numeric"        # numbers only') + 1
    finding = Finding(
        "GX105",
        Severity.ERROR,
        Stage.STRUCTURE,
        'grader.mode cannot be "numbr"',
        "Choose numeric.",
        file="env.toml",
        line=line,
        column=8,
    )
    loose = Finding(
        "GX102",
        Severity.ERROR,
        Stage.STRUCTURE,
        "Unsupported schema",
        "",
        file="env.toml",
        line=None,
    )
    form.set_findings([finding, loose])
    assert "cannot be" in form.field_error("grader.mode")
    assert not form.field_error("grader.type")
    assert "Unsupported schema" in form.problems_label.text() and form.problems_label.isVisible()
    assert form.focus_line(line)
