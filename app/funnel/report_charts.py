"""The charts of the report page (app/funnel/report_page.py), drawn with matplotlib.

Each chart is read from a `Report` into plain data first (`charts_for`), then drawn to SVG (the
exported HTML file) or PNG (the app, whose text browser shows no inline SVG). Only the Agg and
SVG canvases are used, never a GUI backend: this runs in the CLI, the app and on servers.
A report may come from a stranger's file, so every figure read from it is checked and every
label is drawn as plain text (no mathtext).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.findings import Stage
from app.funnel.report import Report

# A palette that reads on white and for the common colour-vision deficiencies (Okabe-Ito).
GOOD, BAD, NEUTRAL, MUTED = "#009E73", "#D55E00", "#0072B2", "#999999"
ROLES = (("references", "references"), ("negatives", "negatives"), ("empty", "empty responses"))
HIT_CODES = ("GX301", "GX302", "GX310")


@dataclass(slots=True)
class Chart:
    """One chart: what it shows (`title`, `caption`) and the data to draw it."""

    key: str  # file-name-safe, unique on the page
    title: str
    caption: str
    kind: str  # "rewards" | "attacks" | "stages"
    rows: list[tuple[str, list[float], str]] = field(default_factory=list)  # label, values, colour
    lines: list[tuple[float, str]] = field(default_factory=list)  # reference lines: x, label


def charts_for(report: Report) -> list[Chart]:
    """The charts this report has data for (none for a report that stopped at structure)."""
    found = [_rewards_chart(report), _attacks_chart(report), _stages_chart(report)]
    return [chart for chart in found if chart is not None]


def render_svg(chart: Chart) -> str:
    """The chart as an `<svg>` element, ready to sit inline in HTML (no prolog, no DOCTYPE)."""
    text = _render(chart, "svg").decode("utf-8")
    return text[text.index("<svg") :]


def render_png(chart: Chart, scale: float = 2.0) -> bytes:
    """The chart as PNG, `scale` times its CSS size (sharp on high-density screens)."""
    return _render(chart, "png", dpi=96 * scale)


def chart_size(chart: Chart) -> tuple[int, int]:
    """The chart's size in CSS pixels."""
    width, height = _inches(chart)
    return round(width * 96), round(height * 96)


# -- reading the report --------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _numbers(values: Any) -> list[float]:
    if not isinstance(values, list):
        return []
    return [n for n in (_number(v) for v in values) if n is not None]


def _details(report: Report, stage: Stage) -> dict[str, Any]:
    result = report.stage(stage)
    details = result.details if result is not None else None
    return details if isinstance(details, dict) else {}


def _rewards_chart(report: Report) -> Chart | None:
    """Each reward of the references, negatives and empty responses (stage 2), and of each
    confirmed reward hack per attack category (stage 3), against the floor and pass threshold."""
    rewards = _details(report, Stage.VERIFY).get("rewards")
    rewards = rewards if isinstance(rewards, dict) else {}
    rows: list[tuple[str, list[float], str]] = []
    for key, label in ROLES:
        entry = rewards.get(key)
        values = _numbers(entry.get("values")) if isinstance(entry, dict) else []
        if values:
            count = _number(entry.get("count")) or len(values)
            rows.append((f"{label} ({count:g})", values, GOOD if key == "references" else NEUTRAL))
    hits: dict[str, list[float]] = {}
    for finding in report.findings:
        evidence = finding.evidence if isinstance(finding.evidence, dict) else {}
        reward = _number(evidence.get("reward"))
        if finding.code in HIT_CODES and finding.attack is not None and reward is not None:
            hits.setdefault(str(finding.attack.category), []).append(reward)
    rows += [
        (f"attack: {category} ({len(values)})", values, BAD)
        for category, values in sorted(hits.items())
    ]
    if not rows:
        return None
    lines = []
    for name, label in (("floor", "floor"), ("pass_threshold", "pass threshold")):
        value = _number(rewards.get(name))
        if value is not None:
            lines.append((value, label))
    return Chart(
        "rewards",
        "Rewards by role",
        "One dot per grading. References should reach the pass threshold; negatives, empty "
        "responses and attacks should stay at the floor. A red dot is a reward hack.",
        "rewards",
        rows,
        lines,
    )


def _attacks_chart(report: Report) -> Chart | None:
    """Per attack category: the responses tried, and how many earned an undeserved reward."""
    categories = _details(report, Stage.ATTACK).get("categories")
    if not isinstance(categories, dict):
        return None
    rows = []
    for category, stats in categories.items():
        if not isinstance(stats, dict):
            continue
        tried = _number(stats.get("candidates")) or 0.0
        confirmed = _number(stats.get("confirmed")) or 0.0
        unconfirmed = _number(stats.get("unconfirmed")) or 0.0
        if tried or confirmed:
            rows.append((str(category), [tried, confirmed, unconfirmed], NEUTRAL))
    if not rows:
        return None
    return Chart(
        "attacks",
        "Attacks per category",
        "Responses each attack category tried on the grader; the red part is the confirmed "
        "reward hacks (reproduced in fresh sandboxes), the orange part the unconfirmed ones.",
        "attacks",
        rows,
    )


