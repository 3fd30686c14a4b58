"""The pack card (`gauntlet-card/1`) as a readable page: what was measured and how (models,
dates, samples, cache hits, cost), the signal share and pass rates, the bounty's targets met or
not, four charts, the findings, every task and the failing samples next to the grader's verdict.

`standalone_html` is one self-contained HTML file (inline CSS and SVG, no script, no external
address): `gauntlet calibrate` writes it next to card.json, `gauntlet card --html` and the
platform serve it. `page_with_png_charts` is the same page for the app's text browser, which
shows no inline SVG. A card may come from a stranger: every piece of text in it is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.atomic import write_text_atomic
from app.calibrate import card_data
from app.calibrate.card_charts import CardChart, card_charts
from app.calibrate.card_data import TaskRow, block, number, text
from app.calibrate.targets import MET, NOT_MET, TargetResult, results_from_json
from app.finding_codes import CATALOGUE
from app.funnel.report_page import CSS, inline_svg

STATUS_COLOURS = {MET: "#067647", NOT_MET: "#b42318"}
UNKNOWN_COLOUR = "#59636e"
EXTRA_CSS = """
pre.reply { white-space: pre-wrap; word-break: break-word; margin: 0; background: #f6f8fa;
  padding: 4px 6px; border-radius: 4px; font-size: 12px; }
