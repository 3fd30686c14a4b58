"""Reading JSON strictly: what Python's `json` lets through but JSON forbids (NaN, Infinity,
-Infinity) is refused, and every error says what is wrong and where (line and column).

The one strict reader of the app: the package loader, the task table and the judge use it. The
in-sandbox runner keeps its own few lines for this, because it must stay stdlib-only.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

# A JSON string (skipped, so "NaN" inside text is not mistaken for the constant) or a constant.
_STRING_OR_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"|-?Infinity|NaN')


class StrictJsonError(ValueError):
    """The text is not strict JSON: `what` is wrong at `line`/`column` (1-based).

    `position` is the 0-based offset in the text; the three are None when the problem has no
    single place (nesting too deep, a number with too many digits). `constant` names the
    rejected NaN/Infinity/-Infinity, if that is the problem.
    """

    def __init__(
        self, what: str, text: str, position: int | None, constant: str | None = None
    ) -> None:
        self.what = what
        self.position = position
        self.constant = constant
        self.line: int | None = None
        self.column: int | None = None
        self.multiline = "\n" in text
        if position is not None:
            self.line = text.count("\n", 0, position) + 1
            self.column = position - text.rfind("\n", 0, position)
        super().__init__(what)

    def __str__(self) -> str:
        if self.line is None:
            return self.what
        if self.multiline:
            return f"{self.what}, at line {self.line}, column {self.column}"
        return f"{self.what}, at column {self.column}"


class _RejectedConstant(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _reject_constant(name: str) -> Any:
    raise _RejectedConstant(name)


_repeated = threading.local()  # per thread: the live linter parses off the GUI thread


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A plain dict, noting keys written twice (json silently keeps the last).

    Objects complete inside-out, so after decoding this holds the outermost object's repeats.
    """
    record = dict(pairs)
    repeated: tuple[str, ...] = ()
    if len(record) != len(pairs):
        seen: set[str] = set()
        repeated = tuple(dict.fromkeys(k for k, _ in pairs if k in seen or seen.add(k)))
    _repeated.keys = repeated
    return record


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_NOTING_DECODER = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_object)


def loads(text: str) -> Any:
    """The JSON value in `text`; raises `StrictJsonError` for anything that is not JSON."""
    try:
        return _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        raise _explained(exc, text) from None


def load_file(path: str | Path, kind: str, error: type[ValueError] = ValueError) -> Any:
    """The JSON value in the file at `path`, or `error` saying what is wrong with the file (not
    where: callers show the path as the place); `kind` names the file in the messages."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error("the file does not exist.") from None
    except IsADirectoryError:
        raise error(f"this is a folder, not a {kind} file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"the file cannot be read: {exc}.") from None
    try:
        return loads(text)
    except ValueError as exc:
        raise error(f"not valid JSON: {exc}") from None


def loads_noting_repeats(text: str) -> tuple[Any, tuple[str, ...]]:
    """Like `loads`, plus the keys the outermost object writes more than once (the last wins)."""
    _repeated.keys = ()
    try:
        value = _NOTING_DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        raise _explained(exc, text) from None
    return value, (_repeated.keys if isinstance(value, dict) else ())


def _explained(exc: ValueError | RecursionError, text: str) -> StrictJsonError:
    if isinstance(exc, json.JSONDecodeError):
        return StrictJsonError(exc.msg, text, exc.pos)
    if isinstance(exc, _RejectedConstant):
        what = f"{exc.name} is not valid JSON (use a number or null)"
        return StrictJsonError(what, text, _constant_position(text), exc.name)
    # no single place: absurdly deep nesting, an integer with too many digits
    return StrictJsonError(str(exc) or type(exc).__name__, text, None)


def _constant_position(text: str) -> int | None:
    """Where the first NaN/Infinity outside a string is (the one the decoder met first)."""
    for match in _STRING_OR_CONSTANT.finditer(text):
        if not match.group().startswith('"'):
            return match.start()
    return None
