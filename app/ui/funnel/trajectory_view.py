"""The trajectory viewer: an agent's runs on agentic tasks, one command at a time.

Above, the runs (task, agent, model, reward, why it stopped); below, the selected run's steps
(number, the command's first line, exit code, seconds) and, beside them, the step's detail: what
the model thought, the whole command and what it printed. The step that earned the reward
(`Trajectory.earned_at`, the shortest replayable prefix) is marked and shown first, since it is
where a reviewer learns how the reward was got.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.attacks.trajectory import Step, Trajectory
from app.ui.widgets import button_row, push_button

EARNED = "earned the reward"
EARNED_COLOUR = QColor("#e3f2e5")  # a pale green row: visible in the light and dark themes' text
COMMAND_CHARS = 90  # the step list shows a command's first line, cut here
RUN_COLUMNS = ("Task", "Agent", "Model", "Reward", "Stopped", "Steps")
STEP_COLUMNS = ("#", "Exit", "Seconds", "Command")  # the command last: it takes the width


class TrajectoryView(QWidget):
    """Public API: `show_trajectories(list[Trajectory])`, `select_run(i)`, `select_step(i)`,
    `next_step()`, `previous_step()`, `current_step() -> int | None`. Shown as its own window
    (`Qt.Window`) when given no parent layout."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("trajectoryView")
        self.setWindowTitle("Agent runs")
        self.resize(1100, 720)
        self._trajectories: list[Trajectory] = []
        self.runs = _tree(RUN_COLUMNS, "trajectoryRuns")
        self.steps = _tree(STEP_COLUMNS, "trajectorySteps")
        self.summary = QLabel()
        self.summary.setObjectName("trajectorySummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.runs)
        splitter.addWidget(self._build_run_pane())
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 4)
        splitter.setSizes([150, 570])  # a few runs in view, most room for the steps
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(splitter)
        self.runs.currentItemChanged.connect(lambda *_: self._show_run())
        self.steps.currentItemChanged.connect(lambda *_: self._show_step())
        # Shortcuts of the window, not of the buttons: a button's shortcut clicks it later.
        for keys, slot in (
            ("Alt+Left", self.previous_step),
            ("Alt+Right", self.next_step),
            ("Alt+E", self._go_to_earned),
        ):
            QShortcut(QKeySequence(keys), self, slot)

    def _build_run_pane(self) -> QWidget:
        """The selected run: its summary, its steps with previous/next, the step's detail."""
        self.previous_button = push_button(
            "◀ Previous", self.previous_step, tip="The step before (Alt+Left)"
        )
        self.next_button = push_button("Next ▶", self.next_step, tip="The step after (Alt+Right)")
        self.earned_button = push_button(
            "Go to the step that earned the reward",
            self._go_to_earned,
            tip="The last command of the shortest prefix that still earns the reward (Alt+E)",
        )
        buttons = button_row(self.previous_button, self.next_button, self.earned_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.steps, 1)
        left_layout.addLayout(buttons)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self._build_detail())
        split.setSizes([430, 620])
        pane = QWidget()
        pane_layout = QVBoxLayout(pane)
        pane_layout.setContentsMargins(0, 4, 0, 0)
        pane_layout.addWidget(self.summary)
        pane_layout.addWidget(split, 1)
        return pane

    def _build_detail(self) -> QWidget:
        self.step_title = QLabel()
        self.step_title.setObjectName("stepTitle")
        self.step_title.setTextFormat(Qt.TextFormat.RichText)
        self.thought = _text_pane(monospace=False)
        self.command = _text_pane(monospace=True)
        self.output = _text_pane(monospace=True)
        self.thought.setPlaceholderText("The model said nothing before this command.")
        self.output.setPlaceholderText("The command printed nothing.")
        detail = QWidget()
        layout = QVBoxLayout(detail)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.step_title)
        for title, pane, stretch in (
            ("What the model thought", self.thought, 1),
            ("Command", self.command, 1),
            ("Output", self.output, 4),
        ):
            label = QLabel(title)
            label.setObjectName("sectionLabel")
            layout.addWidget(label)
            layout.addWidget(pane, stretch)
        return detail

    # -- API ----------------------------------------------------------------------------------

    def show_trajectories(self, trajectories: list[Trajectory], title: str = "") -> None:
        self._trajectories = list(trajectories)
        self.setWindowTitle(f"Agent runs — {title}" if title else "Agent runs")
        self.runs.clear()
        for trajectory in self._trajectories:
            item = QTreeWidgetItem(
                [
                    trajectory.task_id,
                    trajectory.agent,
                    trajectory.model or "—",
                    _reward(trajectory.reward),
                    trajectory.stopped or "—",
                    str(len(trajectory.steps)),
                ]
            )
            if trajectory.earned_at is not None:
                item.setToolTip(3, f"Step {trajectory.earned_at + 1} {EARNED}")
            self.runs.addTopLevelItem(item)
        _fit_columns(self.runs)
        self.select_run(0)

    def select_run(self, index: int) -> None:
        if 0 <= index < self.runs.topLevelItemCount():
            self.runs.setCurrentItem(self.runs.topLevelItem(index))
        else:
            self._show_run()

    def current_run(self) -> Trajectory | None:
        index = self.runs.indexOfTopLevelItem(self.runs.currentItem())
        return self._trajectories[index] if 0 <= index < len(self._trajectories) else None

    def current_step(self) -> int | None:
        index = self.steps.indexOfTopLevelItem(self.steps.currentItem())
        return index if index >= 0 else None

    def select_step(self, index: int) -> None:
        if 0 <= index < self.steps.topLevelItemCount():
            self.steps.setCurrentItem(self.steps.topLevelItem(index))

    def next_step(self) -> None:
        current = self.current_step()
        self.select_step(0 if current is None else current + 1)

    def previous_step(self) -> None:
        current = self.current_step()
        self.select_step(0 if current is None else current - 1)

    # -- internals ----------------------------------------------------------------------------

    def _show_run(self) -> None:
        trajectory = self.current_run()
        # Quiet while the old steps go: clearing moves the current row through them, and those
        # rows are not the new run's.
        blocker = QSignalBlocker(self.steps)
        self.steps.clear()
        self.summary.setText(_summary(trajectory) if trajectory else "No agent run to show.")
        earned = _earned_index(trajectory)
        for number, step in enumerate(trajectory.steps if trajectory else [], start=1):
            item = QTreeWidgetItem(
                [
                    f"★ {number}" if number - 1 == earned else str(number),
                    "—" if step.exit_code is None else str(step.exit_code),
                    _seconds(step.seconds),
                    _first_line(step.command),
                ]
            )
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight)
            if number - 1 == earned:
                _mark_earned(item)
            self.steps.addTopLevelItem(item)
        _fit_columns(self.steps)
        self.earned_button.setEnabled(earned is not None)
        self.select_step(earned if earned is not None else 0)
        blocker.unblock()
        self._show_step()

    def _show_step(self) -> None:
        trajectory, index = self.current_run(), self.current_step()
        step: Step | None = (
            trajectory.steps[index] if trajectory is not None and index is not None else None
        )
        count = self.steps.topLevelItemCount()
        self.previous_button.setEnabled(index is not None and index > 0)
        self.next_button.setEnabled(index is not None and index < count - 1)
        if step is None:
            self.step_title.setText("<b>No steps</b>: the agent ran no command.")
            for pane in (self.thought, self.command, self.output):
                pane.setPlainText("")
            return
        assert index is not None
        exit_code = "none (stopped)" if step.exit_code is None else step.exit_code
        parts = [f"<b>Step {index + 1} of {count}</b>", f"exit code {exit_code}"]
        parts.append(_seconds(step.seconds) + " s")
        if index == _earned_index(trajectory):
            parts.append(f"<span style='color:#2e7d32'><b>★ This step {EARNED}</b></span>")
        self.step_title.setText(" · ".join(parts))
        self.thought.setPlainText(str(step.thought or ""))
        self.command.setPlainText(str(step.command))
        self.output.setPlainText(str(step.output or ""))

    def _go_to_earned(self) -> None:
        earned = _earned_index(self.current_run())
        if earned is not None:
            self.select_step(earned)


