"""A bounty's fields checked before anything is sent, for `gauntlet bounty create|edit` and the
app's bounty form alike: a typo costs no round trip, and the error names the field to fix.

Each refusal is a `FieldError`: `field` names the bounty field (the form puts the message next
to it), `where` the command-line option (the CLI prints it), and each surface gets its own hint,
because "add --title" means nothing in a form.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time
from typing import Any

from app.errors import UserError

# The platform's bounds (app.platform.schemas): checked here too for errors naming the field.
MAX_REWARD = 1_000_000_000
MAX_WEIGHT = 100
MAX_TAGS = 20
_CRITERION_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
CRITERION_FORM = "ID:WEIGHT[:TITLE], e.g. --criterion 'correctness:3:Answers are right'"


class FieldError(UserError):
    """One field of a bounty is wrong: `field` for the form, `where` for the command line."""

    def __init__(
        self,
        field: str,
        message: str,
        hint: str,
        *,
        where: str | None = None,
        form_hint: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message, hint, where=where)
        self.field = field
        self.form_hint = form_hint or hint
        self.row = row  # a criterion's row in the form's table


def title(text: str | None) -> str:
    if text is None or not text.strip():
        raise FieldError(
            "title",
            "A bounty needs a title.",
            "Add --title 'What the environment must teach', one line.",
            where="--title",
            form_hint="Write one line saying what the environment must teach.",
        )
    if len(text.strip()) > 300:
        raise FieldError(
            "title",
            f"The title is {len(text.strip())} characters long; at most 300 fit.",
            "Shorten it, and put the details in --brief.",
            where="--title",
            form_hint="Shorten it, and put the details in the brief.",
        )
    return text.strip()


def domain(text: str | None) -> str:
    if text is None or not text.strip():
        raise FieldError(
            "domain",
            "A bounty needs a domain.",
            "Add --domain, e.g. --domain biology: reviewers are picked by it.",
            where="--domain",
            form_hint="Pick the field, e.g. biology: reviewers are picked by it.",
        )
    value = text.strip().lower()
    if len(value) > 60:
        raise FieldError(
            "domain", "The domain is longer than 60 characters.", "Use a short field name."
        )
    return value


def tags(values: list[str]) -> list[str]:
    cleaned = [t.strip() for t in values]
    bad = next((t for t in cleaned if not t or len(t) > 40), None)
    if bad is not None:
        raise FieldError(
            "tags",
            f"The tag '{bad}' is {'empty' if not bad else 'longer than 40 characters'}.",
            "Give each tag as one short word or phrase: --tag proteins --tag folding.",
            where="--tag",
            form_hint="Give each tag as one short word or phrase, separated by commas.",
        )
    if len(set(cleaned)) > MAX_TAGS:
        raise FieldError("tags", "A bounty takes at most 20 tags.", "Keep the most telling ones.")
    return list(dict.fromkeys(cleaned))


def max_score(value: int) -> int:
    if not 1 <= value <= 100:
        raise FieldError(
            "criteria",
            f"--max-score {value} is outside 1–100.",
            "Use e.g. --max-score 5.",
            where="--max-score",
        )
    return value


def criterion(
    ident: str, name: str, weight_text: str, *, where: str | None = None, row: int | None = None
) -> dict[str, Any]:
    """One rubric criterion, checked; `where` is the option on the command line."""
    ident = ident.strip()
    if not _CRITERION_ID.match(ident):
        raise FieldError(
            "criteria",
            f"'{ident}' is not a criterion id: use lower-case letters, digits, - and _ "
            "(at most 40).",
            f"Write it as {CRITERION_FORM}.",
            where=where,
            form_hint="Start the name with a letter or a digit.",
            row=row,
        )
    try:
        weight = float(weight_text)
    except ValueError:
        weight = float("nan")
    if weight != weight or not 0 <= weight <= MAX_WEIGHT:  # NaN, words, or out of range
        shown = weight_text.strip() or "nothing"
        raise FieldError(
            "criteria",
            f"The weight '{shown}' is not a number from 0 to {MAX_WEIGHT}.",
            f"Write each criterion as {CRITERION_FORM}.",
            where=where,
            form_hint=f"Give each criterion a weight from 0 to {MAX_WEIGHT}, e.g. 3.",
            row=row,
        )
    shown_name = name.strip() or ident.replace("_", " ").replace("-", " ").capitalize()
    return {"id": ident, "title": shown_name, "weight": weight}


def distinct_criteria(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [item["id"] for item in items]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate:
        raise FieldError(
            "criteria",
            f"The criterion '{duplicate}' is given twice.",
            "Give each criterion once, with its own id.",
            where="--criterion",
            form_hint="Give each criterion its own name.",
            row=ids.index(duplicate, ids.index(duplicate) + 1),
        )
    return items


def criterion_id(name: str) -> str:
    """A stable id for a criterion the form names in words ("Answers are right" →
    answers-are-right): the rubric's scores are keyed by it."""
    return re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")[:40].rstrip("-")


