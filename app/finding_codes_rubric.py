"""The finding codes of rubric graders (DESIGN §4.3), merged into `app.finding_codes.CATALOGUE`.

Plain tuples, as in app/finding_codes_agentic.py: (code, stage, severity, title, hint).
"""

from __future__ import annotations

from app.findings import Severity, Stage

E, W = Severity.ERROR, Severity.WARNING

RUBRIC_CODES: tuple[tuple[str, Stage, Severity, str, str], ...] = (
    # -- stage 1: [grader] type = "rubric" and its [[grader.criteria]] (docs/checks.md) ---------
    (
        "GX185",
        Stage.STRUCTURE,
        E,
        "rubric criterion function missing",
        "Define the criterion's function at the top level of the grader file, or fix its "
        '`function` (a name in grader.entry\'s file, or "file.py:name").',
    ),
    (
        "GX186",
        Stage.STRUCTURE,
        E,
        "duplicate criterion name",
        "Give every [[grader.criteria]] entry its own name; the report and the attacks name "
        "criteria by it.",
    ),
    (
        "GX187",
        Stage.STRUCTURE,
        E,
        "criterion weight not positive",
        "Give the criterion a weight above 0 (e.g. weight = 0.5); remove a criterion that "
        "should not count.",
    ),
    (
        "GX188",
        Stage.STRUCTURE,
        E,
        "judge criterion without usable choices",
        'Give the judge criterion its answers worst to best, e.g. choices = ["no", "partly", '
        '"yes"]; optional scores (one per choice, inside reward_range, rising) say what each '
        "is worth.",
    ),
    (
        "GX189",
        Stage.STRUCTURE,
        E,
        "rubric threshold out of range",
        'With combine = "threshold", set threshold inside reward_range, above the floor (e.g. '
        "threshold = 0.75); with other combine modes, leave threshold out.",
    ),
    (
        "GX192",
        Stage.STRUCTURE,
        E,
        "malformed rubric",
        'A rubric (grader.type = "rubric") needs at least one [[grader.criteria]] entry, each '
        'with a name and exactly one of `function` or `judge`; criteria need type = "rubric".',
    ),
    (
        "GX193",
        Stage.STRUCTURE,
        W,
        "judge criterion without a model",
        'Set grader.model (e.g. "openai/gpt-4o-mini"); without it the judge criteria cannot be '
        "graded and every grading of this package reports the judge as unavailable.",
    ),
    # -- stage 2: per-criterion gates (docs/verification.md) --------------------------------------
    (
        "GX215",
        Stage.VERIFY,
        W,
        "reference fails a criterion",
        "The reference passes overall but not on the named criterion: fix the reference, or the "
        "criterion if the reference is right; a criterion every good answer may fail measures "
        "nothing.",
    ),
)