def _tree(columns: tuple[str, ...], name: str) -> QTreeWidget:
    tree = QTreeWidget()
    tree.setObjectName(name)
    tree.setHeaderLabels(list(columns))
    tree.setRootIsDecorated(False)
    tree.setUniformRowHeights(True)
    tree.setAlternatingRowColors(True)
    tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    return tree


def _text_pane(monospace: bool) -> QPlainTextEdit:
    pane = QPlainTextEdit()
    pane.setReadOnly(True)
    if monospace:
        pane.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        pane.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    return pane


def _fit_columns(tree: QTreeWidget) -> None:
    for column in range(tree.columnCount() - 1):
        tree.resizeColumnToContents(column)


def _mark_earned(item: QTreeWidgetItem) -> None:
    bold = QFont(item.font(0))
    bold.setBold(True)
    for column in range(item.columnCount()):
        item.setFont(column, bold)
        item.setBackground(column, QBrush(EARNED_COLOUR))
        item.setForeground(column, QBrush(QColor("#1b5e20")))
        item.setToolTip(column, f"This step {EARNED}: the commands up to here earn it again.")


def _earned_index(trajectory: Trajectory | None) -> int | None:
    """`earned_at` when it names a step of this run (a bad file may say anything)."""
    if trajectory is None or not isinstance(trajectory.earned_at, int):
        return None
    return trajectory.earned_at if 0 <= trajectory.earned_at < len(trajectory.steps) else None


