"""The pack card's charts: the pass-rate histogram, the difficulty ladder, the per-tag breakdown
and the cost per model. Read from the card (app/calibrate/card_data.py), drawn with the report
page's matplotlib helper (Agg/SVG canvases only), so the CLI, the app and the server draw the
same pictures. Labels are drawn as plain text (no mathtext): task ids come from strangers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.calibrate import card_data
from app.calibrate.card_data import TaskRow
from app.funnel.report_charts import BAD, GOOD, MUTED, NEUTRAL, plain_label, render_figure

# Okabe-Ito, one colour per model (in the card's order), cycling after eight
MODEL_COLOURS = (NEUTRAL, "#E69F00", GOOD, "#CC79A7", "#56B4E9", BAD, "#F0E442", "#000000")
BINS = ("0 (never)", "0–0.2", "0.2–0.4", "0.4–0.6", "0.6–0.8", "0.8–1", "1 (always)")
LADDER_LABELLED = 40  # more tasks than this: a rank plot without task names


@dataclass(slots=True)
class CardChart:
    key: str
    title: str
    caption: str
    inches: tuple[float, float]
    draw: Callable[[Any], None]

    def render(self, fmt: str, dpi: float = 96) -> bytes:
        return render_figure(f"card-{self.key}", self.inches, self.draw, fmt, dpi)

    def size(self) -> tuple[int, int]:
        return round(self.inches[0] * 96), round(self.inches[1] * 96)


def card_charts(card: dict[str, Any]) -> list[CardChart]:
    rows = card_data.task_rows(card)
    models = [m for m in card_data.models(card) if any(m in r.rates for r in rows)]
    found = [
        _histogram(rows, models),
        _ladder(card, rows),
        _tags(rows, models),
        _cost(card),
    ]
    return [chart for chart in found if chart is not None]


def _colour(index: int) -> str:
    return MODEL_COLOURS[index % len(MODEL_COLOURS)]


def _legend(axes, models: list[str]) -> None:
    """Above the plot, one row: never on top of a bar."""
    legend = axes.legend(
        loc="lower left", bbox_to_anchor=(0, 1.0), ncols=min(len(models), 4), frameon=False,
        fontsize=8,
    )  # fmt: skip
    for text in legend.get_texts():
        text.set_parse_math(False)


def _bin(rate: float) -> int:
    """0 alone, five bands strictly between 0 and 1, 1 alone: the ends teach nothing."""
    if rate <= 0.0:
        return 0
    if rate >= 1.0:
        return len(BINS) - 1
    return 1 + min(int(rate * 5), 4)


def _histogram(rows: list[TaskRow], models: list[str]) -> CardChart | None:
    if not models:
        return None
    counts = {m: [0] * len(BINS) for m in models}
    for row in rows:
        for model, rate in row.rates.items():
            if model in counts:
                counts[model][_bin(rate)] += 1

    def draw(axes) -> None:
        width = 0.8 / len(models)
        axes.axvspan(0.5, len(BINS) - 1.5, color="#eef7f2", zorder=0)  # where the signal is
        for i, model in enumerate(models):
            xs = [b - 0.4 + width * (i + 0.5) for b in range(len(BINS))]
            axes.bar(xs, counts[model], width, color=_colour(i), label=plain_label(model))
        axes.set_xticks(range(len(BINS)), BINS)
        axes.set_xlabel("pass rate (pass@1) of the task; shaded: strictly between 0 and 1")
        axes.set_ylabel("tasks")
        axes.yaxis.get_major_locator().set_params(integer=True)
        _legend(axes, models)

    return CardChart(
        "histogram",
        "Pass rates",
        "How many tasks each model passes how often. Tasks a model never or always passes "
        "teach it nothing; the useful ones sit in the shaded band.",
        (7.2, 2.8),
        draw,
    )


def _ladder(card: dict[str, Any], rows: list[TaskRow]) -> CardChart | None:
    use_fit = card_data.fitted(card) and any(r.difficulty is not None for r in rows)
    pairs = card_data.ladder(rows, use_fit)
    if not pairs:
        return None
    label = "item-response difficulty (higher is harder)" if use_fit else "mean pass rate (raw)"
    labelled = len(pairs) <= LADDER_LABELLED

    signal = {r.id: r.signal for r in rows}

    def draw(axes) -> None:
        values = [v for _tid, v in pairs]
        colours = [NEUTRAL if signal.get(tid) else MUTED for tid, _v in pairs]
        if labelled:
            axes.barh(range(len(pairs)), values, color=colours)
            axes.set_yticks(range(len(pairs)), [plain_label(t) for t, _v in pairs])
            for text in axes.get_yticklabels():
                text.set_parse_math(False)
            axes.invert_yaxis()
            axes.set_xlabel(label)
        else:
            axes.scatter(range(1, len(pairs) + 1), values, s=8, color=colours, linewidths=0)
            axes.set_xlabel("task rank (hardest first)")
            axes.set_ylabel(label)
        if not use_fit:
            (axes.set_xlim if labelled else axes.set_ylim)(0, 1.02)
        axes.grid(axis="x" if labelled else "y", color="#eeeeee")

    how = (
        "Tasks sorted by their fitted item-response difficulty, hardest first."
        if use_fit
        else "Tasks sorted hardest first by their mean raw pass rate over the models (no "
        "item-response fit in this card)."
    ) + " Blue tasks have signal (some model passes them sometimes); grey ones have none."
    height = 0.9 + 0.2 * len(pairs) if labelled else 3.0
    return CardChart("ladder", "Difficulty ladder", how, (7.2, height), draw)


def _tags(rows: list[TaskRow], models: list[str]) -> CardChart | None:
    groups = card_data.tag_groups(rows)
    if not groups or not models:
        return None
    names = list(groups)

    def draw(axes) -> None:
        height = 0.8 / len(models)
        for i, model in enumerate(models):
            means = []
            for name in names:
                rates = [r.rates[model] for r in groups[name] if model in r.rates]
                means.append(sum(rates) / len(rates) if rates else 0.0)
            ys = [g - 0.4 + height * (i + 0.5) for g in range(len(names))]
            axes.barh(ys, means, height, color=_colour(i), label=plain_label(model))
        labels = [
            f"{name} ({len(groups[name])} tasks, {sum(r.signal for r in groups[name])} w/ signal)"
            for name in names
        ]
        axes.set_yticks(range(len(names)), [plain_label(t) for t in labels])
        for text in axes.get_yticklabels():
            text.set_parse_math(False)
        axes.invert_yaxis()
        axes.set_xlim(0, 1)
        axes.set_xlabel("mean pass rate")
        _legend(axes, models)

    caption = "Mean pass rate per tag and model; a task with several tags counts in each." + (
        " The tasks carry no tags, so this is one group: all."
        if names == [card_data.NO_TAG]
        else ""
    )
    inches = (7.2, 1.0 + 0.3 * len(names) * max(1, len(models)) ** 0.5)
    return CardChart("tags", "By tag", caption, inches, draw)


def _cost(card: dict[str, Any]) -> CardChart | None:
    costs = card_data.model_costs(card)
    if not costs:
        return None
    models = list(costs)

    def draw(axes) -> None:
        tokens = [
            (costs[m]["prompt_tokens"] or 0) + (costs[m]["completion_tokens"] or 0) for m in models
        ]
        cached = [costs[m]["cache_hits"] or 0 for m in models]
        samples = [costs[m]["samples"] or 0 for m in models]
        axes.barh(range(len(models)), tokens, color=[_colour(i) for i in range(len(models))])
        for row, model in enumerate(models):
            usd = costs[model]["usd"]
            text = (
                f"{tokens[row]:,.0f} tokens · "
                + (f"${usd:.4f}" if usd else "no price")
                + f" · {cached[row]:.0f}/{samples[row]:.0f} samples from the cache"
            )
            axes.annotate(
                text, (tokens[row], row), xytext=(4, 0), textcoords="offset points", va="center",
                fontsize=8,
            )  # fmt: skip
        axes.set_yticks(range(len(models)), [plain_label(m) for m in models])
        for label in axes.get_yticklabels():
            label.set_parse_math(False)
        axes.invert_yaxis()
        axes.margins(x=0.9)
        axes.set_xlim(left=0)
        axes.set_xlabel("tokens (prompt + completion)")

    return CardChart(
        "cost",
        "Cost per model",
        "Tokens each model used over its samples and their price (cached samples at the price "
        "paid when they were made; a model with no known price says so).",
        (7.2, 0.9 + 0.45 * max(len(models), 2)),
        draw,
    )
