"""The words messages use for the types of JSON and TOML values, so an author reads the same
words for the same type wherever a message comes from (env.toml, a JSONL line, a task-table
cell, a judge's reply): "true/false", "a number", "text", "a list", "an object" (in TOML,
where it is written `[name]`, "a table"), "null".

`describe_type(value)` says what a value is, `expected(kind)` and `list_of(kind)` what it must
be: `f"must be {expected('text')}, not {describe_type(5)}"` reads "must be text, not a number".
"""

from __future__ import annotations

import datetime
from typing import Any

# kind -> (the phrase for one, the plural used in "a list of ...")
_WORDS = {
    "true/false": ("true/false", "true/false values"),
    "number": ("a number", "numbers"),
    "whole number": ("a whole number", "whole numbers"),
    "finite number": ("a finite number", "finite numbers"),
    "text": ("text", "texts"),
    "list": ("a list", "lists"),
    "object": ("an object", "objects"),
    "table": ("a table", "tables"),
    "date/time": ("a date/time", "dates/times"),
    "null": ("null", "nulls"),
}


def type_name(value: Any, *, toml: bool = False) -> str:
    """The bare word for the type of `value`, for a label: "number", "text", "object"..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "table" if toml else "object"
    if isinstance(value, datetime.date | datetime.time):  # TOML has dates and times
        return "date/time"
    return type(value).__name__


def describe_type(value: Any, *, toml: bool = False) -> str:
    """The type of `value` as a sentence says it: "a number", "text", "an object"..."""
    name = type_name(value, toml=toml)
    return _WORDS[name][0] if name in _WORDS else name


def expected(kind: str) -> str:
    """What a value of `kind` ("number", "whole number", "text", "table"...) is called."""
    return _WORDS[kind][0]


def list_of(kind: str, how_many: str = "") -> str:
    """ "a list of texts"; with `how_many` ("two", "accepted"): "a list of two numbers"."""
    plural = _WORDS[kind][1]
    return f"a list of {how_many} {plural}" if how_many else f"a list of {plural}"
