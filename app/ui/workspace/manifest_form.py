"""env.toml as a form: every setting with a plain explanation, written back without touching
the author's comments (through `app.envpack.manifest_edit.ManifestDocument`).

Fields that only matter for some graders (the match mode, the numeric tolerance, the python
entry point, the judge model...) appear only when they apply. Every change is a QUndoCommand;
consecutive keystrokes in one field merge into one undo step. What the fields are lives in
`manifest_fields`, their input widgets in `manifest_widgets`.
"""

from __future__ import annotations

import html
import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.envpack.manifest_edit import ManifestDocument
from app.envpack.toml_locations import key_spans
from app.findings import Finding, Severity
from app.ui.workspace.manifest_fields import ALL_FIELDS, SECTIONS, FieldSpec
from app.ui.workspace.manifest_widgets import make_field_widget, show_value

LABEL_WIDTH = 190
MAX_FORM_WIDTH = 880


class _SetValue(QUndoCommand):
    """Set (or remove, with value None) one manifest key; typing in one field merges.

    Undo restores the exact previous text (not a re-serialised value), so undoing a change
    gives back the author's own spelling, e.g. `1e-3` rather than `0.001`.
    """

    ID = 4242

    def __init__(self, form: ManifestForm, key: str, value: Any) -> None:
        super().__init__(f"Change {ALL_FIELDS[key].label if key in ALL_FIELDS else key}")
        self.form, self.key, self.value = form, key, value
        self.before = form.text()
        self.after: str | None = None

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802
        kind = ALL_FIELDS[self.key].kind if self.key in ALL_FIELDS else ""
        if (
            not isinstance(other, _SetValue)
            or other.key != self.key
            or kind not in ("text", "multiline", "list", "license", "float")
        ):
            return False
        self.after = other.after
        return True

    def redo(self) -> None:
        if self.after is None:
            self.form._apply(self.key, self.value, remove=self.value is None)
            self.after = self.form.text()
        else:
            self.form._set_document(ManifestDocument.parse(self.after))

    def undo(self) -> None:
        self.form._set_document(ManifestDocument.parse(self.before))


class _ReplaceDocument(QUndoCommand):
    """The manifest was edited as text (or reloaded): one step back to the previous form."""

    def __init__(self, form: ManifestForm, old: str, new: str, label: str) -> None:
        super().__init__(label)
        self.form, self.old, self.new = form, old, new

    def redo(self) -> None:
        self.form._set_document(ManifestDocument.parse(self.new))

    def undo(self) -> None:
        self.form._set_document(ManifestDocument.parse(self.old))