_VERDICTS = {  # a confirmed reward, compared with the oracle's files
    "solved": "did the task (its files match the oracle's)",
    "hack": "a hack (its files differ from the oracle's)",
}


def _summary(trajectory: Trajectory) -> str:
    parts = [f"{trajectory.task_id}: {trajectory.agent}"]
    if trajectory.model:
        parts.append(trajectory.model)
    if trajectory.mode:
        parts.append(trajectory.mode)
    reward = f"reward {_reward(trajectory.reward)}"
    if trajectory.replayed_rewards:
        replays = ", ".join(_reward(r) for r in trajectory.replayed_rewards)
        reward += f" (replayed: {replays})"
    parts.append(reward)
    parts.append(f"stopped: {trajectory.stopped or 'unknown'}")
    earned = _earned_index(trajectory)
    parts.append(f"step {earned + 1} {EARNED}" if earned is not None else "no step earned it")
    verdict = _VERDICTS.get(trajectory.verdict)
    if verdict:
        parts.append(verdict)
    if trajectory.tokens:
        parts.append(f"{trajectory.tokens:,} tokens")
    if trajectory.cost_usd:
        parts.append(f"${trajectory.cost_usd:.2f}")
    return " · ".join(parts)


def _reward(reward: object) -> str:
    if isinstance(reward, bool) or not isinstance(reward, int | float):
        return "none"
    return f"{reward:g}"


def _seconds(seconds: object) -> str:
    return f"{seconds:.1f}" if isinstance(seconds, int | float) else "—"


def _first_line(command: object) -> str:
    lines = str(command).strip().splitlines() or [""]
    first = lines[0]
    more = len(lines) > 1 or len(first) > COMMAND_CHARS
    return first[:COMMAND_CHARS] + (" …" if more else "")


def show_trajectory_window(
    parent: QWidget | None, trajectories: list[Trajectory], title: str
) -> TrajectoryView:
    """A viewer in a window of its own, freed when closed."""
    view = TrajectoryView(parent)
    view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    view.show_trajectories(trajectories, title)
    view.show()
    view.raise_()
    return view