def _stages_chart(report: Report) -> Chart | None:
    rows = [
        (str(stage.name), [max(0.0, _number(stage.duration_s) or 0.0)], NEUTRAL)
        for stage in report.stages
        if str(stage.status) != "skipped"
    ]
    if not rows:
        return None
    return Chart(
        "stages",
        "Time per stage",
        "Wall-clock seconds each stage took (skipped stages are left out).",
        "stages",
        rows,
    )


# -- drawing --------------------------------------------------------------------------------------


def _inches(chart: Chart) -> tuple[float, float]:
    return 7.2, 0.9 + 0.38 * max(len(chart.rows), 2)


def _render(chart: Chart, fmt: str, dpi: float = 96) -> bytes:
    draw = {"rewards": _draw_rewards, "attacks": _draw_attacks, "stages": _draw_stages}[chart.kind]
    return render_figure(chart.key, _inches(chart), lambda axes: draw(axes, chart), fmt, dpi)


def render_figure(
    key: str, inches: tuple[float, float], draw: Callable[[Any], None], fmt: str, dpi: float = 96
) -> bytes:
    """One figure of `inches` with one axes that `draw` fills, as `fmt` ("svg" or "png") bytes.
    Shared with the calibration card's charts (app/calibrate/card_charts.py)."""
    # The object-oriented API with an explicit Agg canvas: no pyplot, no GUI backend, no global
    # figure list, safe from any thread.
    import matplotlib

    matplotlib.use("Agg")  # never a GUI backend, whatever MPLBACKEND or matplotlibrc says
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    settings = {"svg.fonttype": "none", "svg.hashsalt": key, "font.size": 9}
    with rc_context(settings):
        figure = Figure(figsize=inches, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        draw(axes)
        axes.spines[["top", "right"]].set_visible(False)
        buffer = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else {}
        figure.savefig(buffer, format=fmt, dpi=dpi, facecolor="white", metadata=metadata)
    return buffer.getvalue()


def _label_rows(axes, chart: Chart) -> None:
    positions = list(range(len(chart.rows)))
    axes.set_yticks(positions, [plain_label(label) for label, _values, _colour in chart.rows])
    for label in axes.get_yticklabels():
        label.set_parse_math(False)
    axes.invert_yaxis()


def _draw_rewards(axes, chart: Chart) -> None:
    for row, (_label, values, colour) in enumerate(chart.rows):
        axes.scatter(values, [row] * len(values), s=28, color=colour, alpha=0.85, linewidths=0)
    for x, label in chart.lines:
        axes.axvline(x, color=MUTED, linestyle="--", linewidth=1)
        axes.annotate(
            label, (x, 1.0), xycoords=("data", "axes fraction"), ha="center", va="bottom",
            color="#555555", fontsize=8, annotation_clip=False,
        )  # fmt: skip
    axes.set_xlabel("reward")
    # Rewards live in [0, 1] unless the package says otherwise: show that span, not just the dots.
    every = [v for _label, values, _colour in chart.rows for v in values]
    every += [x for x, _label in chart.lines] + [0.0, 1.0]
    pad = (max(every) - min(every)) * 0.04 or 0.05
    axes.set_xlim(min(every) - pad, max(every) + pad)
    axes.set_ylim(-0.5, len(chart.rows) - 0.5)
    axes.set_yticks(range(len(chart.rows)))
    _label_rows(axes, chart)
    axes.grid(axis="x", color="#eeeeee")


def _draw_attacks(axes, chart: Chart) -> None:
    rows = range(len(chart.rows))
    tried = [values[0] for _label, values, _colour in chart.rows]
    confirmed = [values[1] for _label, values, _colour in chart.rows]
    unconfirmed = [values[2] for _label, values, _colour in chart.rows]
    axes.barh(rows, tried, color="#cfe3f3", label="responses tried")
    axes.barh(rows, confirmed, color=BAD, label="confirmed hacks")
    axes.barh(rows, unconfirmed, left=confirmed, color="#E69F00", label="unconfirmed")
    for row, (count, hits) in enumerate(zip(tried, confirmed, strict=True)):
        text = f"{count:g} tried" + (f", {hits:g} hacked" if hits else "")
        axes.annotate(text, (count, row), xytext=(4, 0), textcoords="offset points", va="center")
    axes.set_xlabel("responses")
    axes.margins(x=0.18)
    _label_rows(axes, chart)
    axes.legend(loc="lower right", frameon=False, fontsize=8)


def _draw_stages(axes, chart: Chart) -> None:
    seconds = [values[0] for _label, values, _colour in chart.rows]
    axes.barh(range(len(chart.rows)), seconds, color=NEUTRAL)
    for row, value in enumerate(seconds):
        axes.annotate(
            f"{value:.2f} s", (value, row), xytext=(4, 0), textcoords="offset points", va="center"
        )
    axes.set_xlabel("seconds")
    axes.margins(x=0.15)
    _label_rows(axes, chart)


def plain_label(label: str) -> str:
    """A short, single-line label."""
    label = " ".join(label.split())
    return label if len(label) <= 40 else label[:39] + "…"
