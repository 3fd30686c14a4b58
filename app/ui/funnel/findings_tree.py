"""Findings as a tree: stage → severity → finding, in plain words, with the fix hint on hand."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem, QWidget

from app.findings import Finding, Severity, Stage
from app.ui.icons import icon

STAGE_TITLES = {
    Stage.STRUCTURE: "Stage 1 · Structure checks",
    Stage.VERIFY: "Stage 2 · Verification in the sandbox",
    Stage.ATTACK: "Stage 3 · Stress test (reward-hack attacks)",
}
SEVERITY_TITLES = {
    Severity.ERROR: "Must fix",
    Severity.WARNING: "Worth a look",
    Severity.INFO: "For your information",
}
SEVERITY_ICONS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}
FindingRole = Qt.ItemDataRole.UserRole + 10


class FindingsTree(QTreeWidget):
    jump_requested = Signal(str, int, int)  # file, line, column (1-based)
    finding_selected = Signal(object)  # Finding | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["Finding", "Where"])
        self.setColumnCount(2)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.header().setStretchLastSection(False)
        self.header().resizeSection(1, 120)
        from PySide6.QtWidgets import QHeaderView

        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self._stage_items: dict[Stage, QTreeWidgetItem] = {}
        self._severity_items: dict[tuple[Stage, Severity], QTreeWidgetItem] = {}
        self._findings: list[Finding] = []
        self.itemActivated.connect(self._on_activated)
        self.itemDoubleClicked.connect(self._on_activated)
        self.currentItemChanged.connect(self._on_current)

    def findings(self) -> list[Finding]:
        return list(self._findings)

    def clear_findings(self) -> None:
        self.clear()
        self._stage_items.clear()
        self._severity_items.clear()
        self._findings.clear()

    def add_finding(self, finding: Finding) -> QTreeWidgetItem:
        self._findings.append(finding)
        parent = self._severity_item(finding.stage, finding.severity)
        item = QTreeWidgetItem([finding_text(finding), finding_location(finding)])
        item.setIcon(0, icon(SEVERITY_ICONS[finding.severity], size=16))
        item.setData(0, FindingRole, finding)
        tooltip = finding.message + (f"\n\nHow to fix: {finding.hint}" if finding.hint else "")
        if finding.file and finding.line:
            tooltip += "\n\nDouble-click to open the file at this line."
        item.setToolTip(0, tooltip)
        item.setToolTip(1, finding.location())
        parent.addChild(item)
        self._update_counts(finding.stage)
        return item

    def _stage_item(self, stage: Stage) -> QTreeWidgetItem:
        item = self._stage_items.get(stage)
        if item is None:
            item = QTreeWidgetItem([STAGE_TITLES.get(stage, str(stage)), ""])
            font = item.font(0)
            font.setBold(True)
            item.setFont(0, font)
            order = list(STAGE_TITLES)
            index = sum(1 for s in self._stage_items if order.index(s) < order.index(stage))
            self.insertTopLevelItem(index, item)
            item.setExpanded(True)
            self._stage_items[stage] = item
        return item

    def _severity_item(self, stage: Stage, severity: Severity) -> QTreeWidgetItem:
        key = (stage, severity)
        item = self._severity_items.get(key)
        if item is None:
            parent = self._stage_item(stage)
            item = QTreeWidgetItem([SEVERITY_TITLES[severity], ""])
            item.setIcon(0, icon(SEVERITY_ICONS[severity], size=16))
            order = list(SEVERITY_TITLES)
            index = sum(
                1
                for (s, sev) in self._severity_items
                if s == stage and order.index(sev) < order.index(severity)
            )
            parent.insertChild(index, item)
            item.setExpanded(severity != Severity.INFO)
            self._severity_items[key] = item
        return item

    def _update_counts(self, stage: Stage) -> None:
        stage_item = self._stage_items[stage]
        counts = []
        for severity in SEVERITY_TITLES:
            item = self._severity_items.get((stage, severity))
            if item is not None:
                item.setText(0, f"{SEVERITY_TITLES[severity]} ({item.childCount()})")
                counts.append(
                    f"{item.childCount()} {severity}{'s' if item.childCount() != 1 else ''}"
                )
        stage_item.setText(0, f"{STAGE_TITLES.get(stage, str(stage))} — {', '.join(counts)}")

    def _on_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        finding = item.data(0, FindingRole)
        if isinstance(finding, Finding) and finding.file:
            self.jump_requested.emit(finding.file, finding.line or 1, finding.column or 1)

    def _on_current(self, current: QTreeWidgetItem | None, _previous) -> None:
        finding = current.data(0, FindingRole) if current is not None else None
        self.finding_selected.emit(finding if isinstance(finding, Finding) else None)


def finding_text(finding: Finding) -> str:
    text = finding.message
    if finding.task_id and (not finding.file or finding.stage != Stage.STRUCTURE):
        text = f"Task {finding.task_id}: {text}"
    return text


def finding_location(finding: Finding) -> str:
    if not finding.file:
        return ""
    return f"{finding.file}:{finding.line}" if finding.line else finding.file
