"""The reviewer's verdict: a rubric form built from the bounty's scoring criteria (a score per
criterion, the weighted total shown live), a markdown summary, and Approve / Request changes /
Reject, bound to the submission's latest revision. A verdict the platform refused (not
assigned, a newer revision meanwhile) is shown with its reason, and its scores and summary
come back into the form, to decide again or discard."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError
from app.ui.review.outbox_view import VERDICT_LABELS, split_entries
from app.ui.review.review_widgets import MarkdownEditor, RefusalBox, dim_label
from app.ui.widgets import PageHeader

READ_ONLY = "Read-only: connect to the platform (Settings → Platform) to give a verdict."
_DECISIONS = (
    ("approve", "Approve", "The submission meets the bounty: accept it."),
    ("request_changes", "Request changes", "The author should revise and resubmit."),
    ("reject", "Reject", "The submission cannot be accepted."),
)


def criteria_of(bounty) -> list[dict]:
    """The bounty's rubric as the platform defines it (id, title, description, weight,
    max_score); older records name the criterion `criterion` or `name`."""
    items = []
    for raw in (bounty.rubric if bounty is not None else None) or []:
        if not isinstance(raw, dict):
            continue
        title = str(raw.get("title") or raw.get("criterion") or raw.get("name") or raw.get("id"))
        items.append(
            {
                "id": str(raw.get("id") or title.lower()),
                "title": title,
                "description": str(raw.get("description") or ""),
                "weight": float(raw.get("weight", 1) or 0),
                "max_score": int(raw.get("max_score", 5) or 5),
            }
        )
    return items


def weighted_total(criteria: list[dict], scores: dict[str, int]) -> float | None:
    """Scores weighted by the rubric, as a percentage of the best possible (None: nothing
    scored yet, or only weightless criteria)."""
    scored = [c for c in criteria if c["id"] in scores]
    weight = sum(c["weight"] for c in scored)
    if not scored or weight <= 0:
        return None
    return 100 * sum(c["weight"] * scores[c["id"]] / c["max_score"] for c in scored) / weight


class VerdictForm(QWidget):
    changed = Signal()  # a verdict was queued (or a refused one sent again): the window syncs
    problem = Signal(object)  # a UserError
    verdict_queued = Signal(object)  # the OutboxEntry

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = self.engine = None
        self.submission_id: str | None = None
        self.revision: int | None = None
        self.criteria: list[dict] = []
        self.spins: dict[str, QSpinBox] = {}
        self._restored_seq: int | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        outer.addWidget(scroll)
        page = QWidget()
        scroll.setWidget(page)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(16, 12, 16, 12)
        self.header = PageHeader("Verdict", "Open a submission to review it.")
        layout.addWidget(self.header)
        self.refusals = RefusalBox()
        self.refusals.retry_requested.connect(self._retry)
        self.refusals.discard_requested.connect(self._discard)
        layout.addWidget(self.refusals)
        self.status = dim_label("")
        self.status.setObjectName("verdictStatus")
        layout.addWidget(self.status)
        self.rubric_box = QGroupBox("Rubric")
        self.rubric_grid = QGridLayout(self.rubric_box)
        layout.addWidget(self.rubric_box)
        self.total = QLabel()
        self.total.setObjectName("weightedTotal")
        layout.addWidget(self.total)
        layout.addWidget(QLabel("Summary for the author (markdown)"))
        self.summary = MarkdownEditor("What is good, what must change, and why.")
        self.summary.setMinimumHeight(150)
        layout.addWidget(self.summary)
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d92d20; font-weight: 600;")
        self.error.setVisible(False)
        layout.addWidget(self.error)
        layout.addLayout(self._buttons())
        layout.addStretch(1)
        self.summary.editor.textChanged.connect(self._clear_error)
        self._enable()

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.decision_buttons: dict[str, QPushButton] = {}
        for verdict, text, tip in _DECISIONS:
            button = QPushButton(text)
            button.setToolTip(tip)
            if verdict == "approve":
                button.setObjectName("primary")
            button.clicked.connect(lambda _=False, v=verdict: self.decide(v))
            self.decision_buttons[verdict] = button
            row.addWidget(button)
        row.addStretch(1)
        return row

    # -- what to show ---------------------------------------------------------------------------

    def set_store(self, store) -> None:
        self.store = store
        self.refresh()

    def set_engine(self, engine) -> None:
        self.engine = engine
        if engine is not None and self.store is None:
            self.store = engine.store
        self.refresh()

    def show_submission(self, submission_id: str | None) -> None:
        if submission_id != self.submission_id:
            self.summary.set_text("")
            self._restored_seq = None
            self.criteria = []
        self.submission_id = submission_id
        self.refresh()

    def refresh(self) -> None:
        """Re-read the submission, its bounty's rubric and the outbox (after a sync)."""
        sub = self.store.submissions.get(self.submission_id) if self._ready() else None
        if sub is None:
            self.header.title.setText("Verdict")
            self.header.subtitle.setText("Open a submission assigned to you to review it.")
            self.refusals.show_refusals([], "")
            self._enable()
            return
        self.revision = sub.latest_revision
        bounty = self.store.bounties.get(sub.bounty_id)
        self.header.title.setText(f"Verdict on revision {self.revision or '?'}")
        title = bounty.row.title if bounty is not None else sub.bounty_id
        self.header.subtitle.setText(
            f"{title} · submission {sub.id} by {sub.author} · {sub.state.replace('_', ' ')}"
        )
        criteria = criteria_of(bounty)
        if criteria != self.criteria:
            self._build_rubric(criteria)
        waiting, refused = split_entries(self.store, self.engine, sub.id)
        refused = [r for r in refused if r.entry.kind == "review"]
        self.refusals.show_refusals(
            refused,
            f"Your scores and summary are back in the form below. Check revision "
            f"{self.revision}, then decide again (this replaces the refused verdict), or "
            "discard it.",
        )
        if refused and refused[-1].seq != self._restored_seq:
            self._restore(refused[-1].entry.payload)
            self._restored_seq = refused[-1].seq
        self._show_status([e for e in waiting if e.kind == "review"])
        self._enable()

    def _ready(self) -> bool:
        return self.store is not None and bool(self.submission_id)

    def _show_status(self, waiting) -> None:
        if waiting:
            p = waiting[-1].payload
            verdict = VERDICT_LABELS.get(p.get("verdict"), p.get("verdict"))
            self.status.setText(
                f"Your verdict '{verdict}' on revision {p.get('revision')} is waiting to sync."
            )
            return
        reviews = [r for r in self.store.reviews.list(self.submission_id) if r.verdict]
        if reviews:
            last = reviews[-1]
            verdict = VERDICT_LABELS.get(last.verdict, last.verdict)
            self.status.setText(
                f"Last verdict: '{verdict}' on revision {last.data.get('revision')} "
                f"by {last.reviewer}."
            )
        else:
            self.status.setText("No verdict yet.")

    def _enable(self) -> None:
        ok = self.engine is not None and self._ready() and self.revision is not None
        reason = "" if ok else (READ_ONLY if self.engine is None else "No submission open.")
        for button in self.decision_buttons.values():
            button.setEnabled(ok)
            button.setToolTip(reason or button.toolTip())

    # -- the rubric -------------------------------------------------------------------------------

    def _build_rubric(self, criteria: list[dict]) -> None:
        while self.rubric_grid.count():
            item = self.rubric_grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.criteria, self.spins = criteria, {}
        if not criteria:
            self.rubric_grid.addWidget(
                dim_label("This bounty has no rubric: your verdict and summary are enough."), 0, 0
            )
        for row, item in enumerate(criteria):
            name = QLabel(
                f"<b>{html.escape(item['title'])}</b> "
                f"<span style='color: gray'>weight {item['weight']:g}</span>"
            )
            self.rubric_grid.addWidget(name, 2 * row, 0)
            spin = QSpinBox()
            spin.setRange(-1, item["max_score"])
            spin.setValue(-1)
            spin.setSpecialValueText("not scored")
            spin.setSuffix(f" / {item['max_score']}")
            spin.setMinimumWidth(110)
            spin.setToolTip(f"Score {item['title']} from 0 to {item['max_score']}.")
            spin.valueChanged.connect(self._update_total)
            spin.valueChanged.connect(self._clear_error)
            self.spins[item["id"]] = spin
            self.rubric_grid.addWidget(spin, 2 * row, 1)
            if item["description"]:
                self.rubric_grid.addWidget(dim_label(item["description"]), 2 * row + 1, 0, 1, 2)
        self.rubric_grid.setColumnStretch(0, 1)
        self._update_total()

    def scores(self) -> dict[str, int]:
        return {key: spin.value() for key, spin in self.spins.items() if spin.value() >= 0}

    def _update_total(self) -> None:
        scores = self.scores()
        total = weighted_total(self.criteria, scores)
        if not self.criteria:
            self.total.setText("")
            return
        figure = "–" if total is None else f"{total:.0f}%"
        self.total.setText(
            f"<b>Weighted total: {figure}</b> "
            f"<span style='color: gray'>({len(scores)} of {len(self.criteria)} criteria scored)"
            "</span>"
        )

    def _restore(self, payload: dict) -> None:
        """Put a refused verdict's draft back in the form."""
        for key, value in (payload.get("scores") or {}).items():
            if key in self.spins:
                self.spins[key].setValue(int(value))
        self.summary.set_text(str(payload.get("summary") or ""))

    # -- deciding ---------------------------------------------------------------------------------

    def validate(self, verdict: str) -> str:
        missing = [c["title"] for c in self.criteria if c["id"] not in self.scores()]
        if missing:
            return f"Score every criterion before deciding: {', '.join(missing)} not scored yet."
        if verdict != "approve" and not self.summary.text().strip():
            label = VERDICT_LABELS[verdict]
            return f"Write a summary: the author needs to know why you {label}."
        return ""

    def decide(self, verdict: str) -> None:
        problem = self.validate(verdict)
        if problem:
            self._fail(problem)
            return
        _, refused = split_entries(self.store, self.engine, self.submission_id)
        try:
            entry = self.engine.queue_review(
                self.submission_id,
                revision=self.revision,
                verdict=verdict,
                scores=self.scores(),
                summary=self.summary.text(),
            )
        except UserError as exc:
            self._fail(f"{exc.message} {exc.hint}".strip())
            self.problem.emit(exc)
            return
        for old in refused:  # the new verdict replaces the one the platform refused
            if old.entry.kind == "review":
                self.engine.discard(old.seq)
        self.error.setVisible(False)
        self.refresh()
        self.verdict_queued.emit(entry)
        self.changed.emit()

    def _clear_error(self) -> None:
        self.error.setVisible(False)

    def _fail(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(True)

    def _retry(self, seq: int) -> None:
        self.engine.retry(seq)
        self.refresh()
        self.changed.emit()

    def _discard(self, seq: int) -> None:
        self.engine.discard(seq)
        self.refresh()