class ManifestForm(QScrollArea):
    changed = Signal()  # the manifest text changed through the form (edit, undo, redo)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("manifestForm")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.undo_stack = QUndoStack(self)
        self._doc: ManifestDocument | None = None
        self._widgets: dict[str, QWidget] = {}
        self._rows: dict[str, tuple[QWidget, QWidget]] = {}
        self._errors: dict[str, QLabel] = {}
        self._choice_help: dict[str, QLabel] = {}
        self._sections: list[tuple[QGroupBox, list[str]]] = []  # each box and its fields' keys
        self._updating = False

        self.setWidget(self._build_body())
        self._add_undo_shortcuts()

    # -- public -------------------------------------------------------------------------

    def load_text(self, text: str) -> None:
        """Show `text` (raises UserError when it is not valid TOML). Clears undo history."""
        self._set_document(ManifestDocument.parse(text))
        self.undo_stack.clear()

    def replace_text(self, text: str, label: str = "Edit as text") -> None:
        """Take `text` (from the text view or a reload) as one undoable step."""
        ManifestDocument.parse(text)  # validate first: raises UserError
        old = self.text()
        if old != text:
            self.undo_stack.push(_ReplaceDocument(self, old, text, label))

    def text(self) -> str:
        return self._doc.text() if self._doc is not None else ""

    def value(self, key: str) -> Any:
        return self._doc.get(key) if self._doc is not None else None

    def field_widget(self, key: str) -> QWidget:
        return self._widgets[key]

    def is_field_shown(self, key: str) -> bool:
        return not self._rows[key][1].isHidden()

    def field_error(self, key: str) -> str:
        label = self._errors[key]
        return "" if label.isHidden() else label.text()

    def set_value(self, key: str, value: Any) -> None:
        """Change a setting as if the user had edited its field (one undo step)."""
        if self._doc is None:
            return
        present = self._doc.has(key)
        if (present and self._doc.get(key) == value) or (not present and value is None):
            return
        self.undo_stack.push(_SetValue(self, key, value))

    def focus_line(self, line: int) -> bool:
        """Scroll to and focus the field written on `line` of env.toml; False if none shows."""
        key = _key_for_line(key_spans(self.text()), line)
        if key not in self._rows or not self.is_field_shown(key):
            return False
        self.ensureWidgetVisible(self._rows[key][1], 50, 80)
        self._widgets[key].setFocus()
        return True

    def set_findings(self, findings: list[Finding]) -> None:
        """Show each env.toml finding under the field it is about (others at the top)."""
        for label in self._errors.values():
            label.hide()
        spans = key_spans(self.text())
        loose = []
        by_key: dict[str, list[Finding]] = {}
        for finding in findings:
            key = _key_for_line(spans, finding.line) if finding.line else None
            target = key if key in self._errors else None
            if target is None and key:
                target = next(
                    (k for k in self._errors if k.startswith(key + ".") or key.startswith(k)), None
                )
            if target is not None and self.is_field_shown(target):
                by_key.setdefault(target, []).append(finding)
            else:
                loose.append(finding)
        for key, items in by_key.items():
            label = self._errors[key]
            label.setText("<br>".join(_finding_html(f) for f in items))
            label.show()
        if loose:
            self.problems_label.setText(
                "<b>Problems in the settings file</b><br>"
                + "<br>".join(_finding_html(f) for f in loose)
            )
        self.problems_label.setVisible(bool(loose))

    # -- building -----------------------------------------------------------------------
    # -- building -----------------------------------------------------------------------

    def _build_body(self) -> QWidget:
        """The sections in a column of readable width, the problems line above them."""
        outer = QWidget()
        centre = QHBoxLayout(outer)
        centre.setContentsMargins(0, 0, 0, 0)
        body = QWidget()
        body.setObjectName("manifestFormBody")
        body.setMaximumWidth(MAX_FORM_WIDTH)
        # Help lines are quieter than the values they explain.
        body.setStyleSheet(
            "QLabel#fieldHelp, QLabel#formSectionHelp { color: palette(placeholder-text); }"
        )
        centre.addWidget(body, 1)
        centre.addStretch(0)
        column = QVBoxLayout(body)
        column.setContentsMargins(16, 12, 16, 16)
        column.setSpacing(14)
        self.problems_label = QLabel()
        self.problems_label.setObjectName("formProblems")
        self.problems_label.setWordWrap(True)
        self.problems_label.setTextFormat(Qt.TextFormat.RichText)
        self.problems_label.hide()
        column.addWidget(self.problems_label)
        for title, blurb, specs in SECTIONS:
            column.addWidget(self._build_section(title, blurb, specs))
        column.addStretch(1)
        return outer

    def _build_section(self, title: str, blurb: str, specs: list[FieldSpec]) -> QGroupBox:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setVerticalSpacing(10)
        if blurb:
            intro = QLabel(blurb)
            intro.setWordWrap(True)
            intro.setObjectName("formSectionHelp")
            form.addRow(intro)
        for spec in specs:
            label = QLabel(spec.label + ":")
            label.setToolTip(f"{spec.key} in env.toml")
            label.setMinimumWidth(LABEL_WIDTH)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            cell = self._field_cell(spec)
            form.addRow(label, cell)
            self._rows[spec.key] = (label, cell)
        self._sections.append((box, [spec.key for spec in specs]))
        return box

    def _add_undo_shortcuts(self) -> None:
        # Ctrl+Z / Ctrl+Shift+Z on combo boxes and spin boxes; a focused text field keeps
        # its own keystroke-level undo (Qt gives it the shortcut first).
        for sequence, slot in (
            (QKeySequence.StandardKey.Undo, self.undo_stack.undo),
            (QKeySequence.StandardKey.Redo, self.undo_stack.redo),
        ):
            action = QAction(self)
            action.setShortcut(QKeySequence(sequence))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            self.addAction(action)

    def _field_cell(self, spec: FieldSpec) -> QWidget:
        cell = QWidget()
        layout = QVBoxLayout(cell)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        widget = make_field_widget(spec, self._edited, self._edited_number)
        self._widgets[spec.key] = widget
        layout.addWidget(widget)
        help_label = QLabel(spec.help)
        help_label.setWordWrap(True)
        help_label.setObjectName("fieldHelp")
        help_label.setVisible(bool(spec.help) or spec.kind == "choice")
        if spec.kind == "choice":
            self._choice_help[spec.key] = help_label
        layout.addWidget(help_label)
        error = QLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.setTextFormat(Qt.TextFormat.RichText)
        error.hide()
        self._errors[spec.key] = error
        layout.addWidget(error)
        return cell

    # -- edits --------------------------------------------------------------------------

    def _edited(self, key: str, value: Any) -> None:
        if self._updating or self._doc is None:
            return
        self.set_value(key, value)

    def _edited_number(self, key: str, text: str) -> None:
        if self._updating:
            return
        try:
            value = float(text.strip())
        except ValueError:
            self._errors[key].setText("Type a number, e.g. 0.001 or 1e-6.")
            self._errors[key].show()
            return
        if not math.isfinite(value):
            return
        self._errors[key].hide()
        self._edited(key, value)

    def _apply(self, key: str, value: Any, remove: bool) -> None:
        """Called by undo commands: change the document and refresh the fields."""
        assert self._doc is not None
        if remove:
            self._doc.remove(key)
        else:
            self._doc.set(key, value)
        self._refresh()
        self.changed.emit()

    def _set_document(self, doc: ManifestDocument) -> None:
        self._doc = doc
        self._refresh()
        self.changed.emit()

    def _refresh(self) -> None:
        """Put the document's values into the widgets (only those that differ) and show the
        fields that apply to the chosen grader."""
        if self._doc is None:
            return
        self._updating = True
        try:
            for key, spec in ALL_FIELDS.items():
                value = self._doc.get(key, spec.default)
                show_value(self._widgets[key], spec, value)
                if spec.kind == "choice":
                    help_text = spec.choice_help.get(str(value), "")
                    self._choice_help[key].setText(help_text)
                label, cell = self._rows[key]
                visible = spec.shown(self._doc)
                label.setVisible(visible)
                cell.setVisible(visible)
            for box, keys in self._sections:  # no empty boxes (e.g. "Files" when agentic)
                box.setVisible(any(self.is_field_shown(key) for key in keys))
        finally:
            self._updating = False


def _key_for_line(spans: dict, line: int) -> str | None:
    best = None
    for key, span in spans.items():
        if span.line is None:
            continue
        end = span.end_line or span.line
        if span.line <= line <= end and (best is None or len(key) > len(best)):
            best = key
    return best


def _finding_html(finding: Finding) -> str:
    colour = "#c62828" if finding.severity == Severity.ERROR else "#b26a00"
    text = f"<span style='color:{colour}'>{html.escape(finding.message)}</span>"
    if finding.hint:
        text += f" <span style='color:gray'>{html.escape(finding.hint)}</span>"
    return text
