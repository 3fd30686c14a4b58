"""Calibration targets a bounty can state ("signal share >= 0.6 on the lab's reference model"),
checked against a pack card (`gauntlet-card/1`).

A target is `{"metric", "comparator", "value", "model"?}`. Each is met, not met, or not
measurable (the card lacks the model, or the numbers the metric needs), with the measured
value and a sentence saying why. The card may be a stranger's file: every number is checked.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# metric -> what it measures, in words (the bounty form and the docs show these)
METRICS = {
    "signal_share": "share of tasks whose pass rate is strictly between 0 and 1",
    "pass_rate": "the model's pass rate over all its samples",
    "always_solved_share": "share of tasks every sample passes",
    "never_solved_share": "share of tasks no sample passes",
    "tasks": "number of tasks calibrated on every model",
}
COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
MET, NOT_MET, UNMEASURABLE = "met", "not met", "not measurable"
MAX_TARGETS = 20


class TargetError(ValueError):
    """A target that cannot be read; the message says which one and how to fix it."""


@dataclass(frozen=True, slots=True)
class Target:
    metric: str
    comparator: str
    value: float
    model: str | None = None

    def describe(self) -> str:
        on = f" on {self.model}" if self.model else (" on every model" if _per_model(self) else "")
        return f"{self.metric.replace('_', ' ')} {self.comparator} {self.value:g}{on}"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "metric": self.metric,
            "comparator": self.comparator,
            "value": self.value,
        }
        if self.model:
            data["model"] = self.model
        return data


@dataclass(frozen=True, slots=True)
class TargetResult:
    target: Target
    status: str  # MET | NOT_MET | UNMEASURABLE
    measured: float | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.target.to_dict(),
            "target": self.target.describe(),
            "status": self.status,
            "measured": self.measured,
            "note": self.note,
        }


def target_from_text(text: str) -> dict[str, Any]:
    """`signal_share>=0.6@openai/gpt-4o-mini` (the `@MODEL` part optional) as a target's JSON
    form, checked; a `TargetError` says what is wrong."""
    found = re.fullmatch(r"\s*(\w+)\s*(>=|<=|>|<)\s*([^@\s]+)\s*(?:@\s*(\S.*?))?\s*", text)
    if found is None:
        raise TargetError(
            f"{text!r} is not a target like signal_share>=0.6 or pass_rate>=0.5@openai/gpt-4o."
        )
    metric, comparator, value, model = found.groups()
    try:
        number_value = float(value)
    except ValueError:
        raise TargetError(f"{text!r}: {value!r} is not a number.") from None
    entry = {"metric": metric, "comparator": comparator, "value": number_value}
    (target,) = parse_targets([{**entry, **({"model": model} if model else {})}])
    return target.to_dict()


def target_text(data: dict[str, Any]) -> str:
    """A target's JSON form as `target_from_text` reads it: `signal_share>=0.6@MODEL`."""
    value = _number(data.get("value"))
    shown = f"{value:g}" if value is not None else str(data.get("value"))
    model = f"@{data['model']}" if data.get("model") else ""
    return f"{data.get('metric')}{data.get('comparator')}{shown}{model}"


def results_from_json(data: Any) -> list[TargetResult]:
    """Checked targets as the platform sends them (`TargetResult.to_dict`); entries that are
    not such are left out (a newer server's metric this version does not know)."""
    results = []
    for entry in data if isinstance(data, list) else []:
        if not isinstance(entry, dict) or entry.get("status") not in (MET, NOT_MET, UNMEASURABLE):
            continue
        fields = {k: entry.get(k) for k in ("metric", "comparator", "value", "model")}
        try:
            (target,) = parse_targets([{k: v for k, v in fields.items() if v is not None}])
        except TargetError:
            continue
        note = entry.get("note") if isinstance(entry.get("note"), str) else ""
        results.append(TargetResult(target, entry["status"], _number(entry.get("measured")), note))
    return results


def parse_targets(data: Any) -> list[Target]:
    """Targets from JSON (a list of objects), or a `TargetError` naming the bad one."""
    if not isinstance(data, list):
        raise TargetError("calibration targets must be a list of objects.")
    if len(data) > MAX_TARGETS:
        raise TargetError(f"at most {MAX_TARGETS} calibration targets, got {len(data)}.")
    return [_parse_one(i, entry) for i, entry in enumerate(data, start=1)]


