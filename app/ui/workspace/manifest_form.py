"""env.toml as a form: every setting with a plain explanation, written back without touching
the author's comments (through `app.envpack.manifest_edit.ManifestDocument`).

Fields that only matter for some graders (the match mode, the numeric tolerance, the python
entry point, the judge model...) appear only when they apply. Every change is a QUndoCommand;
consecutive keystrokes in one field merge into one undo step.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.envpack.manifest_edit import ManifestDocument
from app.envpack.model import (
    GRADER_TYPES,
    KINDS,
    MATCH_MODES,
    NORMALIZATIONS,
    GraderSpec,
    SandboxSpec,
)
from app.envpack.toml_locations import key_spans
from app.findings import Finding, Severity

_DEFAULT_GRADER = GraderSpec()
_DEFAULT_SANDBOX = SandboxSpec()

KIND_HELP = {
    "qa": "The model answers in text (a number, a word, a choice, a paragraph).",
    "code": "The model answers with program code, which is run against the task's test cases.",
}
GRADER_HELP = {
    "match": 'Compare the response with each task\'s "answer" — no code to write.',
    "python": "Your own grade(task, response) function in a Python file decides the score.",
    "judge": "An AI model scores the response following your rubric (needs an API key).",
    "tests": "Run the submitted code against each task's test cases (for kind = code).",
}
MODE_HELP = {
    "exact": "The response must equal the answer (after the normalisations below).",
    "numeric": "The response must be a number close to the answer (see tolerance).",
    "choice": 'The response must name the right option among the task\'s "choices".',
    "regex": "The task's answer is a regular expression the whole response must match.",
    "set": "A list of items in any order must match the answer's items.",
    "json": "The response must be JSON equal to the answer (key order does not matter).",
}
NORMALIZE_HELP = {
    "case": "ignore upper/lower case",
    "whitespace": "ignore extra spaces and line breaks",
    "unicode": "treat look-alike characters the same (NFKC)",
    "punctuation": "ignore punctuation",
}
CHOICE_LABELS = {
    "kind": {"qa": "qa — a text answer", "code": "code — a program"},
    "grader.type": {
        "match": "match — compare with the answer",
        "python": "python — my own grading function",
        "judge": "judge — an AI model with my rubric",
        "tests": "tests — run the code against test cases",
    },
    "grader.mode": {
        "exact": "exact — same text",
        "numeric": "numeric — a number within a tolerance",
        "choice": "choice — one of the options",
        "regex": "regex — matches a pattern",
        "set": "set — the same items in any order",
        "json": "json — the same JSON value",
    },
}
LABEL_WIDTH = 190
NUMBER_WIDTH = 180  # numbers are short; a full-width box reads like a text field
MAX_FORM_WIDTH = 880
COMMON_LICENSES = ["CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "MIT", "Apache-2.0"]


@dataclass
class FieldSpec:
    key: str
    label: str
    kind: str  # text | multiline | choice | float | int | list | range | flags | license
    help: str = ""
    choices: tuple[str, ...] = ()
    choice_help: dict[str, str] = field(default_factory=dict)
    default: Any = None
    minimum: float = 0.0
    maximum: float = 1e9
    decimals: int = 2
    shown: Callable[[ManifestDocument], bool] = lambda doc: True


def _grader(doc: ManifestDocument) -> str:
    return str(doc.get("grader.type", _DEFAULT_GRADER.type))


def _mode(doc: ManifestDocument) -> str:
    return str(doc.get("grader.mode", _DEFAULT_GRADER.mode))


SECTIONS: list[tuple[str, str, list[FieldSpec]]] = [
    (
        "What the model must do",
        "",
        [
            FieldSpec(
                "kind",
                "Kind of answer",
                "choice",
                choices=KINDS,
                choice_help=KIND_HELP,
                default="qa",
            ),
        ],
    ),
    (
        "How answers are graded",
        (
            "The grader turns a response into a reward. "
            "It must give full marks to the reference answers and nothing to wrong ones."
        ),
        [
            FieldSpec(
                "grader.type",
                "Grader",
                "choice",
                choices=GRADER_TYPES,
                choice_help=GRADER_HELP,
                default=_DEFAULT_GRADER.type,
            ),
            FieldSpec(
                "grader.mode",
                "Comparison",
                "choice",
                choices=MATCH_MODES,
                choice_help=MODE_HELP,
                default=_DEFAULT_GRADER.mode,
                shown=lambda d: _grader(d) == "match",
            ),
            FieldSpec(
                "grader.tolerance",
                "Tolerance (relative)",
                "float",
                (
                    "How far a number may be from the answer, as a fraction of it: "
                    "0.001 accepts 50.04 for 50, not 50.1."
                ),
                default=_DEFAULT_GRADER.tolerance,
                maximum=1.0,
                decimals=9,
                shown=lambda d: _grader(d) == "match" and _mode(d) == "numeric",
            ),
            FieldSpec(
                "grader.normalize",
                "Before comparing",
                "flags",
                choices=tuple(NORMALIZATIONS),
                choice_help=NORMALIZE_HELP,
                default=list(_DEFAULT_GRADER.normalize),
                shown=lambda d: _grader(d) == "match" and _mode(d) in ("exact", "choice", "set"),
            ),
            FieldSpec(
                "grader.entry",
                "Grader function",
                "text",
                (
                    "file.py:function, e.g. grader.py:grade. "
                    "It receives the task and the response and returns a reward."
                ),
                default=_DEFAULT_GRADER.entry,
                shown=lambda d: _grader(d) == "python",
            ),
            FieldSpec(
                "grader.model",
                "Judge model",
                "text",
                (
                    "Any model name LiteLLM understands, e.g. "
                    "openai/gpt-4o-mini. Set its key in Settings."
                ),
                default=_DEFAULT_GRADER.model,
                shown=lambda d: _grader(d) == "judge",
            ),
            FieldSpec(
                "grader.rubric",
                "Rubric file",
                "text",
                "The Markdown file that tells the judge how to score.",
                default=_DEFAULT_GRADER.rubric,
                shown=lambda d: _grader(d) == "judge",
            ),
            FieldSpec(
                "grader.reward_range",
                "Reward range",
                "range",
                "Lowest and highest reward. Wrong answers must get the lowest.",
                default=list(_DEFAULT_GRADER.reward_range),
                minimum=-1e6,
                maximum=1e6,
            ),
            FieldSpec(
                "grader.pass_threshold",
                "Pass threshold",
                "float",
                (
                    "A response scoring at least this counts as solved. "
                    "Every reference answer must reach it."
                ),
                default=_DEFAULT_GRADER.pass_threshold,
                minimum=-1e6,
                maximum=1e6,
                decimals=3,
            ),
            FieldSpec(
                "grader.timeout_s",
                "Time limit per answer (s)",
                "float",
                "Grading one response longer than this counts as a failure.",
                default=_DEFAULT_GRADER.timeout_s,
                minimum=0.1,
                maximum=3600,
                decimals=1,
            ),
        ],
    ),
    (
        "About this environment",
        "Shown to reviewers and on the platform.",
        [
            FieldSpec(
                "package.title",
                "Title",
                "text",
                "A short human title, e.g. \u201cEnzyme kinetics calculations\u201d.",
            ),
            FieldSpec(
                "package.name",
                "Package name",
                "text",
                (
                    "owner/name in lower case, e.g. \u201cacme/enzyme-kinetics\u201d. "
                    "It identifies the package on the platform."
                ),
            ),
            FieldSpec(
                "package.version",
                "Version",
                "text",
                "Three numbers, e.g. 0.1.0. Raise it when you resubmit.",
            ),
            FieldSpec(
                "package.description",
                "Description",
                "multiline",
                "What the environment teaches and what a good answer looks like.",
            ),
            FieldSpec(
                "package.authors",
                "Authors",
                "list",
                "Comma-separated, e.g. Ada Lovelace <ada@example.org>.",
            ),
            FieldSpec(
                "package.license",
                "License",
                "license",
                "Under which terms labs may use your tasks.",
            ),
            FieldSpec(
                "package.tags", "Tags", "list", "Comma-separated keywords, e.g. biology, kinetics."
            ),
            FieldSpec(
                "package.bounty",
                "Bounty",
                "text",
                "The bounty this environment answers (filled in when you start from a bounty).",
            ),
        ],
    ),
    (
        "Files",
        "Where the tasks and example answers live, relative to this folder.",
        [
            FieldSpec(
                "tasks.path",
                "Tasks",
                "text",
                "One task per line (JSON Lines).",
                default="tasks.jsonl",
            ),
            FieldSpec(
                "solutions.path",
                "Reference answers",
                "text",
                "Correct answers that must get full marks.",
                default="solutions.jsonl",
            ),
            FieldSpec(
                "negatives.path",
                "Known-wrong answers",
                "text",
                "Wrong answers that must get the lowest reward.",
                default="negatives.jsonl",
            ),
        ],
    ),
    (
        "Sandbox",
        "Graders run in an isolated container with no network access.",
        [
            FieldSpec(
                "sandbox.cpus",
                "CPUs",
                "float",
                "Processor cores the grader may use.",
                default=_DEFAULT_SANDBOX.cpus,
                minimum=0.1,
                maximum=64,
                decimals=1,
            ),
            FieldSpec(
                "sandbox.memory_mb",
                "Memory (MB)",
                "int",
                "Memory limit; a grader that needs more is stopped.",
                default=_DEFAULT_SANDBOX.memory_mb,
                minimum=64,
                maximum=65536,
            ),
            FieldSpec(
                "sandbox.image",
                "Container image",
                "text",
                "Leave empty for the app's standard Python image.",
                default="",
            ),
        ],
    ),
]
ALL_FIELDS = {spec.key: spec for _, _, specs in SECTIONS for spec in specs}


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
        self._updating = False

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
            column.addWidget(box)
        column.addStretch(1)
        self.setWidget(outer)
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

    def _field_cell(self, spec: FieldSpec) -> QWidget:
        cell = QWidget()
        layout = QVBoxLayout(cell)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        widget = self._make_widget(spec)
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

    def _make_widget(self, spec: FieldSpec) -> QWidget:
        key = spec.key
        if spec.kind in ("text", "list"):
            edit = QLineEdit()
            if spec.default not in (None, "") and spec.kind == "text":
                edit.setPlaceholderText(str(spec.default))
            edit.textEdited.connect(
                lambda text, k=key, s=spec: self._edited(k, _from_text(s, text))
            )
            return edit
        if spec.kind == "multiline":
            edit = QPlainTextEdit()
            edit.setTabChangesFocus(True)
            edit.setFixedHeight(edit.fontMetrics().lineSpacing() * 4 + 12)
            edit.textChanged.connect(lambda k=key, e=edit: self._edited(k, e.toPlainText()))
            return edit
        if spec.kind == "license":
            combo = QComboBox()
            combo.setEditable(True)
            combo.addItems(COMMON_LICENSES)
            combo.lineEdit().textEdited.connect(lambda text, k=key: self._edited(k, text.strip()))
            combo.activated.connect(
                lambda _i, k=key, c=combo: self._edited(k, c.currentText().strip())
            )
            return combo
        if spec.kind == "choice":
            combo = QComboBox()
            for choice in spec.choices:
                combo.addItem(CHOICE_LABELS.get(key, {}).get(choice, choice), choice)
            combo.activated.connect(lambda _i, k=key, c=combo: self._edited(k, c.currentData()))
            return combo
        if spec.kind == "float":
            if spec.decimals > 6:  # tiny tolerances read best as text (1e-6)
                edit = QLineEdit()
                edit.setMaximumWidth(NUMBER_WIDTH)
                edit.setPlaceholderText(_format_number(spec.default))
                edit.textEdited.connect(lambda text, k=key: self._edited_number(k, text))
                return edit
            box = QDoubleSpinBox()
            box.setMaximumWidth(NUMBER_WIDTH)
            box.setRange(spec.minimum, spec.maximum)
            box.setDecimals(spec.decimals)
            box.setKeyboardTracking(False)
            box.valueChanged.connect(lambda value, k=key: self._edited(k, _tidy_float(value)))
            return box
        if spec.kind == "int":
            box = QSpinBox()
            box.setMaximumWidth(NUMBER_WIDTH)
            box.setRange(int(spec.minimum), int(spec.maximum))
            box.setKeyboardTracking(False)
            box.valueChanged.connect(lambda value, k=key: self._edited(k, int(value)))
            return box
        if spec.kind == "range":
            holder = QWidget()
            row = QHBoxLayout(holder)
            row.setContentsMargins(0, 0, 0, 0)
            low, high = QDoubleSpinBox(), QDoubleSpinBox()
            for box in (low, high):
                box.setRange(spec.minimum, spec.maximum)
                box.setDecimals(3)
                box.setKeyboardTracking(False)
                box.valueChanged.connect(
                    lambda _v, k=key, a=low, b=high: self._edited(
                        k, [_tidy_float(a.value()), _tidy_float(b.value())]
                    )
                )
            row.addWidget(QLabel("from"))
            row.addWidget(low)
            row.addWidget(QLabel("to"))
            row.addWidget(high)
            row.addStretch(1)
            holder.low, holder.high = low, high  # type: ignore[attr-defined]
            return holder
        if spec.kind == "flags":
            holder = QWidget()
            row = QHBoxLayout(holder)
            row.setContentsMargins(0, 0, 0, 0)
            boxes = {}
            for choice in spec.choices:
                box = QCheckBox(choice)
                box.setToolTip(spec.choice_help.get(choice, ""))
                boxes[choice] = box
                row.addWidget(box)
                box.toggled.connect(
                    lambda _c, k=key, b=boxes: self._edited(
                        k, [n for n, x in b.items() if x.isChecked()]
                    )
                )
            row.addStretch(1)
            holder.boxes = boxes  # type: ignore[attr-defined]
            return holder
        raise ValueError(spec.kind)

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
                _show_value(self._widgets[key], spec, value)
                if spec.kind == "choice":
                    help_text = spec.choice_help.get(str(value), "")
                    self._choice_help[key].setText(help_text)
                label, cell = self._rows[key]
                visible = spec.shown(self._doc)
                label.setVisible(visible)
                cell.setVisible(visible)
        finally:
            self._updating = False


def _show_value(widget: QWidget, spec: FieldSpec, value: Any) -> None:
    if spec.kind in ("text", "list"):
        text = (
            ", ".join(str(v) for v in value)
            if isinstance(value, list)
            else ("" if value is None else str(value))
        )
        if (
            spec.kind == "list"
            and isinstance(widget, QLineEdit)
            and _from_text(spec, widget.text()) == (value or [])
        ):
            return  # keep what the user is typing ("a, " is still ["a"])
        if widget.text() != text:
            widget.setText(text)
    elif spec.kind == "multiline":
        text = "" if value is None else str(value)
        if widget.toPlainText() != text:
            widget.setPlainText(text)
    elif spec.kind == "license":
        text = "" if value is None else str(value)
        if widget.currentText() != text:
            widget.setEditText(text)
    elif spec.kind == "choice":
        index = widget.findData(value)
        if index < 0 and value is not None:
            widget.addItem(f"{value} (not valid)", value)
            index = widget.count() - 1
        widget.setCurrentIndex(index)
    elif spec.kind == "float" and isinstance(widget, QLineEdit):
        try:
            same = float(widget.text()) == float(value)
        except (TypeError, ValueError):
            same = False
        if not same:
            widget.setText(_format_number(value))
    elif spec.kind in ("float", "int"):
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and widget.value() != value
        ):
            widget.setValue(value)
    elif spec.kind == "range":
        if isinstance(value, list) and len(value) == 2:
            widget.low.setValue(float(value[0]))
            widget.high.setValue(float(value[1]))
    elif spec.kind == "flags":
        chosen = set(value or [])
        for name, box in widget.boxes.items():
            box.setChecked(name in chosen)


def _from_text(spec: FieldSpec, text: str) -> Any:
    if spec.kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def _tidy_float(value: float) -> float | int:
    """1.0 stays 1.0, but spin-box noise like 0.30000000000000004 is rounded away."""
    return round(value, 9)


def _format_number(value: Any) -> str:
    if isinstance(value, float) and value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
        return f"{value:g}"
    return "" if value is None else str(value)


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
