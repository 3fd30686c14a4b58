"""The bounty form: post a new bounty or edit one, every field checked before anything is sent
(app.sync.lab_fields, as `gauntlet bounty` does), the message next to the field. A refusal from
the platform (the bounty changed meanwhile, a domain nobody knows) says what happened, and the
form keeps everything typed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.calibrate.targets import target_text
from app.sync import lab, lab_fields
from app.sync.errors import StaleVersion
from app.sync.lab_fields import FieldError
from app.ui.lab.calls import LabCalls, error_label, words
from app.ui.lab.criteria_table import CriteriaEditor
from app.ui.widgets import button_row, push_button

CURRENCIES = ("USD", "EUR", "GBP", "CHF", "JPY")
STALE = (
    "Not saved: this bounty was changed on the platform after you opened it (in another window, "
    "from the command line, or by a colleague). Your edits are still here. Press “Save over it” "
    "to replace the platform's version with yours, or Cancel and open the bounty again."
)


class BountyForm(QDialog):
    saved = Signal(dict)  # the bounty as the platform now has it
    refused = Signal(object)  # the error shown (a field's or the platform's)

    def __init__(
        self,
        calls: LabCalls,
        bounty: dict | None = None,
        etag: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._calls = calls
        self.bounty, self._etag = bounty, etag
        self.setWindowTitle("Edit bounty" if bounty else "New bounty")
        self.resize(760, 820)
        self.errors: dict[str, QLabel] = {}
        outer = QVBoxLayout(self)
        self.banner = error_label()
        outer.addWidget(self.banner)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        self.form = QFormLayout(body)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        self._build_fields()
        self.save_button = push_button(
            "Save changes" if bounty else "Post bounty", self.save, primary=True
        )
        self.overwrite_button = push_button("Save over it", self._save_over)
        self.overwrite_button.hide()
        self.cancel_button = push_button("Cancel", self.reject)
        outer.addLayout(button_row(self.save_button, self.overwrite_button, self.cancel_button))
        if bounty:
            self.fill(bounty)
        calls.run(lab.known_domains, self._got_domains, lambda _exc: None)

    # -- building ----------------------------------------------------------------------------

    def _build_fields(self) -> None:
        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText("What the environment must teach, in one line")
        self._row("Title", "title", self.title_edit)
        self.domain_box = QComboBox()
        self.domain_box.setEditable(True)
        self.domain_box.lineEdit().setPlaceholderText("e.g. biology: reviewers are picked by it")
        self.new_domain = QCheckBox("Start a new domain (no reviewer is vetted in it yet)")
        self._row("Domain", "domain", self._stack(self.domain_box, self.new_domain))
        self.tags_edit = QLineEdit()
        self.tags_edit.setPlaceholderText("enzymes, kinetics (separated by commas)")
        self._row("Tags", "tags", self.tags_edit)
        self.summary_edit = QLineEdit()
        self.summary_edit.setPlaceholderText("One or two sentences shown in lists (optional)")
        self._row("Summary", "summary", self.summary_edit)
        self._row("Brief", "brief", self._build_brief())
        self.criteria = CriteriaEditor()
        self._row("Scoring criteria", "criteria", self.criteria)
        self.constraints_edit = QPlainTextEdit()
        self.constraints_edit.setPlaceholderText("One per line, e.g.\nmin_tasks=50\nlanguage=en")
        self.constraints_edit.setFixedHeight(70)
        self._row("Constraints", "constraints", self.constraints_edit)
        self.targets_edit = QPlainTextEdit()
        self.targets_edit.setPlaceholderText(
            "What the pack card should show, one per line (optional), e.g.\n"
            "signal_share>=0.6@openai/gpt-4o-mini"
        )
        self.targets_edit.setToolTip(
            "Metrics: signal_share, pass_rate, always_solved_share, never_solved_share (0–1), "
            "tasks (a count); @MODEL for one model of the author's calibration"
        )
        self.targets_edit.setFixedHeight(60)
        self._row("Calibration targets", "targets", self.targets_edit)
        self.reward_edit = QLineEdit()
        self.reward_edit.setPlaceholderText("5000")
        self.currency_box = QComboBox()
        self.currency_box.setEditable(True)
        self.currency_box.addItems(CURRENCIES)
        self._row("Reward", "reward", self._side_by_side(self.reward_edit, self.currency_box))
        self.deadline_edit = QDateEdit()
        self.deadline_edit.setCalendarPopup(True)
        self.deadline_edit.setDisplayFormat("yyyy-MM-dd")
        self.deadline_edit.setDate(QDate.currentDate().addDays(30))
        self._row(
            "Deadline",
            "deadline",
            self._side_by_side(
                self.deadline_edit, QLabel("submissions are taken until the end of this day (UTC)")
            ),
        )
        self.kind_box = QComboBox()
        self.kind_box.addItem("Questions and answers (qa)", "qa")
        self.kind_box.addItem("Code tasks (code)", "code")
        self._row("Environment kind", "kind", self.kind_box)

    def _build_brief(self) -> QTabWidget:
        self.brief_tabs = QTabWidget()
        self.brief_edit = QPlainTextEdit()
        self.brief_edit.setPlaceholderText(
            "# What we want\nThe brief authors read, in markdown: the goal, the kind of tasks, "
            "what makes a good answer…"
        )
        self.brief_preview = QTextBrowser()
        self.brief_tabs.addTab(self.brief_edit, "Write")
        self.brief_tabs.addTab(self.brief_preview, "Preview")
        self.brief_tabs.currentChanged.connect(
            lambda _i: self.brief_preview.setMarkdown(self.brief_edit.toPlainText())
        )
        self.brief_tabs.setMinimumHeight(180)
        return self.brief_tabs

    def _row(self, label: str, field: str, widget: QWidget) -> None:
        self.errors[field] = error_label()
        self.form.addRow(label, self._stack(widget, self.errors[field]))

    @staticmethod
    def _stack(*widgets: QWidget) -> QWidget:
        cell = QWidget()
        layout = QVBoxLayout(cell)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        for widget in widgets:
            layout.addWidget(widget)
        return cell

    @staticmethod
    def _side_by_side(*widgets: QWidget) -> QWidget:
        cell = QWidget()
        layout = QHBoxLayout(cell)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in widgets:
            layout.addWidget(widget)
        layout.addStretch(1)
        return cell

    def fill(self, bounty: dict) -> None:
        self.title_edit.setText(bounty["title"])
        self.domain_box.setEditText(bounty["domain"])
        self.tags_edit.setText(", ".join(bounty.get("tags") or []))
        self.summary_edit.setText(bounty.get("summary") or "")
        self.brief_edit.setPlainText(bounty.get("brief") or "")
        self.criteria.set_rubric(bounty.get("rubric") or [])
        self.constraints_edit.setPlainText(
            "\n".join(f"{k}={json.dumps(v)}" for k, v in (bounty.get("constraints") or {}).items())
        )
        targets = bounty.get("calibration_targets") or []
        self.targets_edit.setPlainText("\n".join(target_text(t) for t in targets))
        self.reward_edit.setText(str(bounty["reward"]))
        self.currency_box.setEditText(bounty["currency"])
        when = datetime.fromisoformat(bounty["deadline"]).astimezone(UTC)
        self.deadline_edit.setDate(QDate(when.year, when.month, when.day))
        self.kind_box.setCurrentIndex(max(0, self.kind_box.findData(bounty.get("env_kind"))))

    def _got_domains(self, domains: set[str]) -> None:
        typed = self.domain_box.currentText()
        self.domain_box.clear()
        self.domain_box.addItems(sorted(domains))
        self.domain_box.setEditText(typed)

    # -- checking and saving -----------------------------------------------------------------

    def body(self) -> dict[str, Any]:
        """The request body from the fields; FieldError names the first wrong one."""
        tags = [t for t in self.tags_edit.text().split(",") if t.strip()]
        reward = self.reward_edit.text().strip() or None
        day = self.deadline_edit.date().toString("yyyy-MM-dd")
        lines = [line for line in self.constraints_edit.toPlainText().splitlines() if line.strip()]
        return {
            "title": lab_fields.title(self.title_edit.text()),
            "domain": lab_fields.domain(self.domain_box.currentText()),
            "tags": lab_fields.tags(tags),
            "summary": self.summary_edit.text().strip(),
            "brief": self.brief_edit.toPlainText(),
            "rubric": self.criteria.rubric(),
            "constraints": lab_fields.constraints(lines, {}),
            "calibration_targets": lab_fields.calibration_targets(
                [t for t in self.targets_edit.toPlainText().splitlines() if t.strip()]
            ),
            "reward": lab_fields.reward(reward),
            "currency": lab_fields.currency(self.currency_box.currentText()),
            "deadline": self._deadline(day),
            "env_kind": self.kind_box.currentData(),
        }

    def _deadline(self, day: str) -> str:
        # An unchanged past deadline of an old bounty is no reason to refuse other edits.
        if self.bounty and self.bounty["deadline"][:10] == day:
            return self.bounty["deadline"]
        return lab_fields.deadline(day).isoformat()

    def save(self) -> None:
        self._clear_errors()
        try:
            body = self.body()
        except FieldError as exc:
            self.show_error(exc)
            return
        self.save_button.setEnabled(False)
        new_domain = self.new_domain.isChecked()
        if self.bounty is None:
            work = lambda client: lab.post_bounty(client, body, new_domain=new_domain)  # noqa: E731
        else:
            current, etag = self.bounty, self._etag
            work = lambda client: lab.edit_bounty(  # noqa: E731
                client, current, etag, body, new_domain=new_domain
            )
        self._calls.run(work, self._done, self.show_error)

    def _save_over(self) -> None:
        """After a stale refusal: take the platform's current version as the base, then save."""
        self.overwrite_button.hide()
        bounty_id = self.bounty["id"]

        def fresh(result: tuple[dict, str | None]) -> None:
            self.bounty, self._etag = result
            self.save()

        self._calls.run(lambda client: lab.read_bounty(client, bounty_id), fresh, self.show_error)

    def _done(self, bounty: dict) -> None:
        self.save_button.setEnabled(True)
        self.bounty = bounty
        self.saved.emit(bounty)
        self.accept()

    def show_error(self, exc: BaseException) -> None:
        """A field's message next to it; anything else at the top. Nothing typed is lost."""
        self.save_button.setEnabled(True)
        field = getattr(exc, "field", None)
        if field in self.errors:
            hint = exc.form_hint  # type: ignore[attr-defined]
            self.errors[field].setText(f"{exc.message} {hint}".strip())  # type: ignore[attr-defined]
            self.errors[field].show()
            if getattr(exc, "row", None) is not None:
                self.criteria.table.selectRow(exc.row)  # type: ignore[attr-defined]
            self.banner.setText("Please fix the field marked below.")
        elif isinstance(exc, StaleVersion):
            self.banner.setText(STALE)
            self.overwrite_button.show()
        else:
            self.banner.setText(f"Not saved: {words(exc)}")
        self.banner.show()
        self.refused.emit(exc)

    def _clear_errors(self) -> None:
        self.banner.hide()
        for label in self.errors.values():
            label.hide()
