"""The fields of `gauntlet bounty create|edit`: their options, and turning them into a request
body. Everything here is checked before anything is sent, so a typo costs no round trip and
the error names the option to fix."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from app.errors import UserError

# The platform's bounds (app.platform.schemas): checked here too for errors naming the option.
MAX_REWARD = 1_000_000_000
MAX_WEIGHT = 100
_CRITERION_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
CRITERION_FORM = "ID:WEIGHT[:TITLE], e.g. --criterion 'correctness:3:Answers are right'"


def add_field_options(p: argparse.ArgumentParser, *, creating: bool) -> None:
    """The bounty's fields; on edit every one is optional and only those given change."""
    again = "" if creating else " (replaces the current one)"
    p.add_argument("--title", help="a one-line title" + again)
    p.add_argument("--domain", help="the field, e.g. biology: reviewers are picked by it" + again)
    p.add_argument(
        "--tag",
        action="append",
        default=None,
        help="a tag (repeatable; on edit the list given replaces the tags)"
        if not creating
        else "a tag (repeatable)",
    )
    p.add_argument("--summary", help="one or two sentences shown in lists" + again)
    brief = p.add_mutually_exclusive_group()
    brief.add_argument("--brief", metavar="MARKDOWN", help="the brief as markdown text" + again)
    brief.add_argument(
        "--brief-file", type=Path, metavar="FILE", help="read the markdown brief from FILE" + again
    )
    p.add_argument(
        "--criterion",
        action="append",
        default=None,
        metavar="ID:WEIGHT[:TITLE]",
        help="a scoring criterion of the rubric, weight 0–100 (repeatable; on edit the criteria "
        "given replace the rubric)",
    )
    p.add_argument(
        "--max-score", type=int, default=5, help="the top score of each criterion (default 5)"
    )
    p.add_argument(
        "--constraint",
        action="append",
        default=None,
        metavar="KEY=VALUE",
        help="a constraint such as min_tasks=50 (repeatable; a JSON value is read as JSON; on "
        "edit KEY= removes one)",
    )
    p.add_argument("--reward", metavar="AMOUNT", help="the reward, a whole number, e.g. 5000")
    p.add_argument("--currency", help="a three-letter code (default USD)" if creating else again)
    p.add_argument(
        "--deadline", metavar="DATE", help="YYYY-MM-DD (end of that day, UTC) or an ISO time"
    )
    p.add_argument("--kind", choices=["qa", "code"], help="the environment kind (default qa)")


def body_from_args(args: argparse.Namespace, *, creating: bool) -> dict[str, Any]:
    """The request body for the options given, each checked; raises UserError naming it."""
    body: dict[str, Any] = {}
    if args.title is not None or creating:
        body["title"] = _title(args.title)
    if args.domain is not None or creating:
        body["domain"] = _domain(args.domain)
    if args.tag is not None:
        body["tags"] = _tags(args.tag)
    if args.summary is not None:
        body["summary"] = args.summary.strip()
    brief = _brief(args.brief, args.brief_file)
    if brief is not None:
        body["brief"] = brief
    if args.criterion is not None:
        body["rubric"] = criteria(args.criterion, args.max_score)
    if args.reward is not None or creating:
        body["reward"] = _reward(args.reward)
    if args.currency is not None:
        body["currency"] = _currency(args.currency)
    if args.deadline is not None or creating:
        body["deadline"] = deadline(args.deadline).isoformat()
    if args.kind is not None:
        body["env_kind"] = args.kind
    return body


def _title(text: str | None) -> str:
    if text is None or not text.strip():
        raise UserError(
            "A bounty needs a title.",
            "Add --title 'What the environment must teach', one line.",
            where="--title",
        )
    if len(text.strip()) > 300:
        raise UserError(
            f"The title is {len(text.strip())} characters long; at most 300 fit.",
            "Shorten it, and put the details in --brief.",
            where="--title",
        )
    return text.strip()


def _domain(text: str | None) -> str:
    if text is None or not text.strip():
        raise UserError(
            "A bounty needs a domain.",
            "Add --domain, e.g. --domain biology: reviewers are picked by it.",
            where="--domain",
        )
    value = text.strip().lower()
    if len(value) > 60:
        raise UserError("The domain is longer than 60 characters.", "Use a short field name.")
    return value


def _tags(tags: list[str]) -> list[str]:
    cleaned = [t.strip() for t in tags]
    bad = next((t for t in cleaned if not t or len(t) > 40), None)
    if bad is not None:
        raise UserError(
            f"The tag '{bad}' is {'empty' if not bad else 'longer than 40 characters'}.",
            "Give each tag as one short word or phrase: --tag proteins --tag folding.",
            where="--tag",
        )
    if len(set(cleaned)) > 20:
        raise UserError("A bounty takes at most 20 tags.", "Keep the most telling ones.")
    return list(dict.fromkeys(cleaned))


