"""One vocabulary for value types in messages."""

from __future__ import annotations

import datetime

import pytest

from app.type_words import describe_type, expected, list_of, type_name


@pytest.mark.parametrize(
    ("value", "name", "described"),
    [
        (True, "true/false", "true/false"),
        (0, "number", "a number"),
        (1.5, "number", "a number"),
        ("x", "text", "text"),
        ([1], "list", "a list"),
        ({"a": 1}, "object", "an object"),
        (None, "null", "null"),
        (datetime.date(2024, 1, 1), "date/time", "a date/time"),
    ],
)
def test_every_value_has_one_name(value, name: str, described: str) -> None:
    assert type_name(value) == name
    assert describe_type(value) == described


def test_a_mapping_is_a_table_in_toml_and_an_object_in_json() -> None:
    assert describe_type({}, toml=True) == "a table"
    assert describe_type({}) == "an object"
    assert describe_type([], toml=True) == "a list"


def test_what_a_value_must_be() -> None:
    assert f"must be {expected('text')}, not {describe_type(5)}" == "must be text, not a number"
    assert expected("whole number") == "a whole number"
    assert list_of("text") == "a list of texts"
    assert list_of("number", "two") == "a list of two numbers"
    with pytest.raises(KeyError):
        expected("string")  # one word per type: "text", never "string"