def _parse_one(number: int, entry: Any) -> Target:
    where = f"calibration target {number}"
    if not isinstance(entry, dict):
        raise TargetError(f"{where} is not an object like {{'metric': 'signal_share', ...}}.")
    unknown = sorted(set(entry) - {"metric", "comparator", "value", "model"})
    if unknown:
        raise TargetError(f"{where} has unknown field(s) {', '.join(unknown)}.")
    metric, comparator, value = entry.get("metric"), entry.get("comparator"), entry.get("value")
    if metric not in METRICS:
        raise TargetError(f"{where}: metric {metric!r} is not one of {', '.join(METRICS)}.")
    if comparator not in COMPARATORS:
        raise TargetError(f"{where}: comparator {comparator!r} is not one of >=, >, <=, <.")
    number_value = _number(value)
    if number_value is None:
        raise TargetError(f"{where}: value must be a finite number, got {value!r}.")
    if metric != "tasks" and not 0 <= number_value <= 1:
        raise TargetError(f"{where}: {metric} is a share between 0 and 1, got {value!r}.")
    model = entry.get("model")
    if model is not None and (not isinstance(model, str) or not 0 < len(model.strip()) <= 200):
        raise TargetError(f"{where}: model must be a model name such as 'openai/gpt-4o-mini'.")
    return Target(metric, comparator, number_value, model.strip() if model else None)


def evaluate(targets: list[Target], card: dict[str, Any]) -> list[TargetResult]:
    return [_evaluate_one(target, card) for target in targets]


def _evaluate_one(target: Target, card: dict[str, Any]) -> TargetResult:
    models = [m for m in card.get("models") or [] if isinstance(m, str)]
    if target.model is not None and target.model not in models:
        return TargetResult(
            target, UNMEASURABLE, None, f"the card has no samples from {target.model}"
        )
    chosen = [target.model] if target.model else models
    if _per_model(target):
        values = {m: _model_pass_rate(card, m) for m in chosen}
    else:
        values = {"": _package_value(target.metric, card, chosen)}
    if not values or any(v is None for v in values.values()):
        return TargetResult(
            target, UNMEASURABLE, None, "the card lacks the numbers (an incomplete run?)"
        )
    check = COMPARATORS[target.comparator]
    # "on every model": the worst model decides, so the first that falls short is reported
    failing = [(m, v) for m, v in values.items() if not check(v, target.value)]
    model, measured = failing[0] if failing else next(iter(values.items()))
    on = f" on {model}" if model and len(values) > 1 else ""
    return TargetResult(target, NOT_MET if failing else MET, measured, f"{measured:.3g}{on}")


def _per_model(target: Target) -> bool:
    return target.metric == "pass_rate"


def _model_pass_rate(card: dict[str, Any], model: str) -> float | None:
    stats = (card.get("per_model") or {}).get(model)
    return _number(stats.get("pass_at_1")) if isinstance(stats, dict) else None


def _package_value(metric: str, card: dict[str, Any], models: list[str]) -> float | None:
    """The metric over the complete tasks, each task's rate taken on `models` only."""
    tasks = [t for t in card.get("tasks") or [] if isinstance(t, dict) and t.get("complete")]
    if metric == "tasks":
        return float(len(tasks))
    rates = [_task_rates(task, models) for task in tasks]
    rates = [r for r in rates if r]
    if not rates:
        return None
    if metric == "signal_share":
        hits = sum(any(0 < r < 1 for r in task) for task in rates)
    elif metric == "always_solved_share":
        hits = sum(all(r == 1 for r in task) for task in rates)
    else:
        hits = sum(all(r == 0 for r in task) for task in rates)
    return hits / len(rates)


def _task_rates(task: dict[str, Any], models: list[str]) -> list[float]:
    per_model = task.get("per_model") if isinstance(task.get("per_model"), dict) else {}
    rates = [
        _number(per_model[m].get("pass_at_1")) for m in models if isinstance(per_model.get(m), dict)
    ]
    return [r for r in rates if r is not None]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
