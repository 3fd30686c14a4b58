"""Was a failing response in the wrong form, rather than wrong? Told only where the grader's
own parser answers it: the built-in `match` grader in `numeric` mode (exactly one number) and
`choice` mode (exactly one option). The same functions the grader runs in the sandbox are
called here on the host (they are pure, stdlib only). For every other grader there is no
reliable signal, so nothing is guessed: the answer is None.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from app.envpack.model import GraderSpec
from app.sandbox.runner.match import MAX_RESPONSE_CHARS, parse_single_number, pick_single_choice


def checks_format(grader: GraderSpec) -> bool:
    return grader.type == "match" and grader.mode in ("numeric", "choice")


def format_failure(grader: GraderSpec, task: dict[str, Any], response: str) -> bool | None:
    """True when the grader could not read one answer from `response`; None: cannot tell."""
    if not checks_format(grader):
        return None
    if len(response) > MAX_RESPONSE_CHARS:
        return True
    if grader.mode == "numeric":
        return parse_single_number(unicodedata.normalize("NFKC", response)) is None
    choices = task.get("choices")
    if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
        return None  # the task itself is broken: stage 1 says so
    return pick_single_choice(response, choices) is None
