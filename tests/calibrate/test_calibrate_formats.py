"""Telling a wrong form from a wrong answer, with the built-in match grader's own parsers."""

from __future__ import annotations

from app.calibrate.formats import format_failure
from app.envpack.model import GraderSpec

NUMERIC = GraderSpec(type="match", mode="numeric")
CHOICE = GraderSpec(type="match", mode="choice")
TASK = {"id": "t", "prompt": "?", "choices": ["red", "green", "blue"], "answer": "B"}


def test_numeric_mode_reads_exactly_one_number() -> None:
    assert format_failure(NUMERIC, TASK, "42") is False
    assert format_failure(NUMERIC, TASK, "41.5") is False  # wrong, but in the right form
    assert format_failure(NUMERIC, TASK, "The rate is 50 µM/min") is True
    assert format_failure(NUMERIC, TASK, "3 or 5") is True


def test_choice_mode_reads_exactly_one_option() -> None:
    assert format_failure(CHOICE, TASK, "B") is False
    assert format_failure(CHOICE, TASK, "red") is False
    assert format_failure(CHOICE, TASK, "A or B") is True
    assert format_failure(CHOICE, {"id": "t"}, "B") is None  # a broken task: cannot tell


def test_other_graders_give_no_signal() -> None:
    for grader in (GraderSpec(type="match", mode="exact"), GraderSpec(type="tests")):
        assert format_failure(grader, TASK, "anything at all") is None