def _brief(text: str | None, path: Path | None) -> str | None:
    if path is None:
        return text
    try:
        return path.expanduser().read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UserError(
            "The brief file does not exist.", "Check the path.", where=str(path)
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(
            f"The brief file cannot be read ({exc}).",
            "Give a UTF-8 markdown file.",
            where=str(path),
        ) from exc


def criteria(specs: list[str], max_score: int) -> list[dict[str, Any]]:
    """`ID:WEIGHT[:TITLE]` options as rubric items, each checked."""
    if not 1 <= max_score <= 100:
        raise UserError(
            f"--max-score {max_score} is outside 1–100.",
            "Use e.g. --max-score 5.",
            where="--max-score",
        )
    items: list[dict[str, Any]] = []
    for spec in specs:
        ident, _, rest = spec.partition(":")
        weight_text, _, title = rest.partition(":")
        ident = ident.strip()
        where = f"--criterion {spec}"
        if not _CRITERION_ID.match(ident):
            raise UserError(
                f"'{ident}' is not a criterion id: use lower-case letters, digits, - and _ "
                "(at most 40).",
                f"Write it as {CRITERION_FORM}.",
                where=where,
            )
        items.append(
            {
                "id": ident,
                "title": title.strip() or ident.replace("_", " ").replace("-", " ").capitalize(),
                "weight": _weight(weight_text, where),
                "max_score": max_score,
            }
        )
    ids = [item["id"] for item in items]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate:
        raise UserError(
            f"The criterion '{duplicate}' is given twice.",
            "Give each criterion once, with its own id.",
            where="--criterion",
        )
    return items


def _weight(text: str, where: str) -> float:
    try:
        weight = float(text)
    except ValueError:
        weight = float("nan")
    if weight != weight or not 0 <= weight <= MAX_WEIGHT:  # NaN, words, or out of range
        shown = text.strip() or "nothing"
        raise UserError(
            f"The weight '{shown}' is not a number from 0 to {MAX_WEIGHT}.",
            f"Write each criterion as {CRITERION_FORM}.",
            where=where,
        )
    return weight


def constraints(specs: list[str], current: dict[str, Any]) -> dict[str, Any]:
    """`KEY=VALUE` options applied to `current` (a JSON value is read as JSON; `KEY=` drops)."""
    result = dict(current)
    for spec in specs:
        key, sep, value = spec.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(
                f"'{spec}' is not KEY=VALUE.",
                "Write e.g. --constraint min_tasks=50 or --constraint language=python.",
                where="--constraint",
            )
        if not value.strip():
            result.pop(key, None)
            continue
        try:
            result[key] = json.loads(value)
        except ValueError:
            result[key] = value.strip()
    return result


def _reward(text: str | None) -> int:
    if text is None:
        raise UserError(
            "A bounty needs a reward.",
            "Add --reward 5000 (and --currency if not USD).",
            where="--reward",
        )
    cleaned = text.strip().replace(",", "").replace("_", "")
    try:
        amount = float(cleaned)
    except ValueError:
        amount = -1.0
    if amount < 0 or not amount.is_integer():  # words, negatives, fractions, NaN, infinity
        raise UserError(
            f"The reward '{text}' is not a whole amount.",
            "Write a whole number, e.g. --reward 5000.",
            where="--reward",
        )
    if amount > MAX_REWARD:
        raise UserError(
            f"The reward {text} is more than {MAX_REWARD:,}.",
            "Check the number of zeros.",
            where="--reward",
        )
    return int(amount)


def _currency(text: str) -> str:
    code = text.strip().upper()
    if not _CURRENCY.match(code):
        raise UserError(
            f"'{text}' is not a currency code.",
            "Use a three-letter code such as USD, EUR or GBP.",
            where="--currency",
        )
    return code


def deadline(text: str | None, *, now: datetime | None = None) -> datetime:
    """A future, time-zone-aware deadline; a plain date means the end of that day in UTC."""
    if text is None or not text.strip():
        raise UserError(
            "A bounty needs a deadline.", "Add --deadline YYYY-MM-DD.", where="--deadline"
        )
    value = text.strip()
    try:
        if len(value) == 10:
            when = datetime.combine(date.fromisoformat(value), time(23, 59, 59), tzinfo=UTC)
        else:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
    except ValueError as exc:
        raise UserError(
            f"'{value}' is not a date.",
            "Write it as YYYY-MM-DD (e.g. 2027-01-31) or an ISO time (2027-01-31T12:00:00Z).",
            where="--deadline",
        ) from exc
    current = now or datetime.now(UTC)
    if when <= current:
        raise UserError(
            f"The deadline {value} is in the past (it is now {current:%Y-%m-%d %H:%M} UTC).",
            "Give a date in the future.",
            where="--deadline",
        )
    return when
