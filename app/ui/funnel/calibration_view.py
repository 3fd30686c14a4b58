"""The calibration view: a pack card (`gauntlet-card/1`, from `gauntlet calibrate`) in the app.

The per-task table sorts by difficulty (the item-response difficulty when the card has a fit,
else the mean raw pass rate) and by each model's pass rate; selecting a task shows its failing
samples, the model's reply next to the grader's verdict ("Why did this fail?"). The Charts tab
shows the card's four charts; "Open HTML card" opens the self-contained page in the browser.
Opened from the funnel panel's "Calibration…" on the package's .gauntlet/card.json.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QWidget,
)

from app.calibrate import card_data
from app.calibrate.card_charts import card_charts
from app.calibrate.card_data import CardFileError, TaskRow
from app.calibrate.card_html import export_html
from app.calibrate.targets import MET, TargetResult
from app.errors import UserError
from app.paths import cache_dir
from app.ui.funnel.calibration_run import (
    CalibrationDialog,
    CalibrationJob,
    CalibrationRequest,
    prepare,
)
from app.ui.widgets import PageHeader, button_row, push_button, screen_layout

OpenPicker = Callable[[QWidget], str | None]
UrlOpener = Callable[[QUrl], object]
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
DOCUMENT_STYLE = "QTextBrowser { background: #ffffff; color: #1f2328; }"
NO_CARD = (
    "<h2>No pack card yet</h2><p>Calibrate the package against real models first:</p>"
    "<pre>gauntlet calibrate DIR --model openai/gpt-4o-mini --model openai/gpt-4o</pre>"
    "<p>It writes <code>DIR/.gauntlet/card.json</code>, which this view reads; or use "
    "<b>Open card file…</b>.</p>"
)
PICK_TASK = "<p>Select a task to see its failing samples next to the grader's verdict.</p>"


def _pick_card(parent: QWidget) -> str | None:
    path, _filter = QFileDialog.getOpenFileName(
        parent, "Open a pack card", str(Path.home()), "Pack cards (*.json);;All files (*)"
    )
    return path or None


class SortableItem(QTableWidgetItem):
    """A cell shown as text but sorted by a number (missing numbers sort last)."""

    def __init__(self, shown: str, key: float | None) -> None:
        super().__init__(shown)
        self.setData(SORT_ROLE, key)
        self.setFlags(self.flags() & ~Qt.ItemFlag.ItemIsEditable)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if mine is None or theirs is None:
            return mine is not None and theirs is None
        return mine < theirs


@dataclass(slots=True)
class CalibrateContext:
    """What "Calibrate…" needs from the window: the package, its settings and keychain, the
    worker threads, and how to ask for the cost confirmation."""

    package: Path
    settings: Any
    credentials: Any
    job_runner: Any
    confirm: Callable[[QWidget, str, str], bool]


class CalibrationView(QDialog):
    problem = Signal(object)  # a UserError for the window's notifications
    calibrated = Signal(object)  # the card's path, after a calibration from here

    def __init__(
        self,
        *,
        open_picker: OpenPicker = _pick_card,
        open_url: UrlOpener = QDesktopServices.openUrl,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Calibration")
        self.resize(1100, 820)
        self._open_picker, self._open_url = open_picker, open_url
        self.card: dict[str, Any] | None = None
        self.card_path: Path | None = None
        self.targets: list[TargetResult] | None = None
        self.rows: list[TaskRow] = []
        self.images: dict[str, bytes] = {}
        self.header = PageHeader(
            "Calibration",
            "How real models do on each task: where the learning signal is, which tasks no "
            "model or every model solves, and why samples failed.",
        )
        layout = screen_layout(self, self.header, spacing=8)
        self.open_button = push_button("Open card file…", self.choose_file)
        self.html_button = push_button(
            "Open HTML card",
            self.open_html,
            tip="The card as one self-contained page with its charts (card.html), in your browser",
            primary=True,
        )
        self.html_button.setEnabled(False)
        self.calibrate_button = push_button(
            "Calibrate…",
            self.calibrate,
            tip="Ask real models for answers to every task and grade them (you confirm the cost "
            "first); the same as `gauntlet calibrate`",
        )
        self.calibrate_button.setVisible(False)
        self.cancel_button = self._cancel_button()
        self.job: CalibrationJob | None = None
        self._context: CalibrateContext | None = None
        layout.addLayout(
            button_row(
                self.open_button, self.html_button, self.calibrate_button, self.cancel_button
            )
        )
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.summary)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_tasks(), "Tasks")
        self.charts = self._browser()
        self.tabs.addTab(self.charts, "Charts")
        layout.addWidget(self.tabs, 1)
        self._show_empty()

    def _cancel_button(self) -> QPushButton:
        button = push_button(
            "Cancel calibration",
            self.cancel_calibration,
            tip="Stop after the samples in flight: every finished sample stays cached, so "
            "calibrating again resumes where this stopped",
        )
        button.setVisible(False)
        return button

    def _browser(self) -> QTextBrowser:
        browser = QTextBrowser()
        browser.setOpenLinks(False)  # a card's text is never a link to follow
        browser.setStyleSheet(DOCUMENT_STYLE)
        return browser

    def _build_tasks(self) -> QSplitter:
        split = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, 0)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self._show_selected)
        split.addWidget(self.table)
        self.why = self._browser()
        split.addWidget(self.why)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        return split

    # -- API ---------------------------------------------------------------------------------

    def open_file(self, path: str | Path) -> bool:
        """Shows the card in `path`; a missing or unreadable one is said in words."""
        try:
            card = card_data.load_card(path)
        except CardFileError as exc:
            if Path(path).name == "card.json" and not Path(path).exists():
                self._show_empty()
                self.summary.setText(f"No card at {html.escape(str(path))} yet.")
                return False
            self._fail(UserError(str(exc), "Choose a card.json from `gauntlet calibrate`.",
                                 where=str(path)))  # fmt: skip
            return False
        self.show_card(card, Path(path))
        return True

    def show_card(
        self,
        card: dict[str, Any],
        path: Path | None = None,
        targets: list[TargetResult] | None = None,
    ) -> None:
        """Shows `card` (read from `path`, if from a file) with a bounty's checked `targets`."""
        self.card, self.card_path, self.targets = card, path, targets
        self.rows = card_data.task_rows(card)
        package = card_data.block(card, "package")
        self.header.set_text(f"Calibration: {card_data.text(package.get('name')) or 'package'}")
        self.summary.setText(_summary(card) + _targets_line(targets))
        self._fill_table(card)
        self._fill_charts(card)
        self.html_button.setEnabled(True)
        self.why.setHtml(PICK_TASK)

    def choose_file(self) -> None:
        path = self._open_picker(self)
        if path:
            self.open_file(path)

    def open_html(self) -> None:
        """Writes card.html next to the card (it is rebuilt from the JSON), or for a card from
        the platform into the cache folder, and opens it in the browser."""
        if self.card is None:
            return
        if self.card_path is not None:
            target = self.card_path.parent / "card.html"
        else:
            name = card_data.text(card_data.block(self.card, "package").get("name")) or "card"
            target = cache_dir() / "cards" / f"{_file_safe(name)}.html"
        try:
            export_html(self.card, target, self.targets)
        except OSError as exc:
            said = f"the page could not be written: {exc.strerror or exc}."
            self._fail(UserError(said, "Choose a folder you can write to.", where=str(target)))
            return
        self._open_url(QUrl.fromLocalFile(str(target)))

    # -- calibrating from the app -------------------------------------------------------------

    def set_calibrate_context(self, context: CalibrateContext) -> None:
        """Offer "Calibrate…" on `context.package` (the funnel panel's open package)."""
        self._context = context
        self.calibrate_button.setVisible(context.job_runner is not None)

    def calibrate(self) -> None:
        context = self._context
        if context is None:
            return
        models = context.settings.llm_models() if context.settings is not None else []
        if not models:
            hint = "Add one in Settings → Language models, then calibrate."
            self._fail(UserError("no language model is set up.", hint))
            return
        dialog = CalibrationDialog(models, parent=self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        backend = context.settings.sandbox_backend if context.settings is not None else "auto"
        request = CalibrationRequest(
            context.package, dialog.chosen(), dialog.samples.value(), dialog.budget.value(), backend
        )
        self.start_calibration(request)

    def start_calibration(self, request: CalibrationRequest) -> None:
        """Estimate the cost (worker thread), ask, and only then sample and grade."""
        context = self._context
        self.calibrate_button.setEnabled(False)
        self.summary.setText("Estimating the cost…")
        context.job_runner.run_in_thread(
            prepare, request, context.credentials,
            on_done=lambda prepared: self._confirm_cost(request, *prepared),
            on_error=self._calibration_failed,
        )  # fmt: skip

    def _confirm_cost(self, request: CalibrationRequest, calibration, estimate) -> None:
        from app.calibrate.analysis import task_ids

        models = ", ".join(entry["model"] for entry in request.models)
        tasks = len(task_ids(calibration.pack))
        text = (
            f"{models} will answer each of the {tasks} tasks {request.samples} time(s); your "
            "tasks' prompts are sent to them.\n\n"
        )
        if calibration.pack.is_agentic:
            text = (
                f"{models} will each run the agent on each of the {tasks} tasks "
                f"{request.samples} time(s): your tasks' instructions and what their commands "
                "print are sent to them, and the commands run in the sandbox.\n\n"
            )
        text += f"Cost: {estimate.describe(request.budget_usd)}.\n\nContinue?"
        if not self._context.confirm(self, "Calibrate against real models?", text):
            self.summary.setText("Calibration not started: nothing was sent.")
            self.calibrate_button.setEnabled(True)
            return
        self.job = CalibrationJob()
        self.job.progress.connect(self.summary.setText)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setVisible(True)
        self._context.job_runner.run_in_thread(
            self.job.run, calibration, request.package,
            on_done=self._calibrated, on_error=self._calibration_failed,
        )  # fmt: skip

    def cancel_calibration(self) -> None:
        """Stop the running calibration cleanly (its finished samples stay cached)."""
        if self.job is not None:
            self.job.cancel.cancel()
            self.cancel_button.setEnabled(False)
            self.summary.setText("Cancelling: the samples in flight stop at their next step…")

    def _calibrated(self, result: tuple[dict[str, Any], Path] | None) -> None:
        self.calibrate_button.setEnabled(True)
        self.cancel_button.setVisible(False)
        if result is None:
            cached = self.job.cached if self.job is not None else 0
            self.summary.setText(
                f"Calibration cancelled: {cached} finished sample(s) are cached. Calibrate "
                "again to resume: cached samples cost nothing."
            )
            return
        card, path = result
        self.show_card(card, path)
        self.calibrated.emit(path)

    def _calibration_failed(self, exc: BaseException) -> None:
        self.calibrate_button.setEnabled(True)
        self.cancel_button.setVisible(False)
        if not isinstance(exc, UserError):
            exc = UserError(f"the calibration stopped: {exc}.", "Check the models and try again.")
        self._fail(exc)

    # -- filling -----------------------------------------------------------------------------

    def _show_empty(self) -> None:
        self.card, self.rows = None, []
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.charts.setHtml(NO_CARD)
        self.why.setHtml(NO_CARD)
        self.html_button.setEnabled(False)

    def _fill_table(self, card: dict[str, Any]) -> None:
        models = card_data.models(card)
        use_fit = card_data.fitted(card) and any(r.difficulty is not None for r in self.rows)
        difficulty = "Difficulty (fit)" if use_fit else "Mean pass rate"
        heads = ["Task", "Tags", difficulty, *models, "Signal", "Reference", "Failing samples"]
        self.table.setSortingEnabled(False)
        self.table.clear()
        self.table.setColumnCount(len(heads))
        self.table.setHorizontalHeaderLabels(heads)
        self.table.horizontalHeaderItem(2).setToolTip(card_data.difficulty_note(card))
        self.table.setRowCount(len(self.rows))
        for index, row in enumerate(self.rows):
            level = row.difficulty if use_fit else row.mean_rate
            cells = [
                SortableItem(row.id, None),
                SortableItem(", ".join(row.tags), None),
                SortableItem(_number(level), level),
                *(SortableItem(_number(row.rates.get(m)), row.rates.get(m)) for m in models),
                SortableItem("yes" if row.signal else "no", float(row.signal)),
                SortableItem({True: "passes", False: "fails", None: "–"}[row.reference_passes],
                             None),
                SortableItem(str(row.failures_total), float(row.failures_total)),
            ]  # fmt: skip
            cells[0].setData(SORT_ROLE, row.id)
            cells[1].setData(SORT_ROLE, ", ".join(row.tags))
            for column, item in enumerate(cells):
                self.table.setItem(index, column, item)
        self.table.setSortingEnabled(True)
        # hardest first: the highest fitted difficulty, or the lowest pass rate
        order = Qt.SortOrder.DescendingOrder if use_fit else Qt.SortOrder.AscendingOrder
        self.table.sortItems(2, order)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)

    def _fill_charts(self, card: dict[str, Any]) -> None:
        document = self.charts.document()
        document.clear()
        self.images, parts = {}, []
        for chart in card_charts(card):
            name = f"card-{chart.key}.png"
            self.images[name] = chart.render("png", dpi=192)
            document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name),
                                 QImage.fromData(self.images[name], "PNG"))  # fmt: skip
            width, height = chart.size()
            parts.append(
                f"<h3>{html.escape(chart.title)}</h3><p>{html.escape(chart.caption)}</p>"
                f'<img src="{name}" width="{width}" height="{height}">'
            )
        self.charts.setHtml("".join(parts) or "<p>This card has no numbers to chart.</p>")

    def _show_selected(self) -> None:
        selected = self.table.selectedItems()
        if not selected:
            self.why.setHtml(PICK_TASK)
            return
        task_id = self.table.item(selected[0].row(), 0).text()
        row = next((r for r in self.rows if r.id == task_id), None)
        if row is not None:
            self.why.setHtml(why_html(row))

    def _fail(self, error: UserError) -> None:
        self.summary.setText(html.escape(f"{error.where}: {error.message} {error.hint}"))
        self.problem.emit(error)


