"""The one strict JSON reader: what it refuses, and how its errors say what and where."""

from __future__ import annotations

import pytest

from app import strict_json
from app.strict_json import StrictJsonError


def test_plain_json_reads_as_json() -> None:
    assert strict_json.loads('{"a": [1, 2.5, true, null, "NaN"]}') == {
        "a": [1, 2.5, True, None, "NaN"]
    }


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_constants_python_allows_are_refused_where_they_are(constant: str) -> None:
    text = f'{{"note": "{constant} in text is fine", "x": {constant}}}'
    with pytest.raises(StrictJsonError) as caught:
        strict_json.loads(text)
    error = caught.value
    assert error.constant == constant
    assert error.what == f"{constant} is not valid JSON (use a number or null)"
    # the constant outside the string, not the word inside it
    assert (error.line, error.column) == (1, text.rindex(constant) + 1)
    assert str(error) == f"{error.what}, at column {error.column}"


def test_syntax_errors_say_line_and_column_of_multiline_text() -> None:
    with pytest.raises(StrictJsonError) as caught:
        strict_json.loads("[1,\n 2,\n 3 4]")
    error = caught.value
    assert (error.line, error.column, error.position) == (3, 4, 11)
    assert str(error) == "Expecting ',' delimiter, at line 3, column 4"
    assert error.constant is None


def test_problems_without_a_place_have_no_position() -> None:
    for text in ("[" * 100_000, "1" * 5000):
        with pytest.raises(StrictJsonError) as caught:
            strict_json.loads(text)
        assert caught.value.line is None and caught.value.column is None
        assert str(caught.value) == caught.value.what and caught.value.what


def test_repeated_keys_of_the_outer_object_are_noted_and_the_last_wins() -> None:
    value, repeated = strict_json.loads_noting_repeats(
        '{"a": 1, "b": {"c": 1, "c": 2}, "a": 3, "b": 0, "a": 4}'
    )
    assert value == {"a": 4, "b": 0}
    assert repeated == ("a", "b")  # once each, in order; the inner "c" is not the outer's
    assert strict_json.loads_noting_repeats('[{"a": 1, "a": 2}]') == ([{"a": 2}], ())
    assert strict_json.loads_noting_repeats('{"a": 1}') == ({"a": 1}, ())


def test_errors_are_value_errors() -> None:
    """Callers that already catch ValueError keep working."""
    with pytest.raises(ValueError):
        strict_json.loads("{")
