"""The funnel report as a readable page: the verdict, the stages, charts and every finding.

`standalone_html` is one self-contained HTML file (inline CSS and SVG charts, no script, no
external address): `gauntlet report --html`, `gauntlet run --html` and the app's "Export HTML…".
`page_with_png_charts` is the same page for the app's text browser, with the charts as PNG
images it adds as document resources. Reports can come from strangers' packages, so every piece
of text from a report is escaped. Documented in docs/report.md.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

from app import strict_json
from app.atomic import write_text_atomic
from app.finding_codes import CATALOGUE
from app.findings import Finding, Severity, Stage
from app.funnel import report_charts
from app.funnel.report import REPORT_SCHEMA, Report, StageResult

SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
SEVERITY_COLOURS = {
    Severity.ERROR: "#b42318",
    Severity.WARNING: "#b54708",
    Severity.INFO: "#175cd3",
}
VERDICT_TEXT = {
    "pass": ("PASS", "#067647", "No errors: the package passed every stage that ran."),
    "fail": ("FAIL", "#b42318", "At least one error: the package needs the changes listed below."),
    "error": ("COULD NOT RUN", "#b54708", "The funnel could not run to the end"),
}
STAGE_TITLES = {
    "structure": "1 · Structure",
    "verify": "2 · Sandbox verification",
    "attack": "3 · Stress test (attacks)",
}
CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1f2328; background: #ffffff; margin: 24px auto; max-width: 980px; line-height: 1.45; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 14px; margin-bottom: 2px; }
.dim { color: #59636e; }
.verdict { font-size: 15px; padding: 10px 12px; border-radius: 6px; background: #f6f8fa; }
.badge { color: #ffffff; font-weight: bold; padding: 1px 6px; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; margin-top: 6px; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px;
  border-bottom: 1px solid #d0d7de; }
th { background: #f6f8fa; font-weight: 600; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 90%; }
.hint { color: #1a7f37; }
.chart { margin: 4px 0 12px 0; }
.caption { color: #59636e; margin: 0 0 4px 0; }
"""


class ReportFileError(ValueError):
    """A file that is not a readable gauntlet-report/1 report; the message says why."""


def load_report(path: str | Path) -> Report:
    """A report read from a JSON file, or a `ReportFileError` that says what is wrong with it
    (the message does not repeat the path: callers show it as the place)."""
    data = strict_json.load_file(path, "report", ReportFileError)
    if not isinstance(data, dict) or data.get("schema") != REPORT_SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else None
        said = f'its "schema" is {found!r}' if found else 'it has no "schema" field'
        raise ReportFileError(f"not a {REPORT_SCHEMA} report: {said}.")
    try:
        return Report.from_dict(data)
    except KeyError as exc:
        raise ReportFileError(f"a malformed report: a finding or stage lacks {exc}.") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise ReportFileError(f"a malformed report: {exc}.") from None


def standalone_html(report: Report) -> str:
    """The page as one HTML file with its charts inline as SVG."""
    return page_html(report, _inline_svg)


def export_html(report: Report, path: str | Path) -> None:
    """Writes the standalone page to `path`, atomically (never a half-written file)."""
    write_text_atomic(path, standalone_html(report))


def page_with_png_charts(report: Report) -> tuple[str, dict[str, bytes]]:
    """The page for a viewer that takes pictures as resources: (html, {image name: PNG})."""
    images: dict[str, bytes] = {}

    def image(chart: report_charts.Chart) -> str:
        name = f"chart-{chart.key}.png"
        images[name] = report_charts.render_png(chart)
        width, height = report_charts.chart_size(chart)
        return f'<img src="{name}" width="{width}" height="{height}" alt="{_e(chart.title)}">'

    return page_html(report, image), images


def page_html(report: Report, chart_markup: Callable[[report_charts.Chart], str]) -> str:
    name = report.package.name or Path(report.package.path).name or "package"
    title = f"Gauntlet report: {name}"
    parts = [
        f"<h1>{_e(title)}</h1>",
        _package_line(report),
        _verdict(report),
        "<h2>Stages</h2>",
        _stages_table(report.stages),
        *_charts(report, chart_markup),
        *_rubric_table(report),
        *_findings(report.findings),
        f'<p class="dim">Made by Gauntlet Studio from a {REPORT_SCHEMA} report.</p>',
    ]
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _package_line(report: Report) -> str:
    package = report.package
    bits = []
    if package.version:
        bits.append(f"version {_e(package.version)}")
    if package.path:
        bits.append(f"folder <code>{_e(package.path)}</code>")
    if package.digest:
        bits.append(f"content <code>{_e(package.digest[:23])}…</code>")
    return f'<p class="dim">{" · ".join(bits)}</p>' if bits else ""


