"""The finding codes of stage 3 for multi-turn packages (GX340-GX349; DESIGN §4.2, §6; the
attacks are app/attacks/turn_*.py), merged into `app.finding_codes.CATALOGUE`. Plain tuples,
as in app/finding_codes_rubric.py: (code, stage, severity, title, hint).
"""

from __future__ import annotations

from app.findings import Severity, Stage

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

MULTITURN_ATTACK_CODES: tuple[tuple[str, Stage, Severity, str, str], ...] = (
    (
        "GX340",
        Stage.ATTACK,
        E,
        "injected text talks the grader into a pass",
        "Grade the answer or state the task asks for; never read a score, verdict or JSON "
        "reward from the conversation (tool results, the assistant's or the user's words).",
    ),
    (
        "GX341",
        Stage.ATTACK,
        E,
        "a claim of success is rewarded",
        "Reward what the task asks for, checked against its data; 'done', 'verified' or a "
        "check mark must earn nothing.",
    ),
    (
        "GX342",
        Stage.ATTACK,
        E,
        "malformed tool calls are rewarded",
        "Make the grader fail closed: a tool call it cannot read counts as not made, and its "
        "own exceptions never turn into a pass.",
    ),
    (
        "GX343",
        Stage.ATTACK,
        E,
        "the simulated user gives the answer away",
        "Keep the answer away from the simulated user (its script or persona), and check that "
        "the answer came from the tools.",
    ),
    (
        "GX344",
        Stage.ATTACK,
        W,
        "the grader does not check the process",
        "Check that the tools the task needs were called (have them record their calls) or "
        "that the user's replies were heard; if the steps truly do not matter, say so in the "
        "README.",
    ),
    (
        "GX345",
        Stage.ATTACK,
        E,
        "a side effect done twice goes unnoticed",
        "Check the tools' final state (count the bookings, compare the balance), not only that "
        "a call happened, or make the tool refuse a duplicate.",
    ),
    (
        "GX346",
        Stage.ATTACK,
        E,
        "tool arguments rewrite the grader",
        "Never eval or exec a tool's arguments: parse them (ast.literal_eval, a small parser) "
        "so nothing the assistant sends runs as code.",
    ),
    (
        "GX347",
        Stage.ATTACK,
        E,
        "a wrong final answer passes in another form",
        "Read exactly one answer from the assistant's last message and compare it strictly "
        "with the expected one.",
    ),
    (
        "GX348",
        Stage.ATTACK,
        E,
        "LLM red team's conversation passes while wrong",
        "Read the replayed conversation in the evidence: the turn that earned the reward shows "
        "the gap to close; add the trajectory to negatives.jsonl.",
    ),
    (
        "GX349",
        Stage.ATTACK,
        INFO,
        "persona user could not be asked",
        'Give the persona a model (its "model" key) and a key for it, then run the attacks '
        "again; until then the ask-the-user attack was not tried on those tasks.",
    ),
)
