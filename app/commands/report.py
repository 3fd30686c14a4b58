"""`gauntlet report REPORT.json --html OUT.html`: a saved funnel report as a readable page
(the verdict, the stages, charts and every finding), one self-contained HTML file.

`gauntlet run|attack DIR --html OUT.html` writes the same page straight after a run.
Exit 0 when the page is written; 2 when the report cannot be read or the page not written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.commands.subcommand import add_command
from app.errors import UserError

ORDER = 26


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(subparsers, "report", run_report)
    p.add_argument("report", type=Path, metavar="REPORT.json", help="the report to show")
    p.add_argument(
        "--html",
        type=Path,
        required=True,
        metavar="OUT.html",
        help="where to write the page (replaced atomically if it exists)",
    )


def run_report(args: argparse.Namespace) -> int:
    """turn a saved funnel report (JSON) into a readable HTML page with charts

    Read a gauntlet-report/1 JSON file (from `gauntlet run DIR --json`, `gauntlet check --json`
    or the app) and write it as one self-contained HTML page: the verdict, the stages, charts of
    the rewards and the time per stage, and every finding with its fix. The page needs no
    network and runs no script. Exit 0: written; 2: the report is unreadable or the page cannot
    be written.
    """
    from app.funnel.report_page import ReportFileError, load_report

    try:
        report = load_report(args.report)
    except ReportFileError as exc:
        raise UserError(
            str(exc),
            "Give the JSON a report command printed, e.g. `gauntlet run DIR --json > report.json`.",
            where=str(args.report),
        ) from None
    write_page(report, args.html)
    return 0


def write_page(report, out: Path) -> None:
    """Writes the report's HTML page to `out`, or says in plain words why it cannot."""
    from app.funnel.report_page import export_html

    if out.is_dir():
        raise UserError(
            f"{out} is a folder.", "Give a file name, e.g. report.html.", where=str(out)
        )
    try:
        export_html(report, out)
    except OSError as exc:
        raise UserError(
            f"cannot write the page: {exc.strerror or exc}.",
            "Choose a folder you can write to.",
            where=str(out),
        ) from None
    print(f"report page written to {out}", file=sys.stderr)