def _file_safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name)[:80] or "card"


def _targets_line(targets: list[TargetResult] | None) -> str:
    if targets is None:
        return ""
    if not targets:
        return "<br>The bounty states no calibration targets."
    met = sum(t.status == MET for t in targets)
    each = "; ".join(f"{html.escape(t.target.describe())}: <b>{t.status}</b>" for t in targets)
    return f"<br>Bounty targets: {met} of {len(targets)} met ({each})"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _summary(card: dict[str, Any]) -> str:
    share = card_data.number(card.get("signal_share"))
    requests = card_data.block(card, "requests")
    sampling = card_data.block(card, "sampling")
    models = card_data.models(card)
    said = (
        f"<b>Signal share {'n/a' if share is None else f'{share:.2f}'}</b> "
        f"({card.get('tasks_with_signal', '?')} of {card.get('tasks_complete', '?')} tasks) · "
        f"{len(models)} model(s) × {sampling.get('samples_per_task', '?')} samples · "
        f"{requests.get('cache_hits', '?')} of {requests.get('total', '?')} from the cache · "
        f"finished {html.escape(card_data.text(card.get('finished')) or '?')}"
    )
    if card.get("complete") is not True:
        said += " · <b>incomplete run</b>"
    return said


def why_html(row: TaskRow) -> str:
    """The task's failing samples: the model's reply next to the grader's verdict."""
    e = html.escape
    if not row.failures:
        return f"<h3>Task {e(row.id)}</h3><p>No failing sample: every sample passed.</p>"
    more = row.failures_total - len(row.failures)
    parts = [
        f"<h3>Why did {e(row.id)} fail?</h3>",
        f"<p>{row.failures_total} failing sample(s)"
        + (f"; the card keeps the first {len(row.failures)}" if more > 0 else "")
        + ".</p>",
        '<table cellspacing="0" cellpadding="6" width="100%" border="1" style="border-collapse:'
        'collapse; border-color:#d0d7de"><tr><th>Model</th><th width="50%">The model\'s reply'
        "</th><th>The grader's verdict</th></tr>",
    ]
    for failure in row.failures:
        verdict = f"reward {_number(failure.reward)}"
        if failure.format_failure:
            verdict += "<br><b>not in the form the grader reads</b>"
        if failure.feedback:
            verdict += f"<br>{e(failure.feedback)}"
        if failure.error:
            verdict += f"<br><i>{e(failure.error)}</i>"
        parts.append(
            f"<tr><td>{e(failure.model)}<br>sample {e(str(failure.sample))}</td>"
            f"<td><pre style='white-space:pre-wrap'>{e(failure.response) or '(empty reply)'}"
            f"</pre></td><td>{verdict}</td></tr>"
        )
    return "".join(parts) + "</table>"


def open_card_window(
    parent: QWidget, result: tuple[dict[str, Any], list[TargetResult]], source: str
) -> CalibrationView:
    """A submission's pack card from the platform (`app.sync.cards.fetch_card`'s result) in a
    calibration view of its own; `source` says whose card it is."""
    card, targets = result
    view = CalibrationView(parent=parent)
    view.show_card(card, targets=targets)
    view.setWindowTitle(f"Pack card · {source}")
    view.show()
    return view