def _verdict(report: Report) -> str:
    word, colour, meaning = VERDICT_TEXT[str(report.verdict)]
    if str(report.verdict) == "error":
        meaning += f": {report.error}." if report.error else "; see the stages below."
    counts = {s: sum(f.severity == s for f in report.findings) for s in SEVERITY_ORDER}
    tally = (
        f"{counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} warning(s), "
        f"{counts[Severity.INFO]} note(s)"
    )
    return (
        f'<p class="verdict"><span class="badge" style="background-color:{colour}">'
        f'&nbsp;{word}&nbsp;</span>&nbsp; {_e(meaning)} <span class="dim">({tally})</span></p>'
    )


def _stages_table(stages: list[StageResult]) -> str:
    if not stages:
        return '<p class="dim">No stage ran.</p>'
    rows = [
        f"<tr><td>{_e(STAGE_TITLES.get(str(s.name), s.name))}</td><td>{_e(s.status)}</td>"
        f"<td>{s.duration_s:.2f} s</td><td>{_e(_stage_note(s))}</td></tr>"
        for s in stages
    ]
    return (
        '<table cellspacing="0" cellpadding="6" width="100%">'
        "<tr><th>Stage</th><th>Result</th><th>Time</th><th>Notes</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _stage_note(stage: StageResult) -> str:
    details = stage.details if isinstance(stage.details, dict) else {}
    if details.get("reason"):
        return str(details["reason"])
    notes = []
    for key, label in (
        ("references_passed", "references passing"),
        ("negatives_at_floor", "negatives at the floor"),
        ("empty_at_floor", "empty responses at the floor"),
    ):
        counts = details.get(key)
        if isinstance(counts, dict):
            notes.append(f"{label}: {counts.get('ok', '?')}/{counts.get('total', '?')}")
    if "episodes" in details:  # an agentic package's gates
        notes.append(
            f"{details['episodes']} agent episodes over {details.get('tasks', '?')} task(s)"
        )
    if "confirmed_hits" in details:
        notes.append(
            f"{details.get('gradings', 0)} gradings, confirmed hacks: {details['confirmed_hits']}"
        )
    if details.get("backend"):
        notes.append(f"sandbox: {details['backend']}")
    return "; ".join(notes)


def _charts(report: Report, chart_markup: Callable[[report_charts.Chart], str]) -> list[str]:
    charts = report_charts.charts_for(report)
    if not charts:
        return []
    parts = ["<h2>Charts</h2>"]
    for chart in charts:
        parts.append(f"<h3>{_e(chart.title)}</h3>")
        parts.append(f'<p class="caption">{_e(chart.caption)}</p>')
        parts.append(f'<div class="chart">{chart_markup(chart)}</div>')
    return parts


def _rubric_table(report: Report) -> list[str]:
    """A rubric grader's scores: one row per grading of stage 2, one column per criterion
    (`details.rubric` of the verify stage, written by app/funnel/verify_rubric.py)."""
    stage = report.stage(Stage.VERIFY)
    rubric = stage.details.get("rubric") if stage and isinstance(stage.details, dict) else None
    if not isinstance(rubric, dict) or not isinstance(rubric.get("criteria"), list):
        return []
    criteria = [c for c in rubric["criteria"] if isinstance(c, dict) and "name" in c]
    rows = [r for r in rubric.get("gradings") or [] if isinstance(r, dict)]
    heads = "".join(
        f'<th>{_e(c["name"])}<br><span class="dim">{_e(c.get("by", ""))} · weight '
        f"{_e(c.get('weight', ''))}</span></th>"
        for c in criteria
    )
    body = []
    for row in rows:
        scores = row.get("criteria") if isinstance(row.get("criteria"), dict) else {}
        cells = "".join(f"<td>{_e(_score(scores.get(c['name'])))}</td>" for c in criteria)
        reward = _score(row.get("reward")) if row.get("error") is None else row.get("error")
        body.append(
            f"<tr><td>{_e(row.get('role', ''))}</td><td>{_e(row.get('task_id', ''))}</td>"
            f"<td>{_e(reward)}</td>{cells}</tr>"
        )
    combine = f"combined by {rubric.get('combine', '?')}"
    if rubric.get("threshold") is not None:
        combine += f" (threshold {rubric['threshold']})"
    return [
        "<h2>Rubric: each criterion's score</h2>",
        f'<p class="caption">{_e(combine)}; stage 2\'s first run, '
        f"{len(rows)} of {_e(rubric.get('gradings_total', len(rows)))} gradings.</p>",
        '<table cellspacing="0" cellpadding="6" width="100%">'
        f"<tr><th>Role</th><th>Task</th><th>Reward</th>{heads}</tr>" + "".join(body) + "</table>",
    ]


def _score(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}"
    return "error" if value is None else str(value)


def _findings(findings: list[Finding]) -> list[str]:
    if not findings:
        return ["<h2>Findings</h2>", "<p>No findings: nothing to fix.</p>"]
    ordered = sorted(findings, key=lambda f: SEVERITY_ORDER.get(f.severity, 3))
    rows = [_finding_row(f) for f in ordered]
    return [
        f"<h2>Findings ({len(findings)})</h2>",
        '<table cellspacing="0" cellpadding="6" width="100%">'
        "<tr><th>Severity</th><th>Code</th><th>Problem</th><th>Where</th></tr>"
        + "".join(rows)
        + "</table>",
    ]


def _finding_row(finding: Finding) -> str:
    entry = CATALOGUE.get(finding.code)
    title = f"<b>{_e(entry.title)}</b><br>" if entry else ""
    hint = f'<br><span class="hint">Fix: {_e(finding.hint)}</span>' if finding.hint else ""
    where = _e(_location(finding)) if finding.file else ""
    if finding.task_id:
        where += f"{'<br>' if where else ''}task {_e(finding.task_id)}"
    colour = SEVERITY_COLOURS.get(finding.severity, "#59636e")
    return (
        f'<tr><td><span class="badge" style="background-color:{colour}">'
        f"&nbsp;{_e(finding.severity)}&nbsp;</span></td>"
        f"<td><code>{_e(finding.code)}</code></td>"
        f"<td>{title}{_e(finding.message)}{hint}{_conversation(finding)}</td>"
        f"<td><code>{where}</code></td></tr>"
    )


def _conversation(finding: Finding) -> str:
    """A multi-turn finding's replayed conversation, folded: who said what, tool calls too."""
    evidence = finding.evidence if isinstance(finding.evidence, dict) else {}
    messages = evidence.get("conversation")
    if not isinstance(messages, list) or not messages:
        return ""
    lines = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = str(message.get("role", ""))
        if message.get("name"):
            role += f" {message['name']}"
        text = str(message.get("content") or "")
        calls = message.get("tool_calls")
        if isinstance(calls, list) and calls:
            text = (text + " " if text else "") + "calls " + "; ".join(str(c) for c in calls)
        lines.append(f"<b>{_e(role)}</b>: {_e(text)}")
    return (
        f"<details><summary>The conversation ({len(lines)} messages)</summary>"
        f'<div class="hint">{"<br>".join(lines)}</div></details>'
    )


def _location(finding: Finding) -> str:
    """`file:line:col`, whatever types a hand-edited report put there."""
    parts = [finding.file, finding.line, finding.column if finding.line is not None else None]
    return ":".join(str(part) for part in parts if part is not None)


def _inline_svg(chart: report_charts.Chart) -> str:
    width, height = report_charts.chart_size(chart)
    return inline_svg(report_charts.render_svg(chart), width, height, chart.title)


def inline_svg(svg: str, width: int, height: int, label: str) -> str:
    """matplotlib's SVG, trimmed for inline use: no metadata (it names external vocabularies),
    no namespace declarations (HTML does not need them), scaled to the page's width."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(
        r'<svg\s+width="[^"]*"\s+height="[^"]*"',
        f'<svg width="{width}" height="{height}" role="img" aria-label="{_e(label)}" '
        'style="max-width:100%;height:auto"',
        svg,
        count=1,
    )
    return svg
