"""The fields of `gauntlet bounty create|edit`: their options, and turning them into a request
body. Every field is checked before anything is sent (app.sync.lab_fields, shared with the
app's bounty form), so a typo costs no round trip and the error names the option to fix."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.errors import UserError
from app.sync import lab_fields as fields


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
    p.add_argument(
        "--target",
        action="append",
        default=None,
        metavar="METRIC>=VALUE[@MODEL]",
        help="a calibration target the submission's pack card should meet, e.g. "
        "signal_share>=0.6@openai/gpt-4o-mini (metrics: signal_share, pass_rate, "
        "always_solved_share, never_solved_share, tasks; repeatable; on edit the targets given "
        "replace them, and --target '' removes them all)",
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
        body["title"] = fields.title(args.title)
    if args.domain is not None or creating:
        body["domain"] = fields.domain(args.domain)
    if args.tag is not None:
        body["tags"] = fields.tags(args.tag)
    if args.summary is not None:
        body["summary"] = args.summary.strip()
    brief = _brief(args.brief, args.brief_file)
    if brief is not None:
        body["brief"] = brief
    if args.criterion is not None:
        body["rubric"] = criteria(args.criterion, args.max_score)
    if args.target is not None:
        body["calibration_targets"] = fields.calibration_targets(
            [t for t in args.target if t.strip()]
        )
    if args.reward is not None or creating:
        body["reward"] = fields.reward(args.reward)
    if args.currency is not None:
        body["currency"] = fields.currency(args.currency)
    if args.deadline is not None or creating:
        body["deadline"] = fields.deadline(args.deadline).isoformat()
    if args.kind is not None:
        body["env_kind"] = args.kind
    return body


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


def criteria(specs: list[str], top: int) -> list[dict[str, Any]]:
    """`ID:WEIGHT[:TITLE]` options as rubric items, each checked."""
    fields.max_score(top)
    items = []
    for spec in specs:
        ident, _, rest = spec.partition(":")
        weight_text, _, name = rest.partition(":")
        item = fields.criterion(ident, name, weight_text, where=f"--criterion {spec}")
        items.append({**item, "max_score": top})
    return fields.distinct_criteria(items)
