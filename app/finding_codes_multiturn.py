"""The finding codes of multi-turn packages (DESIGN §4.2), merged into
`app.finding_codes.CATALOGUE`. Plain tuples, as in app/finding_codes_rubric.py:
(code, stage, severity, title, hint).
"""

from __future__ import annotations

from app.findings import Severity, Stage

E, W = Severity.ERROR, Severity.WARNING

MULTITURN_CODES: tuple[tuple[str, Stage, Severity, str, str], ...] = (
    # -- stage 1: tasks, trajectories and tools.py (docs/checks.md) ------------------------
    (
        "GX107",
        Stage.STRUCTURE,
        E,
        "malformed trajectory",
        'Write the trajectory as "turns": [{"role": "assistant", "content": "..."}, '
        '{"role": "assistant", "tool_calls": [{"name": "tool", "arguments": {...}}]}, ...].',
    ),
    (
        "GX108",
        Stage.STRUCTURE,
        W,
        "trajectory message left out",
        "Remove tool and system messages from the trajectory: the replay makes tool results "
        "from tools.py and the opening from the task.",
    ),
    (
        "GX109",
        Stage.STRUCTURE,
        E,
        "trajectory calls an unknown tool",
        "Call a function tools.py defines (public, at the top level), or add the tool to tools.py.",
    ),
    (
        "GX116",
        Stage.STRUCTURE,
        E,
        "tools.py cannot be used",
        "Fix tools.py so that it parses and defines its tools as top-level functions with typed "
        "parameters and a docstring.",
    ),
    (
        "GX117",
        Stage.STRUCTURE,
        W,
        "tool parameter without a type",
        "Annotate every tool parameter (str, int, float, bool, list[str], dict...): the model "
        "sees the types in the tool's schema.",
    ),
    (
        "GX118",
        Stage.STRUCTURE,
        E,
        "malformed multi-turn task",
        'Give the task "max_turns" (a whole number, 1 to 50) and "user": a list of scripted '
        'turns (text) or {"persona": "who the user is and what they know"}.',
    ),
    (
        "GX119",
        Stage.STRUCTURE,
        E,
        "trajectory longer than max_turns",
        "Shorten the trajectory or raise the task's max_turns: turns past the limit are never "
        "played, so the grader would judge a different conversation.",
    ),
    (
        "GX147",
        Stage.STRUCTURE,
        E,
        "tool call arguments do not fit the tool",
        "Pass exactly the tool's parameters by name: every required one, no others.",
    ),
    (
        "GX148",
        Stage.STRUCTURE,
        W,
        "persona replies not recorded",
        'Record the persona\'s replies as {"role": "user", ...} turns in the trajectory, so it '
        "replays without a model; otherwise stage 2 asks the configured model for them.",
    ),
    # -- stage 2: replaying the trajectories (docs/verification.md) -----------------------
    (
        "GX216",
        Stage.VERIFY,
        E,
        "tools not deterministic",
        "Make tools.py give the same result for the same calls: seed random numbers, do not "
        "read the clock or the network, and keep state per episode (module variables, setup).",
    ),
    (
        "GX217",
        Stage.VERIFY,
        W,
        "reference episode cut short",
        "Make the reference fit the task: no more assistant turns than max_turns, and no turn "
        "after the scripted user has run out of things to say.",
    ),
)
