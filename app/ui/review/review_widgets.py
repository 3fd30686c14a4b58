"""Pieces the review screens share: markdown that sizes itself to its text, the severity chip,
a write/preview markdown editor, the suggested-replacement diff, and the box that shows changes
the platform refused (with the user's draft and Send again / Discard)."""

from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.ui.review.outbox_view import Refusal
from app.ui.widgets import push_button

SEVERITIES = ("blocking", "normal", "nit")
SEVERITY_HELP = {
    "blocking": "must be fixed before the submission can be approved",
    "normal": "should be fixed",
    "nit": "a small matter; fix it if you like",
}
# Fixed colours (not palette ones): the chip must read the same in light and dark themes.
_CHIP = {
    "blocking": ("#b42318", "#ffffff"),
    "normal": ("#b54708", "#ffffff"),
    "nit": ("#667085", "#ffffff"),
}
MONO = "font-family: 'DejaVu Sans Mono', monospace;"


class MarkdownView(QTextBrowser):
    """Rendered markdown as tall as its text (no scroll bar of its own), for lists of cards."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenExternalLinks(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.viewport().setAutoFillBackground(False)
        self.setStyleSheet("QTextBrowser { background: transparent; border: none; }")
        self.document().setDocumentMargin(2)
        self.document().contentsChanged.connect(self._fit)
        self.setMarkdown(text)

    def _fit(self) -> None:
        width = max(120, self.viewport().width())
        self.document().setTextWidth(width)
        self.setFixedHeight(int(self.document().size().height()) + 4)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(300, self.height())


def severity_chip(severity: str) -> QLabel:
    severity = severity if severity in _CHIP else "normal"
    background, colour = _CHIP[severity]
    chip = QLabel(severity)
    chip.setObjectName("severityChip")
    chip.setToolTip(f"{severity}: {SEVERITY_HELP[severity]}")
    chip.setStyleSheet(
        f"QLabel {{ background: {background}; color: {colour}; border-radius: 8px; "
        "padding: 1px 8px; font-weight: 600; }"
    )
    chip.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    return chip


def dim_label(text: str, *, rich: bool = False) -> QLabel:
    label = QLabel(text)
    label.setObjectName("dimText")
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    return label


def suggestion_diff_html(old: str | None, new: str) -> str:
    """The replaced lines in red (when the thread still knows them), the suggestion in green."""
    rows = []
    for line in (old or "").splitlines():
        rows.append(("#fdecea", "#b42318", "−", line))
    for line in new.splitlines() or [""]:
        rows.append(("#e7f6ec", "#067647", "+", line))
    cells = "".join(
        f"<tr><td style='background:{bg}; color:{fg}; padding:0 6px'>{sign}</td>"
        f"<td style='background:{bg}; color:#1f2430; padding:0 6px; white-space:pre'>"
        f"{html.escape(text) or '&nbsp;'}</td></tr>"
        for bg, fg, sign, text in rows
    )
    return f"<table cellspacing='0' style='{MONO}'>{cells}</table>"


class MarkdownEditor(QTabWidget):
    """Write / Preview tabs over one markdown text."""

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText(placeholder)
        self.preview = QTextBrowser()
        self.preview.setOpenExternalLinks(True)
        self.addTab(self.editor, "Write")
        self.addTab(self.preview, "Preview")
        self.currentChanged.connect(self._render)

    def text(self) -> str:
        return self.editor.toPlainText()

    def set_text(self, text: str) -> None:
        self.editor.setPlainText(text)

    def _render(self, index: int) -> None:
        if self.widget(index) is self.preview:
            text = self.text().strip()
            self.preview.setMarkdown(text or "*Nothing to preview yet.*")


class RefusalBox(QFrame):
    """Changes the platform refused: what, why (its words), the draft, Send again / Discard."""

    retry_requested = Signal(int)  # outbox seq
    discard_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("refusalBox")
        self.setStyleSheet(
            "QFrame#refusalBox { border: 1px solid #f04438; border-left: 5px solid #d92d20; "
            "border-radius: 6px; }"
        )
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(10, 8, 10, 8)
        self.refusals: list[Refusal] = []
        self.setVisible(False)

    def show_refusals(self, refusals: list[Refusal], hint: str) -> None:
        while self._layout.count():
            item = self._layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.refusals = list(refusals)
        self.setVisible(bool(refusals))
        if not refusals:
            return
        title = QLabel(f"<b>Not sent: the platform refused {_count(len(refusals))}</b>")
        self._layout.addWidget(title)
        for refusal in refusals:
            self._layout.addWidget(self._row(refusal))
        self._layout.addWidget(dim_label(hint))

    def _row(self, refusal: Refusal) -> QWidget:
        row = QWidget()
        layout = QVBoxLayout(row)
        layout.setContentsMargins(0, 4, 0, 4)
        head = QLabel(f"<b>{html.escape(refusal.what)}</b>: {html.escape(refusal.message)}")
        head.setWordWrap(True)
        head.setObjectName("refusalMessage")
        layout.addWidget(head)
        if refusal.draft.strip():
            draft = dim_label(f"Your text (kept): “{_short(refusal.draft)}”")
            draft.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(draft)
        buttons = QHBoxLayout()
        again = push_button(
            "Send again",
            lambda: self.retry_requested.emit(refusal.seq),
            tip="Put it back in the queue; it is sent with the next sync.",
        )
        # A verdict on a replaced revision cannot succeed as it is: decide again instead.
        again.setVisible(not (refusal.entry.kind == "review" and refusal.entry.state == "conflict"))
        buttons.addWidget(again)
        buttons.addWidget(
            push_button(
                "Discard",
                lambda: self.discard_requested.emit(refusal.seq),
                tip="Drop this change (its text is lost).",
            )
        )
        buttons.addStretch(1)
        layout.addLayout(buttons)
        return row


def _count(n: int) -> str:
    return "1 change" if n == 1 else f"{n} changes"


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
