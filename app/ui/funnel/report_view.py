"""The report view: a funnel report as a readable page (verdict, stages, charts, findings with
their fixes), opened from the funnel panel's last run or from a report file, and exported as a
self-contained HTML file. The page itself is app/funnel/report_page.py; here it is shown in a
text browser, whose HTML has no inline SVG, so the charts come as PNG document resources."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QImage, QTextDocument
from PySide6.QtWidgets import QDialog, QFileDialog, QLabel, QTextBrowser, QWidget

from app.errors import UserError
from app.funnel.report import Report
from app.funnel.report_page import ReportFileError, export_html, load_report, page_with_png_charts
from app.ui.widgets import PageHeader, button_row, push_button, screen_layout

OpenPicker = Callable[[QWidget], str | None]
SavePicker = Callable[[QWidget, str], str | None]
EMPTY_PAGE = (
    "<h2>No report yet</h2><p>Run the gauntlet on an environment, or use "
    "<b>Open report file…</b> to read a report saved with <code>gauntlet run DIR --json</code>."
    "</p>"
)


def _pick_report(parent: QWidget) -> str | None:
    path, _filter = QFileDialog.getOpenFileName(
        parent, "Open a funnel report", str(Path.home()), "Funnel reports (*.json);;All files (*)"
    )
    return path or None


def _pick_export(parent: QWidget, suggested: str) -> str | None:
    path, _filter = QFileDialog.getSaveFileName(
        parent, "Export the report as HTML", suggested, "Web page (*.html)"
    )
    return path or None


class ReportView(QDialog):
    """A window of its own, so the report stays readable next to the editor."""

    problem = Signal(object)  # a UserError for the window's notifications

    def __init__(
        self,
        *,
        open_picker: OpenPicker = _pick_report,
        save_picker: SavePicker = _pick_export,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Gauntlet report")
        self.resize(1040, 860)
        self._open_picker = open_picker
        self._save_picker = save_picker
        self.report: Report | None = None
        self.images: dict[str, bytes] = {}
        header = PageHeader(
            "Funnel report",
            "The verdict, each stage, charts and every finding with its fix. "
            "Export it as one HTML file to share it; it opens in any browser, offline.",
        )
        layout = screen_layout(self, header, spacing=8)
        self.open_button = push_button(
            "Open report file…", self.choose_file, tip="Show a report saved as JSON"
        )
        self.export_button = push_button(
            "Export HTML…",
            self.choose_export,
            tip="Save this page as one self-contained HTML file (charts included)",
            primary=True,
        )
        self.export_button.setEnabled(False)
        layout.addLayout(button_row(self.open_button, self.export_button))
        self.status = QLabel("")
        self.status.setObjectName("dimText")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)  # a report's text is never a link to follow
        # A report is a document: dark text on white, whatever the app's theme.
        self.browser.setStyleSheet("QTextBrowser { background: #ffffff; color: #1f2328; }")
        self.browser.setHtml(EMPTY_PAGE)
        layout.addWidget(self.browser, 1)

    # -- API ---------------------------------------------------------------------------------

    def show_report(self, report: Report, source: str = "") -> None:
        """Draws the page for `report` (its charts included); `source` says where it came from."""
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            page, images = page_with_png_charts(report)
        finally:
            QGuiApplication.restoreOverrideCursor()
        document = self.browser.document()
        document.clear()
        for name, png in images.items():
            document.addResource(
                QTextDocument.ResourceType.ImageResource, QUrl(name), QImage.fromData(png, "PNG")
            )
        self.browser.setHtml(page)
        self.report, self.images = report, images
        self.export_button.setEnabled(True)
        self.status.setText(source or "The report of the last run.")

    def open_file(self, path: str | Path) -> bool:
        """Shows the report in `path`; a file that is no report is said in words, not shown."""
        try:
            report = load_report(path)
        except ReportFileError as exc:
            self._fail(
                UserError(
                    str(exc), "Choose a file saved with `gauntlet run DIR --json`.", where=str(path)
                )
            )
            return False
        self.show_report(report, f"From {path}")
        return True

    def export_to(self, path: str | Path) -> bool:
        if self.report is None:
            return False
        try:
            export_html(self.report, path)
        except OSError as exc:
            self._fail(
                UserError(
                    f"the page could not be written: {exc.strerror or exc}.",
                    "Choose a folder you can write to.",
                    where=str(path),
                )
            )
            return False
        self.status.setText(f"Exported to {path}")
        return True

    def choose_file(self) -> None:
        path = self._open_picker(self)
        if path:
            self.open_file(path)

    def choose_export(self) -> None:
        if self.report is None:
            return
        name = self.report.package.name.replace("/", "-") or "report"
        path = self._save_picker(self, str(Path.home() / f"{name}-report.html"))
        if path:
            self.export_to(path)

    def _fail(self, error: UserError) -> None:
        self.status.setText(f"{error.where}: {error.message} {error.hint}")
        self.problem.emit(error)
