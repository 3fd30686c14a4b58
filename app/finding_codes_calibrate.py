"""The finding codes of `gauntlet calibrate` (docs/calibrate.md), merged into
`app.finding_codes.CATALOGUE`. Kept apart so the main catalogue stays within its size. Plain
tuples: (code, stage, severity, title, hint); the catalogue turns them into `FindingCode`s.
"""

from __future__ import annotations

from app.findings import Severity, Stage

W = Severity.WARNING

CALIBRATE_CODES: tuple[tuple[str, Stage, Severity, str, str], ...] = (
    (
        "GX401",
        Stage.CALIBRATE,
        W,
        "every model solves the task",
        "No learning signal for these models: make it harder, or calibrate with weaker ones.",
    ),
    (
        "GX402",
        Stage.CALIBRATE,
        W,
        "no model solves the task, though its reference passes",
        "Read the failing samples in the card: too hard, or the prompt hides the expected form?",
    ),
    (
        "GX403",
        Stage.CALIBRATE,
        W,
        "the task's failures are mostly format failures",
        "Say in the prompt exactly what form the answer takes, e.g. 'Reply with the number only.'",
    ),
    (
        "GX404",
        Stage.CALIBRATE,
        W,
        "likely contamination: a model knows the task without being shown it",
        "Read the probe replies in the card; rewrite the task (new values, new wording) or "
        "replace it: a memorised task measures recall, not skill.",
    ),
)
