"""A trajectory replayed step by step: the conversation as the sandbox played it (tool results
included) after each assistant turn, with Previous/Next, and beside it the reward and every
rubric criterion's score at that step, the scores of all steps, the replay's notes (max_turns
reached, the user ran out) and the grader's error with the end of its traceback.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QSplitter, QTextBrowser, QVBoxLayout, QWidget

from app.errors import UserError
from app.funnel.replay_steps import Replay, ReplayStep
from app.ui.trajectory.chat_bubbles import ChatColumn, message_spec
from app.ui.widgets import button_row, push_button

_PASS, _FAIL, _DIM = "#2e7d32", "#b3261e", "#6b7280"
SCORES_STYLE = "QTextBrowser { background: #ffffff; color: #1f2430; }"


def _score(value) -> str:
    return "—" if value is None else f"{float(value):.2f}"


def _passes(step: ReplayStep, replay: Replay) -> bool:
    reward = step.result.reward
    return reward is not None and step.result.error is None and reward >= replay.pass_threshold


def step_html(replay: Replay, index: int) -> str:
    """The scores panel for step `index`: its reward and criteria, then every step's scores."""
    step = replay.steps[index]
    result = step.result
    colour = _PASS if _passes(step, replay) else _FAIL
    verdict = "passes" if _passes(step, replay) else "does not pass"
    headline = (
        f"Reward {_score(result.reward)}"
        if result.reward is not None
        else "No reward: the grading failed"
    )
    parts = [
        f"<h2 style='margin:0; color:{colour}'>{headline}</h2>",
        f"<p style='color:{_DIM}; margin-top:2px'>{verdict} (pass threshold "
        f"{replay.pass_threshold:g}) after {step.assistant_turns} assistant "
        f"turn{'s' if step.assistant_turns != 1 else ''}</p>",
    ]
    if result.error:
        parts.append(
            f"<p style='color:{_FAIL}'><b>The grader failed ({html.escape(result.error)})."
            f"</b></p><pre style='color:{_FAIL}; white-space:pre-wrap'>"
            f"{html.escape(step.error_excerpt())}</pre>"
        )
    failing = [
        name
        for name, _weight in replay.criteria
        if (result.criteria.get(name, {}).get("score") or 0.0) < 1.0
    ]
    if failing and not _passes(step, replay):
        parts.append(
            f"<p style='color:{_FAIL}'><b>Not met:</b> {html.escape(', '.join(failing))}</p>"
        )
    if replay.criteria:
        parts.append(_criteria_html(replay, step))
    if result.feedback:
        parts.append(f"<p><b>Feedback:</b> {html.escape(result.feedback)}</p>")
    for note in step.notes:
        parts.append(f"<p style='color:#8a5300'>⚠ {html.escape(note)}</p>")
    parts.append(_evolution_html(replay, index))
    return "".join(parts)


