"""Reading a pack card (`gauntlet-card/1`) for display: the HTML card, the app's calibration
view and the platform all read it through here.

A card may be a stranger's file, an older or newer version, or a run that stopped early: every
field is optional here, every number is checked, and what is missing reads as "not measured".
The item-response fit (`difficulty`) is read wherever its numbers sit: `difficulty.tasks` (a
map or a list), or `difficulty`/`discrimination` on each task.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import strict_json

CARD_SCHEMA = "gauntlet-card/1"
NO_TAG = "all"  # the one group of a package whose tasks have no tags


class CardFileError(ValueError):
    """A file that is not a readable pack card; the message says why (not where)."""


@dataclass(slots=True)
class Failure:
    model: str
    sample: int | None
    response: str
    reward: float | None
    feedback: str
    error: str
    format_failure: bool | None


@dataclass(slots=True)
class TaskRow:
    id: str
    tags: list[str]
    rates: dict[str, float]  # model -> pass@1
    samples: int
    complete: bool
    signal: bool
    reference_passes: bool | None
    difficulty: float | None  # the item-response difficulty, when fitted
    discrimination: float | None
    failures: list[Failure] = field(default_factory=list)
    failures_total: int = 0

    @property
    def mean_rate(self) -> float | None:
        return sum(self.rates.values()) / len(self.rates) if self.rates else None


def load_card(path: str | Path) -> dict[str, Any]:
    data = strict_json.load_file(path, "card", CardFileError)
    check_card(data)
    return data


def check_card(data: Any) -> None:
    if not isinstance(data, dict) or data.get("schema") != CARD_SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else None
        said = f'its "schema" is {found!r}' if found else 'it has no "schema" field'
        raise CardFileError(f"not a {CARD_SCHEMA} pack card: {said}.")


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def block(card: dict[str, Any], key: str) -> dict[str, Any]:
    value = card.get(key)
    return value if isinstance(value, dict) else {}


def models(card: dict[str, Any]) -> list[str]:
    return [m for m in card.get("models") or [] if isinstance(m, str)]


def fitted(card: dict[str, Any]) -> bool:
    return block(card, "difficulty").get("fitted") is True


def difficulty_note(card: dict[str, Any]) -> str:
    """Why the ladder shows what it shows, in words."""
    info = block(card, "difficulty")
    if fitted(card):
        model = text(info.get("model")) or "item-response"
        return f"Difficulty from the {model} fit (higher is harder)."
    reason = text(info.get("reason")) or "no item-response fit in this card"
    return f"No item-response fit ({reason}); the ladder uses the mean raw pass rate."


def task_rows(card: dict[str, Any]) -> list[TaskRow]:
    irt = _fit_by_task(card) if fitted(card) else {}
    rows = []
    for entry in card.get("tasks") or []:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            rows.append(_row(entry, irt.get(entry["id"], {})))
    return rows


def _row(entry: dict[str, Any], fit: dict[str, Any]) -> TaskRow:
    per_model = entry.get("per_model") if isinstance(entry.get("per_model"), dict) else {}
    rates, samples = {}, 0
    for model, stats in per_model.items():
        rate = number(stats.get("pass_at_1")) if isinstance(stats, dict) else None
        if rate is not None:
            rates[str(model)] = rate
            samples += int(number(stats.get("samples")) or 0)
    tags = entry.get("tags")
    failures = [_failure(f) for f in entry.get("failures") or [] if isinstance(f, dict)]
    return TaskRow(
        id=entry["id"],
        tags=[t for t in tags if isinstance(t, str) and t] if isinstance(tags, list) else [],
        rates=rates,
        samples=samples,
        complete=entry.get("complete") is True,
        signal=entry.get("signal") is True,
        reference_passes=entry.get("reference_passes")
        if isinstance(entry.get("reference_passes"), bool)
        else None,
        difficulty=number(fit.get("difficulty", entry.get("difficulty"))),
        discrimination=number(fit.get("discrimination", entry.get("discrimination"))),
        failures=failures,
        failures_total=int(number(entry.get("failures_total")) or len(failures)),
    )


def _failure(data: dict[str, Any]) -> Failure:
    sample = number(data.get("sample"))
    wrong_form = data.get("format_failure")
    return Failure(
        model=text(data.get("model")),
        sample=int(sample) if sample is not None else None,
        response=text(data.get("response")),
        reward=number(data.get("reward")),
        feedback=text(data.get("feedback")),
        error=text(data.get("error")),
        format_failure=wrong_form if isinstance(wrong_form, bool) else None,
    )


def _fit_by_task(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = block(card, "difficulty").get("tasks")
    if isinstance(found, dict):
        return {str(k): v for k, v in found.items() if isinstance(v, dict)}
    if isinstance(found, list):
        return {
            str(v.get("id", v.get("task_id"))): v
            for v in found
            if isinstance(v, dict) and isinstance(v.get("id", v.get("task_id")), str)
        }
    return {}


def abilities(card: dict[str, Any]) -> dict[str, float]:
    """Each model's fitted ability, when the card has a fit."""
    info = block(card, "difficulty")
    found = info.get("ability", info.get("abilities", info.get("models")))
    if not fitted(card) or not isinstance(found, dict):
        return {}
    values = {
        str(m): number(v.get("ability") if isinstance(v, dict) else v) for m, v in found.items()
    }
    return {m: v for m, v in values.items() if v is not None}


def ladder(rows: list[TaskRow], use_fit: bool) -> list[tuple[str, float]]:
    """(task, value) hardest first: the fitted difficulty, else 1 - the mean pass rate is how
    the order is made, but the raw mean pass rate is the value shown."""
    if use_fit:
        found = [(r.id, r.difficulty) for r in rows if r.difficulty is not None]
        return sorted(found, key=lambda pair: -pair[1])
    found = [(r.id, r.mean_rate) for r in rows if r.mean_rate is not None]
    return sorted(found, key=lambda pair: pair[1])


def tag_groups(rows: list[TaskRow]) -> dict[str, list[TaskRow]]:
    """Tasks by tag (a task with two tags is in both); one group "all" when none has a tag."""
    groups: dict[str, list[TaskRow]] = {}
    for row in rows:
        for tag in row.tags or ([] if any(r.tags for r in rows) else [NO_TAG]):
            groups.setdefault(tag, []).append(row)
    untagged = [r for r in rows if not r.tags]
    if untagged and any(r.tags for r in rows):
        groups["(no tag)"] = untagged
    return dict(sorted(groups.items()))


def model_costs(card: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """Per model: samples, cache hits, tokens and dollars (from `cost.per_model`)."""
    found = block(card, "cost").get("per_model")
    if not isinstance(found, dict):
        return {}
    keys = ("samples", "cache_hits", "prompt_tokens", "completion_tokens", "usd", "spent_usd")
    return {
        str(model): {key: number(stats.get(key)) for key in keys}
        for model, stats in found.items()
        if isinstance(stats, dict)
    }
