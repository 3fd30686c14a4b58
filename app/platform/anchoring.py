"""Review threads anchored to text, not to line numbers, so they survive edits.

An anchor keeps the quoted lines and a few lines of context around them, with hashes of both.
On a new revision the thread is *current* when the quoted text is still on the same lines,
*moved* when it is found elsewhere in the file (the occurrence whose context matches best,
then the nearest one), and *outdated* when the text is gone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

CONTEXT_LINES = 3


def split_lines(text: str) -> list[str]:
    """Lines without their terminators; CRLF and LF files compare equal."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Anchor:
    start_line: int  # 1-based, inclusive
    end_line: int
    quote: str
    context_before: str
    context_after: str

    @property
    def quote_sha256(self) -> str:
        return _sha(self.quote)

    @property
    def context_sha256(self) -> str:
        return _sha(
            "\n".join(part for part in (self.context_before, self.quote, self.context_after))
        )


@dataclass(frozen=True, slots=True)
class Position:
    status: str  # current | moved | outdated
    start_line: int
    end_line: int


def make_anchor(text: str, start_line: int, end_line: int) -> Anchor:
    lines = split_lines(text)
    if start_line < 1 or end_line < start_line:
        raise ValueError("start_line must be ≥ 1 and end_line ≥ start_line")
    if end_line > len(lines):
        raise ValueError(f"the file has {len(lines)} lines; end_line {end_line} is past its end")
    first, last = start_line - 1, end_line
    return Anchor(
        start_line=start_line,
        end_line=end_line,
        quote="\n".join(lines[first:last]),
        context_before="\n".join(lines[max(0, first - CONTEXT_LINES) : first]),
        context_after="\n".join(lines[last : last + CONTEXT_LINES]),
    )


def locate(anchor: Anchor, text: str | None) -> Position:
    """Where the anchored text is in `text` (a later version of the file; None = file gone)."""
    outdated = Position("outdated", anchor.start_line, anchor.end_line)
    if text is None:
        return outdated
    lines = split_lines(text)
    quote = anchor.quote.split("\n")
    size = len(quote)
    hits = [i for i in range(len(lines) - size + 1) if lines[i : i + size] == quote]
    if not hits:
        return outdated
    if anchor.start_line - 1 in hits:
        return Position("current", anchor.start_line, anchor.end_line)
    before = anchor.context_before.split("\n") if anchor.context_before else []
    after = anchor.context_after.split("\n") if anchor.context_after else []

    def context_score(i: int) -> int:
        seen_before = lines[max(0, i - len(before)) : i]
        seen_after = lines[i + size : i + size + len(after)]
        score = sum(
            1 for a, b in zip(reversed(before), reversed(seen_before), strict=False) if a == b
        )
        return score + sum(1 for a, b in zip(after, seen_after, strict=False) if a == b)

    best = max(hits, key=lambda i: (context_score(i), -abs(i - (anchor.start_line - 1))))
    return Position("moved", best + 1, best + size)