def _criteria_html(replay: Replay, step: ReplayStep) -> str:
    rows = []
    for name, weight in replay.criteria:
        criterion = step.result.criteria.get(name, {})
        score = criterion.get("score")
        colour = _PASS if score is not None and score >= 1.0 else _FAIL
        detail = criterion.get("detail") or ""
        if criterion.get("error"):  # the traceback's last line; the whole excerpt is above
            detail = f"{criterion['error']}: {(detail.strip().splitlines() or [''])[-1]}"
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td align='right'>{weight:g}</td>"
            f"<td align='right' style='color:{colour}'><b>{_score(score)}</b></td>"
            f"<td style='color:{_DIM}'>{html.escape(detail[:300])}</td></tr>"
        )
    return (
        "<h3 style='margin-bottom:2px'>Criteria</h3><table cellspacing='0' cellpadding='3'>"
        "<tr><th align='left'>criterion</th><th>weight</th><th>score</th><th></th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _evolution_html(replay: Replay, current: int) -> str:
    names = [name for name, _weight in replay.criteria]
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = []
    for index, step in enumerate(replay.steps):
        cells = "".join(
            f"<td align='right'>{_score(step.result.criteria.get(n, {}).get('score'))}</td>"
            for n in names
        )
        mark = " style='background:#e3efff'" if index == current else ""
        flag = " ⚠" if step.result.error or step.notes else ""
        rows.append(
            f"<tr{mark}><td>{index + 1}</td><td align='right'><b>{_score(step.result.reward)}"
            f"</b>{flag}</td>{cells}</tr>"
        )
    return (
        "<h3 style='margin-bottom:2px'>Step by step</h3>"
        "<table cellspacing='0' cellpadding='3'>"
        f"<tr><th>step</th><th>reward</th>{head}</tr>{''.join(rows)}</table>"
    )


class ReplayView(QWidget):
    """Public API: `show_running(title)`, `show_replay(replay, title)`, `show_problem(text)`,
    `select_step(i)`, `next_step()`, `previous_step()`, `current_step`. Signals:
    `back_requested`, `cancel_requested`."""

    back_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("replayView")
        self.replay: Replay | None = None
        self.current_step = 0
        self.title = QLabel()
        self.title.setObjectName("replayTitle")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.previous_button = push_button("◀ Previous", self.previous_step, tip="Alt+Left")
        self.next_button = push_button("Next ▶", self.next_step, tip="Alt+Right")
        self.step_label = QLabel()
        self.step_label.setObjectName("replayStep")
        self.cancel_button = push_button("Cancel", self.cancel_requested.emit)
        self.back_button = push_button(
            "Back to editing", self.back_requested.emit, tip="The trajectory editor (Esc)"
        )
        self.chat = ChatColumn()
        self.scores = QTextBrowser()
        self.scores.setObjectName("replayScores")
        self.scores.setStyleSheet(SCORES_STYLE)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.chat)
        split.addWidget(self.scores)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([620, 420])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.title)
        row = button_row(self.previous_button, self.next_button, self.step_label)
        row.addWidget(self.cancel_button)
        row.addWidget(self.back_button)
        layout.addLayout(row)
        layout.addWidget(split, 1)
        for keys, slot in (
            ("Alt+Left", self.previous_step),
            ("Alt+Right", self.next_step),
            ("Esc", self.back_requested.emit),
        ):
            shortcut = QShortcut(QKeySequence(keys), self, slot)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._sync_buttons()

    def show_running(self, title: str) -> None:
        self.replay = None
        self.title.setText(f"<b>Replaying {html.escape(title)}</b> in the sandbox…")
        self.step_label.setText("Each step is the trajectory up to one more assistant turn.")
        self.chat.set_bubbles([])
        self.scores.setHtml("<p>Replaying every step in one sandbox run…</p>")
        self.cancel_button.setVisible(True)
        self._sync_buttons()

    def show_problem(self, text: str) -> None:
        self.cancel_button.setVisible(False)
        self.title.setText(f"<b style='color:{_FAIL}'>Not replayed.</b> {html.escape(text)}")
        self.scores.setHtml("")
        self._sync_buttons()

    def show_error(self, exc: UserError) -> None:
        self.show_problem(f"{exc.message[:1].upper()}{exc.message[1:]} {exc.hint}".strip())

    def show_replay(self, replay: Replay, title: str) -> None:
        self.replay = replay
        self.cancel_button.setVisible(False)
        final = replay.final
        where = f" in the {replay.backend} sandbox" if replay.backend else ""
        verdict = ""
        if final is not None:
            ok = _passes(final, replay)
            verdict = (
                f" — final reward <b style='color:{_PASS if ok else _FAIL}'>"
                f"{_score(final.result.reward)}</b>"
            )
        self.title.setText(f"<b>Replay of {html.escape(title)}</b>{where}{verdict}")
        self.select_step(len(replay.steps) - 1)

    def select_step(self, index: int) -> None:
        if self.replay is None or not self.replay.steps:
            return
        index = max(0, min(index, len(self.replay.steps) - 1))
        self.current_step = index
        step = self.replay.steps[index]
        before = len(self.replay.steps[index - 1].messages) if index > 0 else 0
        self.chat.set_bubbles(
            [message_spec(m, new=index > 0 and i >= before) for i, m in enumerate(step.messages)]
        )
        self.chat.scroll_to_end()  # what this step added is at the end
        if not step.messages:
            self.chat.set_bubbles([])
        self.scores.setHtml(step_html(self.replay, index))
        self.step_label.setText(
            f"Step {index + 1} of {len(self.replay.steps)}: after assistant turn "
            f"{step.assistant_turns} · reward {_score(step.result.reward)}"
        )
        self._sync_buttons()

    def next_step(self) -> None:
        self.select_step(self.current_step + 1)

    def previous_step(self) -> None:
        self.select_step(self.current_step - 1)

    def _sync_buttons(self) -> None:
        steps = len(self.replay.steps) if self.replay is not None else 0
        self.previous_button.setEnabled(steps > 0 and self.current_step > 0)
        self.next_button.setEnabled(steps > 0 and self.current_step < steps - 1)
