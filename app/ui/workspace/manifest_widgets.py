"""The input widget for each kind of env.toml field (a line, a choice, a number, a range, a set
of flags...), and how a manifest value is put back into it.

A widget reports an edit as (key, value) through the callback it was built with; it never
touches the document itself, so that the form can turn every edit into one undo step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from app.ui.workspace.manifest_fields import CHOICE_LABELS, COMMON_LICENSES, FieldSpec

NUMBER_WIDTH = 180  # numbers are short; a full-width box reads like a text field

OnEdit = Callable[[str, Any], None]  # (key, new value)
OnNumberText = Callable[[str, str], None]  # (key, text typed for a number, not yet checked)


def make_field_widget(spec: FieldSpec, on_edit: OnEdit, on_number_text: OnNumberText) -> QWidget:
    """The input for `spec`, reporting every user edit through the callbacks."""
    if spec.kind == "float" and spec.decimals > 6:  # tiny tolerances read best as text (1e-6)
        return _number_as_text(spec, on_number_text)
    builder = _BUILDERS.get(spec.kind)
    if builder is None:
        raise ValueError(spec.kind)
    return builder(spec, on_edit)


def _line(spec: FieldSpec, on_edit: OnEdit) -> QWidget:
    key = spec.key
    edit = QLineEdit()
    if spec.default not in (None, "") and spec.kind == "text":
        edit.setPlaceholderText(str(spec.default))
    edit.textEdited.connect(lambda text, k=key, s=spec: on_edit(k, _from_text(s, text)))
    return edit


def _multiline(spec: FieldSpec, on_edit: OnEdit) -> QWidget:
    edit = QPlainTextEdit()
    edit.setTabChangesFocus(True)
    edit.setFixedHeight(edit.fontMetrics().lineSpacing() * 4 + 12)
    edit.textChanged.connect(lambda k=spec.key, e=edit: on_edit(k, e.toPlainText()))
    return edit


def _license(spec: FieldSpec, on_edit: OnEdit) -> QWidget:
    key = spec.key
    combo = QComboBox()
    combo.setEditable(True)
    combo.addItems(COMMON_LICENSES)
    combo.lineEdit().textEdited.connect(lambda text, k=key: on_edit(k, text.strip()))
    combo.activated.connect(lambda _i, k=key, c=combo: on_edit(k, c.currentText().strip()))
    return combo


def _choice(spec: FieldSpec, on_edit: OnEdit) -> QWidget:
    key = spec.key
    combo = QComboBox()
    for choice in spec.choices:
        combo.addItem(CHOICE_LABELS.get(key, {}).get(choice, choice), choice)
    combo.activated.connect(lambda _i, k=key, c=combo: on_edit(k, c.currentData()))
    return combo


def _number_as_text(spec: FieldSpec, on_number_text: OnNumberText) -> QWidget:
    edit = QLineEdit()
    edit.setMaximumWidth(NUMBER_WIDTH)
    edit.setPlaceholderText(_format_number(spec.default))
    edit.textEdited.connect(lambda text, k=spec.key: on_number_text(k, text))
    return edit


def _float(spec: FieldSpec, on_edit: OnEdit) -> QWidget:
    box = QDoubleSpinBox()
    box.setMaximumWidth(NUMBER_WIDTH)
    box.setRange(spec.minimum, spec.maximum)
    box.setDecimals(spec.decimals)
    box.setKeyboardTracking(False)
    box.valueChanged.connect(lambda value, k=spec.key: on_edit(k, _tidy_float(value)))
    return box


def _int(spec: FieldSpec, on_edit: OnEdit) -> QWidget:
    box = QSpinBox()
    box.setMaximumWidth(NUMBER_WIDTH)
    box.setRange(int(spec.minimum), int(spec.maximum))
    box.setKeyboardTracking(False)
    box.valueChanged.connect(lambda value, k=spec.key: on_edit(k, int(value)))
    return box


def _range(spec: FieldSpec, on_edit: OnEdit) -> QWidget:
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    low, high = QDoubleSpinBox(), QDoubleSpinBox()
    for box in (low, high):
        box.setRange(spec.minimum, spec.maximum)
        box.setDecimals(3)
        box.setKeyboardTracking(False)
        box.valueChanged.connect(
            lambda _v, k=spec.key, a=low, b=high: on_edit(
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


def _flags(spec: FieldSpec, on_edit: OnEdit) -> QWidget:
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
            lambda _c, k=spec.key, b=boxes: on_edit(k, [n for n, x in b.items() if x.isChecked()])
        )
    row.addStretch(1)
    holder.boxes = boxes  # type: ignore[attr-defined]
    return holder


_BUILDERS: dict[str, Callable[[FieldSpec, OnEdit], QWidget]] = {
    "text": _line,
    "list": _line,
    "multiline": _multiline,
    "license": _license,
    "choice": _choice,
    "float": _float,
    "int": _int,
    "range": _range,
    "flags": _flags,
}


def show_value(widget: QWidget, spec: FieldSpec, value: Any) -> None:
    """Put `value` into `spec`'s widget, leaving it alone when it already shows that value."""
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
