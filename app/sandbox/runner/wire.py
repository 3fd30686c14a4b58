"""JSON-lines framing and signing between the host and the fork server, and a safe way to turn
whatever a grader returned into JSON (a grader may return anything, including hostile objects).
"""

from __future__ import annotations

import json

# The small built-in SHA-256 instead of hashlib/hmac: those load OpenSSL (~4 MB resident), and
# every byte resident in the fork server makes each per-grading fork and exit slower.
try:
    from _sha2 import sha256 as _sha256  # Python ≥ 3.12
except ImportError:
    try:
        from _sha256 import sha256 as _sha256  # Python ≤ 3.11
    except ImportError:  # pragma: no cover - unusual builds
        from hashlib import sha256 as _sha256

MAX_DEPTH = 8
MAX_ITEMS = 200
MAX_STR = 4000


_PADS: dict[bytes, tuple[bytes, bytes]] = {}


def sign(token: bytes, body: str) -> str:
    """HMAC-SHA256 (RFC 2104) of `body` under `token`, as hex."""
    pads = _PADS.get(token)
    if pads is None:
        key = _sha256(token).digest() if len(token) > 64 else token
        key = key.ljust(64, b"\0")
        pads = _PADS[token] = (bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key))
    inner = _sha256(pads[0] + body.encode("utf-8")).digest()
    return _sha256(pads[1] + inner).hexdigest()


def encode_signed(token: bytes, message: dict) -> bytes:
    """One line `{"body": "<json>", "mac": "<hmac>"}` so the host can reject forged lines."""
    body = json.dumps(message, ensure_ascii=True, allow_nan=True, separators=(",", ":"))
    line = json.dumps({"body": body, "mac": sign(token, body)}, separators=(",", ":"))
    return (line + "\n").encode("ascii")


def to_jsonable(value, depth: int = 0):
    """A JSON-safe copy of `value` that never calls user-defined methods on it.

    Exact builtin types are kept (NaN/inf floats too: the host judges them); anything else,
    including subclasses with a lying `__eq__`/`__float__`, becomes {"$type": ..., "$repr": ...}
    except float/int subclasses, whose underlying value is read without calling their methods.
    """
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is float:
        if kind is int and abs(value) > 10**300:
            return {"$type": "int", "$repr": "a huge integer"}
        return value
    if kind is str:
        return value if len(value) <= MAX_STR else value[:MAX_STR] + "…"
    if depth >= MAX_DEPTH:
        return {"$type": kind.__name__, "$repr": "nested too deeply"}
    if kind is dict:
        out = {}
        for index, (key, item) in enumerate(dict.items(value)):
            if index >= MAX_ITEMS:
                out["$truncated"] = True
                break
            name = key if type(key) is str else _safe_repr(key)
            out[name] = to_jsonable(item, depth + 1)
        return out
    if kind is list or kind is tuple:
        items = list.__iter__(value) if kind is list else tuple.__iter__(value)
        out = []
        for index, item in enumerate(items):
            if index >= MAX_ITEMS:
                out.append({"$truncated": True})
                break
            out.append(to_jsonable(item, depth + 1))
        return out
    marker = {"$type": _type_name(value), "$repr": _safe_repr(value)}
    if isinstance(value, float):
        marker["$value"] = float.__float__(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = int.__index__(value)
        marker["$value"] = number if abs(number) <= 10**300 else None
    return marker


def _type_name(value) -> str:
    try:
        cls = type(value)
        return (
            f"{cls.__module__}.{cls.__qualname__}"
            if cls.__module__ != "builtins"
            else cls.__qualname__
        )
    except Exception:
        return "?"


def _safe_repr(value) -> str:
    try:
        text = (
            object.__repr__(value) if type(value).__repr__ is not object.__repr__ else repr(value)
        )
        # A user __repr__ could lie or hang; the object.__repr__ form is enough as evidence, but
        # numpy-like scalars are friendlier with their own repr, which we try with a guard.
        if type(value).__module__.split(".")[0] in ("numpy", "decimal", "fractions"):
            text = repr(value)
        return text[:200]
    except Exception:
        return "<unprintable>"
