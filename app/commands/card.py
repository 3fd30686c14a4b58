"""`gauntlet card CARD.json --html OUT.html [--targets TARGETS.json]`: a pack card (from
`gauntlet calibrate`) as a readable page with charts, one self-contained HTML file.

`gauntlet calibrate` writes the same page next to the card (card.html) after each run.
Exit 0 when the page is written; 2 when the card or the targets cannot be read, or the page
cannot be written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.commands.subcommand import add_command
from app.errors import UserError

ORDER = 28


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "card", run_card)
    p.add_argument("card", type=Path, metavar="CARD.json", help="the pack card to show")
    p.add_argument(
        "--html",
        type=Path,
        required=True,
        metavar="OUT.html",
        help="where to write the page (replaced atomically if it exists)",
    )
    p.add_argument(
        "--targets",
        type=Path,
        metavar="TARGETS.json",
        help="a bounty's calibration targets (a JSON list of {metric, comparator, value, "
        "model?}) to show as met, not met or not measurable",
    )


def run_card(args: argparse.Namespace) -> int:
    """turn a pack card (JSON, from `gauntlet calibrate`) into a readable HTML page with charts

    Read a gauntlet-card/1 JSON card and write it as one self-contained HTML page: how it was
    measured (models, dates, samples, cache hits, cost), the signal share and pass rates, the
    pass-rate histogram, the difficulty ladder, the per-tag breakdown and the cost per model,
    the findings, every task, and the failing samples next to the grader's verdict. With
    --targets, each target is shown met, not met or not measurable. The page needs no network
    and runs no script. Exit 0: written; 2: unreadable card or targets, or unwritable page.
    """
    from app.calibrate.card_data import CardFileError, load_card

    try:
        card = load_card(args.card)
    except CardFileError as exc:
        raise UserError(
            str(exc), "Give the card.json `gauntlet calibrate DIR` wrote.", where=str(args.card)
        ) from None
    results = _targets(args.targets, card) if args.targets else None
    write_card_page(card, args.html, results)
    print(f"card page written to {args.html}", file=sys.stderr)
    return 0


def _targets(path: Path, card: dict):
    from app.calibrate.targets import TargetError, evaluate, parse_targets

    hint = (
        'Write a JSON list such as [{"metric": "signal_share", "comparator": ">=", "value": 0.6}].'
    )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the targets: {exc}.", hint, where=str(path)) from None
    except ValueError as exc:
        raise UserError(f"the targets are not valid JSON: {exc}.", hint, where=str(path)) from None
    try:
        return evaluate(parse_targets(data), card)
    except TargetError as exc:
        raise UserError(str(exc), hint, where=str(path)) from None


def write_card_page(card: dict, out: Path, targets=None) -> None:
    """Writes the card's HTML page to `out`, or says in plain words why it cannot."""
    from app.calibrate.card_html import export_html

    if out.is_dir():
        raise UserError(f"{out} is a folder.", "Give a file name, e.g. card.html.", where=str(out))
    try:
        export_html(card, out, targets)
    except OSError as exc:
        raise UserError(
            f"cannot write the page: {exc.strerror or exc}.",
            "Choose a folder you can write to.",
            where=str(out),
        ) from None