td.num { font-variant-numeric: tabular-nums; }
.warn { color: #b54708; }
"""
ChartMarkup = Callable[[CardChart], str]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def standalone_html(card: dict[str, Any], targets: list[TargetResult] | None = None) -> str:
    """The page as one HTML file with its charts inline as SVG."""

    def svg(chart: CardChart) -> str:
        width, height = chart.size()
        return inline_svg(chart.render("svg").decode("utf-8"), width, height, chart.title)

    return page_html(card, svg, targets)


def export_html(
    card: dict[str, Any], path: str | Path, targets: list[TargetResult] | None = None
) -> None:
    """Writes the standalone page to `path`, atomically."""
    write_text_atomic(path, standalone_html(card, targets))


def page_with_png_charts(
    card: dict[str, Any], targets: list[TargetResult] | None = None
) -> tuple[str, dict[str, bytes]]:
    """The page for a viewer that takes pictures as resources: (html, {image name: PNG})."""
    images: dict[str, bytes] = {}

    def image(chart: CardChart) -> str:
        name = f"card-{chart.key}.png"
        images[name] = chart.render("png", dpi=192)
        width, height = chart.size()
        return f'<img src="{name}" width="{width}" height="{height}" alt="{_e(chart.title)}">'

    # Qt's text browser applies line-height to a line holding an image: a gap under each chart
    page = page_html(card, image, targets).replace("line-height: 1.45;", "", 1)
    return page, images


def page_html(
    card: dict[str, Any], chart_markup: ChartMarkup, targets: list[TargetResult] | None = None
) -> str:
    package = block(card, "package")
    name = text(package.get("name")) or "package"
    title = f"Pack card: {name}"
    rows = card_data.task_rows(card)
    if targets is None and isinstance(card.get("targets"), dict):  # recorded when it was made
        targets = results_from_json(card["targets"].get("results"))
    parts = [
        f"<h1>{_e(title)}</h1>",
        _package_line(package),
        *_how_measured(card),
        *_summary(card, rows),
        *_targets(targets),
        *_charts(card, chart_markup),
        *_findings(card),
        *_tasks(card, rows),
        *_failures(rows),
        f'<p class="dim">Made by Gauntlet Studio from a {card_data.CARD_SCHEMA} card.</p>',
    ]
    body = "\n".join(part for part in parts if part)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}{EXTRA_CSS}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _table(head: list[str] | None, rows: list[list[str]], widths: tuple[int, ...] = ()) -> str:
    sized = [f' width="{w}%"' for w in widths] + [""] * len(head or [])
    cells = [f"<th{w}>{h}</th>" for h, w in zip(head or [], sized, strict=False)]
    header = "<tr>" + "".join(cells) + "</tr>" if head else ""
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f'<table cellspacing="0" cellpadding="6" width="100%">{header}{body}</table>'


def _package_line(package: dict[str, Any]) -> str:
    bits = []
    for key, label in (("version", "version"), ("kind", "kind"), ("grader", "grader")):
        if package.get(key) not in (None, ""):
            bits.append(f"{label} {_e(package[key])}")
    if number(package.get("tasks")) is not None:
        bits.append(f"{number(package.get('tasks')):.0f} tasks")
    return f'<p class="dim">{" · ".join(bits)}</p>' if bits else ""


def _how_measured(card: dict[str, Any]) -> list[str]:
    """Models, dates, samples, cache hits and cost: what a reader needs to judge the card."""
    sampling, requests = block(card, "sampling"), block(card, "requests")
    cost, grading = block(card, "cost"), block(card, "grading")
    models = card_data.models(card)
    facts = [
        ("Models", ", ".join(f"<code>{_e(m)}</code>" for m in models) or "none"),
        ("Run", f"{_e(text(card.get('started')) or '?')} → {_e(text(card.get('finished')) or '?')}"
         " (UTC)"),
        ("Samples", _samples_text(sampling)),
        ("Requests", f"{_count(requests.get('total'))} in all: {_count(requests.get('made'))} made "
         f"by this run, {_count(requests.get('cache_hits'))} from the cache, "
         f"{_count(requests.get('not_sampled'))} not sampled"
         + (f" ({_count(requests['agent_turns'])} model turns)" if "agent_turns" in requests
            else "")),
        ("Cost", _cost_text(cost)),
        ("Grading", _grading_text(grading)),
    ]  # fmt: skip
    if text(card.get("format_note")):
        facts.append(("Format failures", _e(card["format_note"])))
    rows = [[f"<td><b>{label}</b></td>", f"<td>{value}</td>"] for label, value in facts]
    status = (
        "<p>The card covers every sample.</p>"
        if card.get("complete") is True
        else '<p class="warn">This run stopped early: the numbers cover only what was sampled '
        "and graded (see Requests and Grading).</p>"
    )
    return ["<h2>How it was measured</h2>", _table(None, rows, (15, 85)), status]


def _samples_text(sampling: dict[str, Any]) -> str:
    per = f"{_count(sampling.get('samples_per_task'))}"
    heat = f"temperature {_e(sampling.get('temperature', '?'))}"
    if "max_steps" in sampling:  # an agentic package: a sample is a whole agent run
        return (
            f"{per} honest agent runs per task and model (at most "
            f"{_count(sampling.get('max_steps'))} commands each), {heat}, at most "
            f"{_count(sampling.get('max_tokens'))} tokens per model turn; each run graded by the "
            "task's verifier in the sandbox"
        )
    return (
        f"{per} per task and model, {heat}, at most {_count(sampling.get('max_tokens'))} "
        "tokens per reply"
    )


def _count(value: Any) -> str:
    found = number(value)
    return "?" if found is None else f"{found:,.0f}"


def _cost_text(cost: dict[str, Any]) -> str:
    spent, budget = number(cost.get("spent_usd")), number(cost.get("budget_usd"))
    said = "?" if spent is None else f"${spent:.4f}"
    said += f" spent by this run (cap ${budget:.2f})" if budget is not None else " spent"
    if cost.get("stopped_by_budget") is True:
        said += ', <span class="warn">stopped at the cap</span>'
    unpriced = [m for m in cost.get("unpriced_models") or [] if isinstance(m, str)]
    if unpriced:
        said += f"; no known price for {_e(', '.join(unpriced))}"
    return said


def _grading_text(grading: dict[str, Any]) -> str:
    said = f"sandbox {_e(text(grading.get('backend')) or '?')}"
    if grading.get("weak_backend") is True:
        said += ' <span class="warn">(the weaker process sandbox)</span>'
    if grading.get("stopped"):
        said += f'; <span class="warn">stopped: {_e(grading["stopped"])}</span>'
    return said


def _summary(card: dict[str, Any], rows: list[TaskRow]) -> list[str]:
    share = number(card.get("signal_share"))
    with_signal, complete = card.get("tasks_with_signal"), card.get("tasks_complete")
    headline = (
        f"<p><b>Signal share: {'n/a' if share is None else f'{share:.2f}'}</b> — "
        f"{_count(with_signal)} of {_count(complete)} tasks have a pass rate strictly between 0 "
        "and 1 for at least one model: those can teach something.</p>"
    )
    abilities = card_data.abilities(card)
    head = ["Model", "Pass rate", "95% interval", "Samples"] + (["Ability"] if abilities else [])
    table_rows = []
    per_model = block(card, "per_model")
    for model in card_data.models(card):
        stats = per_model.get(model) if isinstance(per_model.get(model), dict) else {}
        ci = stats.get("pass_at_1_ci95") if isinstance(stats.get("pass_at_1_ci95"), list) else []
        interval = f"[{_rate(number(ci[0]))}, {_rate(number(ci[1]))}]" if len(ci) == 2 else "–"
        row = [
            f"<td><code>{_e(model)}</code></td>",
            f'<td class="num">{_rate(number(stats.get("pass_at_1")))}</td>',
            f'<td class="num">{interval}</td>',
            f'<td class="num">{_count(stats.get("samples"))}</td>',
        ]
        if abilities:
            row.append(f'<td class="num">{_rate(abilities.get(model))}</td>')
        table_rows.append(row)
    note = f'<p class="dim">{_e(card_data.difficulty_note(card))}</p>'
    return ["<h2>Learnability</h2>", headline, _table(head, table_rows), note]


def _targets(targets: list[TargetResult] | None) -> list[str]:
    if targets is None:
        return []
    if not targets:
        return ["<h2>Bounty targets</h2>", '<p class="dim">The bounty states no targets.</p>']
    rows = []
    for result in targets:
        colour = STATUS_COLOURS.get(result.status, UNKNOWN_COLOUR)
        rows.append(
            [
                f"<td>{_e(result.target.describe())}</td>",
                f'<td><span class="badge" style="background-color:{colour}">'
                f"&nbsp;{_e(result.status)}&nbsp;</span></td>",
                f"<td>{_e(result.note)}</td>",
            ]
        )
    met = sum(r.status == MET for r in targets)
    return [
        f"<h2>Bounty targets ({met} of {len(targets)} met)</h2>",
        _table(["Target", "Status", "Measured"], rows),
    ]


def _charts(card: dict[str, Any], chart_markup: ChartMarkup) -> list[str]:
    charts = card_charts(card)
    parts = ["<h2>Charts</h2>"] if charts else []
    for chart in charts:
        parts.append(f"<h3>{_e(chart.title)}</h3>")
        parts.append(f'<p class="caption">{_e(chart.caption)}</p>')
        parts.append(f'<div class="chart">{chart_markup(chart)}</div>')
    return parts


def _findings(card: dict[str, Any]) -> list[str]:
    findings = [f for f in card.get("findings") or [] if isinstance(f, dict)]
    if not findings:
        return ["<h2>Findings</h2>", "<p>No findings.</p>"]
    rows = []
    for finding in findings:
        code = text(finding.get("code"))
        entry = CATALOGUE.get(code)
        title = f"<b>{_e(entry.title)}</b><br>" if entry else ""
        hint = text(finding.get("hint")) or (entry.hint if entry else "")
        fix = f'<br><span class="hint">Fix: {_e(hint)}</span>' if hint else ""
        rows.append(
            [
                f"<td><code>{_e(code)}</code></td>",
                f"<td>{title}{_e(text(finding.get('message')))}{fix}</td>",
                f"<td>{_e(text(finding.get('task_id')))}</td>",
            ]
        )
    return [f"<h2>Findings ({len(findings)})</h2>", _table(["Code", "Problem", "Task"], rows)]


def _tasks(card: dict[str, Any], rows: list[TaskRow]) -> list[str]:
    if not rows:
        return ["<h2>Tasks</h2>", "<p>No task was calibrated.</p>"]
    models = card_data.models(card)
    use_fit = card_data.fitted(card) and any(r.difficulty is not None for r in rows)
    head = ["Task", "Tags", *(f"<code>{_e(m)}</code>" for m in models), "Signal", "Reference"]
    head += ["Difficulty", "Discrimination"] if use_fit else []
    body = []
    for row in rows:
        cells = [f"<td><code>{_e(row.id)}</code></td>", f"<td>{_e(', '.join(row.tags))}</td>"]
        cells += [f'<td class="num">{_rate(row.rates.get(m))}</td>' for m in models]
        cells.append(f"<td>{'yes' if row.signal else 'no'}</td>")
        reference = {True: "passes", False: "fails", None: "–"}[row.reference_passes]
        cells.append(f"<td>{reference}</td>")
        if use_fit:
            cells += [
                f'<td class="num">{_rate(row.difficulty)}</td>',
                f'<td class="num">{_rate(row.discrimination)}</td>',
            ]
        body.append(cells)
    return [
        f"<h2>Tasks ({len(rows)})</h2>",
        '<p class="dim">pass@1 per model (the share of samples reaching the pass threshold).</p>',
        _table(head, body),
    ]


def _failures(rows: list[TaskRow]) -> list[str]:
    failing = [row for row in rows if row.failures]
    if not failing:
        return []
    parts = [
        "<h2>Why did it fail?</h2>",
        '<p class="dim">Up to three failing samples per task: the model\'s reply next to the '
        "grader's verdict.</p>",
    ]
    for row in failing:
        more = row.failures_total - len(row.failures)
        suffix = f" ({more} more failing samples not kept)" if more > 0 else ""
        parts.append(f"<h3>Task <code>{_e(row.id)}</code>{_e(suffix)}</h3>")
        cells = [
            [
                f"<td><code>{_e(f.model)}</code><br>sample {_e(f.sample)}</td>",
                f'<td><pre class="reply">{_e(f.response) or "(empty reply)"}</pre></td>',
                f"<td>{_verdict(f)}</td>",
            ]
            for f in row.failures
        ]
        parts.append(_table(["Model", "Reply", "Grader's verdict"], cells, (20, 45, 35)))
    return parts


def _verdict(failure: card_data.Failure) -> str:
    said = f"reward {_rate(failure.reward)}"
    if failure.format_failure:
        said += ' · <span class="warn">not in the form the grader reads</span>'
    if failure.feedback:
        said += f"<br>{_e(failure.feedback)}"
    if failure.error:
        said += f'<br><span class="warn">{_e(failure.error)}</span>'
    return said
