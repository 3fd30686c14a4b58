"""The built-in match grader, mode by mode, including the responses stage 3 attacks it with."""

from __future__ import annotations

import pytest

from app.sandbox.runner.match import (
    MatchSpecError,
    grade_match,
    json_equal,
    parse_single_number,
    pick_single_choice,
)


def reward(mode: str, task: dict, response: str, **spec) -> float:
    return grade_match(task, response, {"mode": mode, "reward_range": [0.0, 1.0], **spec})["reward"]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("Paris", 1.0),
        ("  paris ", 1.0),
        ("PARIS", 1.0),
        ("Pa\u200bris", 1.0),
        ("ＰＡＲＩＳ", 1.0),
        ("Paris London", 0.0),
        ("", 0.0),
        ("Pаris", 0.0),
        ("Paris.", 0.0),
    ],
)
def test_exact_with_normalisations(response, expected):
    task = {"id": "t", "answer": "Paris"}
    assert reward("exact", task, response, normalize=["case", "whitespace", "unicode"]) == expected


def test_exact_without_normalisation_is_strict():
    assert reward("exact", {"answer": "Paris"}, "paris", normalize=[]) == 0.0
    assert (
        reward("exact", {"answer": ["Paris", "City of Light"]}, "City of Light", normalize=[])
        == 1.0
    )


def test_exact_punctuation_normalisation():
    assert (
        reward(
            "exact",
            {"answer": "e.coli"},
            "E coli!",
            normalize=["case", "punctuation", "whitespace"],
        )
        == 0.0
    )
    assert reward("exact", {"answer": "ecoli"}, "E.coli!", normalize=["case", "punctuation"]) == 1.0


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("42", 1.0),
        (" 42.0 ", 1.0),
        ("4.2e1", 1.0),
        ("+42", 1.0),
        ("42.0000001", 1.0),
        ("3 or 42", 0.0),
        ("42 42", 0.0),
        ("42, 43", 0.0),
        ("nan", 0.0),
        ("NaN", 0.0),
        ("inf", 0.0),
        ("-inf", 0.0),
        ("1e999", 0.0),
        ("0x2a", 0.0),
        ("42abc", 0.0),
        ("x = 42", 0.0),
        ("", 0.0),
        ("4_2", 0.0),
        ("9" * 100_000, 0.0),
        ("٤٢", 0.0),
    ],
)
def test_numeric_strict_single_number(response, expected):
    assert reward("numeric", {"answer": 42}, response, tolerance=1e-6) == expected


def test_numeric_tolerance_and_zero():
    assert reward("numeric", {"answer": 0}, "0.0000000001", tolerance=1e-6) == 1.0
    assert reward("numeric", {"answer": 0}, "0.01", tolerance=1e-6) == 0.0
    assert reward("numeric", {"answer": 100}, "101", tolerance=0.05) == 1.0
    assert reward("numeric", {"answer": "−3.5"}, "\u22123.5") == 1.0  # unicode minus both sides


def test_parse_single_number_rejects_hedges():
    assert parse_single_number("3 or 5") is None
    assert parse_single_number("1e400") is None
    assert parse_single_number("-0.5") == -0.5


CHOICES = {"id": "q", "choices": ["Mitochondria", "Ribosome", "Nucleus", "Golgi"], "answer": "B"}


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("B", 1.0),
        ("b", 1.0),
        ("(B)", 1.0),
        ("B.", 1.0),
        ("Ribosome", 1.0),
        ("B) Ribosome", 1.0),
        ("Answer: B", 1.0),
        ("A B C D", 0.0),
        ("A, B, C, D", 0.0),
        ("B or C", 0.0),
        ("AB", 0.0),
        ("B) Nucleus", 0.0),
        ("A", 0.0),
        ("", 0.0),
        ("Ribosome Nucleus", 0.0),
        ("E", 0.0),
    ],
)
def test_choice_exactly_one_option(response, expected):
    assert reward("choice", CHOICES, response) == expected


def test_choice_answer_forms():
    assert reward("choice", {**CHOICES, "answer": 1}, "B") == 1.0
    assert reward("choice", {**CHOICES, "answer": "Ribosome"}, "B") == 1.0
    assert pick_single_choice("A B", CHOICES["choices"]) is None
    with pytest.raises(MatchSpecError):
        reward("choice", {**CHOICES, "answer": "Z"}, "B")


def test_regex_full_match_only():
    task = {"pattern": r"\d{3}-\d{4}"}
    assert reward("regex", task, "555-1234") == 1.0
    assert reward("regex", task, "call 555-1234 now") == 0.0
    assert reward("regex", task, "555-1234\n555-9999") == 0.0


def test_set_equality():
    task = {"answer": ["H", "He", "Li"]}
    assert reward("set", task, "Li, H, He") == 1.0
    assert reward("set", task, '["He", "Li", "H"]') == 1.0
    assert reward("set", task, "H, He, Li, Be") == 0.0
    assert reward("set", task, "H, He") == 0.0
    assert reward("set", task, "H He Li") == 0.0


def test_json_equality_is_type_strict():
    task = {"answer": {"n": 1, "ok": True, "xs": [1.5, "a"]}}
    assert reward("json", task, '{"ok": true, "xs": [1.5, "a"], "n": 1}') == 1.0
    assert reward("json", task, '{"ok": 1, "xs": [1.5, "a"], "n": 1}') == 0.0
    assert reward("json", task, '{"ok": true, "xs": [1.5, "a"], "n": 1.0}') == 0.0
    assert reward("json", task, '{"ok": true, "xs": [1.5, "a"], "n": "1"}') == 0.0
    assert reward("json", task, '{"ok": true, "xs": [NaN, "a"], "n": 1}') == 0.0
    assert reward("json", task, "[" * 100_000) == 0.0
    assert not json_equal(float("nan"), float("nan"))


def test_oversized_and_non_text_responses_score_floor():
    assert reward("exact", {"answer": "x"}, "x" * 200_000) == 0.0
    assert grade_match({"answer": "x"}, None, {"mode": "exact"})["reward"] == 0.0


def test_unusable_tasks_are_the_authors_error():
    with pytest.raises(MatchSpecError):
        reward("numeric", {"answer": "forty-two"}, "42")
    with pytest.raises(MatchSpecError):
        reward("exact", {"id": "no-answer"}, "x")
    with pytest.raises(MatchSpecError):
        reward("regex", {"pattern": "("}, "x")
