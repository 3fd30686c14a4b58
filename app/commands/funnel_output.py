"""What `verify`, `attack` and `run` share once the options are read: run the funnel with a
progress bar on stderr, then print its report (JSON with --json). (No `register`: not a command.)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from app.commands.console import Console
from app.findings import Severity


class ProgressBar:
    """One self-overwriting line on a terminal; silent otherwise. With `notes`, the funnel's log
    messages (e.g. the LLM budget estimate, before it starts) are printed too, dimmed."""

    def __init__(self, stream, *, notes: bool = False) -> None:
        self.stream = stream
        self.enabled = hasattr(stream, "isatty") and stream.isatty()
        self.notes = Console.for_stream(stream) if notes else None
        self.last = 0.0
        self.shown = False

    def __call__(self, event) -> None:
        if (
            self.notes is not None
            and event.kind == "log"
            and event.message
            and (self.enabled or event.data.get("llm_estimate"))
        ):
            self.clear()
            self.notes.plain(self.notes.paint(event.message, "dim"))
        if not self.enabled or event.kind != "progress" or not event.total:
            return
        now = time.monotonic()
        if now - self.last < 0.1 and event.done < event.total:
            return
        self.last = now
        width = 30
        filled = int(width * event.done / event.total)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{event.stage}: [{bar}] {event.done}/{event.total} ")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 70 + "\r")
            self.stream.flush()
            self.shown = False


def run_and_print(
    args: argparse.Namespace,
    stages: tuple,
    options,
    print_stage: Callable[[Console, object], None],
    *,
    notes: bool = False,
    print_evidence: Callable[[Console, object], None] | None = None,
):
    """Run `stages` on the package `args.dir` and print the report; give the report back."""
    from app.funnel.pipeline import run_funnel

    bar = ProgressBar(sys.stderr, notes=notes)
    try:
        report = run_funnel(args.dir, stages=stages, options=options, progress=bar)
    finally:
        bar.clear()
    if args.json:
        print(report.to_json())
    else:
        _print_report(report, print_stage, print_evidence)
    return report


def _print_report(report, print_stage, print_evidence) -> None:
    """The findings (each with its evidence, if any is printed), a line a stage, the verdict."""
    console = Console.for_stream(sys.stdout)
    for finding in report.findings:
        console.finding(finding)
        if print_evidence is not None:
            print_evidence(console, finding)
    if report.findings:
        console.plain()
    for stage in report.stages:
        print_stage(console, stage)
    errors = sum(f.severity == Severity.ERROR for f in report.findings)
    warnings = sum(f.severity == Severity.WARNING for f in report.findings)
    verdict = str(report.verdict)
    console.plain(
        f"verdict: {console.paint(verdict, 'green' if verdict == 'pass' else 'red')} "
        f"({errors} error(s), {warnings} warning(s))"
    )