def constraints(specs: list[str], current: dict[str, Any]) -> dict[str, Any]:
    """`KEY=VALUE` lines applied to `current` (a JSON value is read as JSON; `KEY=` drops)."""
    result = dict(current)
    for spec in specs:
        key, sep, value = spec.partition("=")
        key = key.strip()
        if not sep or not key:
            raise FieldError(
                "constraints",
                f"'{spec}' is not KEY=VALUE.",
                "Write e.g. --constraint min_tasks=50 or --constraint language=python.",
                where="--constraint",
                form_hint="Write one per line, e.g. min_tasks=50 or language=python.",
            )
        if not value.strip():
            result.pop(key, None)
            continue
        try:
            result[key] = json.loads(value)
        except ValueError:
            result[key] = value.strip()
    return result


def calibration_targets(specs: list[str]) -> list[dict[str, Any]]:
    """`METRIC>=VALUE[@MODEL]` lines as calibration targets, each checked (docs/calibrate.md)."""
    from app.calibrate.targets import TargetError, target_from_text

    found = []
    for spec in specs:
        try:
            found.append(target_from_text(spec))
        except TargetError as exc:
            raise FieldError(
                "targets",
                str(exc),
                "Write METRIC>=VALUE[@MODEL], e.g. --target signal_share>=0.6@openai/gpt-4o-mini.",
                where=f"--target {spec}",
                form_hint="Write one per line, e.g. signal_share>=0.6@openai/gpt-4o-mini.",
            ) from None
    return found


def reward(text: str | None) -> int:
    if text is None:
        raise FieldError(
            "reward",
            "A bounty needs a reward.",
            "Add --reward 5000 (and --currency if not USD).",
            where="--reward",
            form_hint="Write the amount you pay, a whole number such as 5000.",
        )
    cleaned = text.strip().replace(",", "").replace("_", "")
    try:
        amount = float(cleaned)
    except ValueError:
        amount = -1.0
    if amount < 0 or not amount.is_integer():  # words, negatives, fractions, NaN, infinity
        raise FieldError(
            "reward",
            f"The reward '{text}' is not a whole amount.",
            "Write a whole number, e.g. --reward 5000.",
            where="--reward",
            form_hint="Write a whole number without a currency sign, e.g. 5000.",
        )
    if amount > MAX_REWARD:
        raise FieldError(
            "reward",
            f"The reward {text} is more than {MAX_REWARD:,}.",
            "Check the number of zeros.",
            where="--reward",
        )
    return int(amount)


def currency(text: str) -> str:
    code = text.strip().upper()
    if not _CURRENCY.match(code):
        raise FieldError(
            "currency",
            f"'{text}' is not a currency code.",
            "Use a three-letter code such as USD, EUR or GBP.",
            where="--currency",
        )
    return code


def deadline(text: str | None, *, now: datetime | None = None) -> datetime:
    """A future, time-zone-aware deadline; a plain date means the end of that day in UTC."""
    if text is None or not text.strip():
        raise FieldError(
            "deadline",
            "A bounty needs a deadline.",
            "Add --deadline YYYY-MM-DD.",
            where="--deadline",
            form_hint="Pick the last day submissions are taken.",
        )
    value = text.strip()
    try:
        if len(value) == 10:
            when = datetime.combine(date.fromisoformat(value), time(23, 59, 59), tzinfo=UTC)
        else:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
    except ValueError as exc:
        raise FieldError(
            "deadline",
            f"'{value}' is not a date.",
            "Write it as YYYY-MM-DD (e.g. 2027-01-31) or an ISO time (2027-01-31T12:00:00Z).",
            where="--deadline",
        ) from exc
    current = now or datetime.now(UTC)
    if when <= current:
        raise FieldError(
            "deadline",
            f"The deadline {value} is in the past (it is now {current:%Y-%m-%d %H:%M} UTC).",
            "Give a date in the future.",
            where="--deadline",
            form_hint="Pick a day in the future.",
        )
    return when
