"""The verdict box's words for a finished run: what happened, in one line and a sentence.
Plain Python (no Qt): the funnel panel shows them."""

from __future__ import annotations

from app.findings import Severity, Stage
from app.funnel.pipeline import ALL_STAGES
from app.funnel.report import Report, StageStatus, Verdict
from app.ui.funnel.findings_tree import STAGE_TITLES
from app.ui.funnel.job import report_is_cancelled
from app.ui.funnel.stage_row import STAGE_SHORT


def verdict_for(report: Report) -> tuple[str, str, str]:
    """(kind, title, body) for the verdict box: "pass", "fail" or "error", in plain words."""
    errors = [f for f in report.findings if f.severity == Severity.ERROR]
    warnings = [f for f in report.findings if f.severity == Severity.WARNING]
    if report_is_cancelled(report):
        return (
            "error",
            "Cancelled",
            "The run was stopped before it finished; nothing was left running.",
        )
    if report.verdict == Verdict.ERROR:
        stage = next((s for s in report.stages if s.status == StageStatus.ERROR), None)
        reason = (
            report.error
            or ((stage.details or {}).get("reason") if stage else "")
            or "a stage could not run"
        )
        return ("error", "The gauntlet could not finish", f"{reason}. Fix that and run it again.")
    if report.verdict == Verdict.FAIL:
        first = _first_failed_stage(report)
        where = f" in {STAGE_TITLES[first].split(' · ')[1].lower()}" if first else ""
        return (
            "fail",
            f"Not ready yet: {_count(len(errors), 'problem')} to fix{where}",
            (
                "Each one below says what is wrong and how to fix it. "
                "Double-click one to jump to the line."
            ),
        )
    skipped = [s for s in report.stages if s.status == StageStatus.SKIPPED]
    ran = [s.name for s in report.stages if s.status != StageStatus.SKIPPED]
    if set(ran) >= set(ALL_STAGES) and not skipped:
        body = (
            "Every stage passed. It is ready to submit."
            if not warnings
            else (
                f"Every stage passed, with {_count(len(warnings), 'warning')} "
                "worth a look before you submit."
            )
        )
        return ("pass", "Passed the gauntlet", body)
    names = ", ".join(STAGE_SHORT[s].split(" · ")[1].lower() for s in ran)
    return (
        "pass",
        f"Passed: {names}",
        "Run the whole gauntlet before submitting."
        + (f" {_count(len(warnings), 'warning')} worth a look." if warnings else ""),
    )


def _first_failed_stage(report: Report) -> Stage | None:
    return next((s.name for s in report.stages if s.status == StageStatus.FAIL), None)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"
