"""Where a finding sits in a document, and how it reads in a tooltip.

Findings count lines and columns from 1 in characters (Python string indices); Qt counts
positions in UTF-16 units, so characters outside the Basic Multilingual Plane (emoji, some
scripts) are two units wide. The conversion lives here so squiggles land on the exact range.
"""

from __future__ import annotations

import html
import re

from PySide6.QtGui import QTextDocument

from app.findings import Finding, Severity

_WORD = re.compile(r"[\w.\-+]+|\S")
SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def utf16_index(text: str, index: int) -> int:
    """Qt position of Python index `index` in `text`."""
    index = max(0, min(index, len(text)))
    if text.isascii():
        return index
    return index + sum(1 for ch in text[:index] if ord(ch) > 0xFFFF)


def finding_line(finding: Finding, document: QTextDocument) -> int:
    """0-based block number a finding belongs to (file-level findings sit on the first line)."""
    line = (finding.line or 1) - 1
    return max(0, min(line, document.blockCount() - 1))


def finding_range(finding: Finding, document: QTextDocument) -> tuple[int, int]:
    """Document positions [start, end) to underline for `finding`.

    No column, or column 1 with no end: the line's text without its indentation. A column but no
    end: the word (or single character) at that column. An end past the line: clipped to the
    document.
    """
    block = document.findBlockByNumber(finding_line(finding, document))
    text = block.text()
    if finding.column is None or (finding.column == 1 and finding.end_column is None):
        # No column (or "column 1", which checks use for "the whole record"): the whole line.
        stripped = text.lstrip()
        start = len(text) - len(stripped)
        end = len(text.rstrip()) if stripped else len(text)
        if start >= end:  # empty line: mark the line break so something is visible
            return block.position(), block.position() + max(1, len(text))
        return block.position() + utf16_index(text, start), block.position() + utf16_index(
            text, end
        )

    start_col = max(0, min(finding.column - 1, len(text)))
    start = block.position() + utf16_index(text, start_col)
    if finding.end_line is not None and finding.end_column is not None:
        end_block = document.findBlockByNumber(
            max(0, min(finding.end_line - 1, document.blockCount() - 1))
        )
        end_text = end_block.text()
        end = end_block.position() + utf16_index(end_text, finding.end_column - 1)
        if end > start:
            return start, end
    elif finding.end_column is not None and finding.end_column - 1 > start_col:
        return start, block.position() + utf16_index(text, finding.end_column - 1)
    match = _WORD.match(text, start_col)
    if match is not None:
        return start, block.position() + utf16_index(text, match.end())
    # Past the end of the line (e.g. "missing closing brace"): underline the last character.
    if text:
        return block.position() + utf16_index(text, len(text) - 1), block.position() + utf16_index(
            text, len(text)
        )
    return block.position(), block.position() + 1


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(
        findings, key=lambda f: (SEVERITY_ORDER.get(f.severity, 3), f.line or 0, f.column or 0)
    )


def tooltip_html(findings: list[Finding]) -> str:
    """Rich-text tooltip: one paragraph per finding, worst first, with the fix hint."""
    parts = []
    for finding in sort_findings(findings):
        label = {Severity.ERROR: "Error", Severity.WARNING: "Warning"}.get(finding.severity, "Note")
        text = f"<b>{label}</b> <span style='color:gray'>{html.escape(finding.code)}</span><br>"
        text += html.escape(finding.message)
        if finding.hint:
            text += f"<br><i>How to fix:</i> {html.escape(finding.hint)}"
        parts.append(f"<p style='margin:0 0 6px 0; white-space:pre-wrap'>{text}</p>")
    return "<qt>" + "".join(parts) + "</qt>"
