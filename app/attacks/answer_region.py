"""Where a grader reads the answer: the answer region of a response, learned from the
package's references and the task's prompt.

Sound graders for reasoning models read only part of a response: the text inside
`<answer>…</answer>`, the last `\\boxed{…}`, a JSON field, or the last line. Everything outside
is reasoning. A mutation that changes only text outside that region leaves the answer as it was,
so it is not wrong by construction; mutations are made inside the region instead.

A region is *learned* when every reference of the task has it, and *stated* when the prompt says
so too ("put your final answer in <answer></answer> tags", "in \\boxed{}", "a JSON object with
the field "answer"", "on the last line"). Only a stated region is the package's own rule; a
learned one is an assumption, and findings that depend on it say so.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

WHOLE = "whole"
TAG = "tag"
BOXED = "boxed"
JSON_FIELD = "json-field"
FINAL_LINE = "final-line"

_TAG = re.compile(r"<([A-Za-z][\w-]{0,30})>(.*?)</\1\s*>", re.DOTALL)
_PREFERRED_TAGS = ("answer", "final_answer", "final", "result", "solution")
_PREFERRED_FIELDS = ("answer", "final_answer", "result", "value", "prediction", "output")
_LAST_LINE_WORDS = re.compile(
    r"\b(?:last|final)\s+line\b|\bon\s+(?:its|a)\s+own\s+line\b|\bend\s+with\s+(?:a\s+)?line\b"
    r"|\bfinish\s+with\b.*\banswer\s*:",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class AnswerRegion:
    kind: str = WHOLE
    name: str = ""  # the tag or JSON field
    stated: bool = True  # the prompt says so (a whole-response answer needs no statement)

    @property
    def is_whole(self) -> bool:
        return self.kind == WHOLE

    def describe(self) -> str:
        return {
            TAG: f"<{self.name}>…</{self.name}>",
            BOXED: "\\boxed{…}",
            JSON_FIELD: f'the JSON field "{self.name}"',
            FINAL_LINE: "the last line",
        }.get(self.kind, "the whole response")

    def span(self, text: str) -> tuple[int, int] | None:
        """Where the answer is in `text` (its last occurrence), or None when it has none."""
        if self.kind == WHOLE:
            return 0, len(text)
        if self.kind == TAG:
            found = [m for m in _TAG.finditer(text) if m.group(1) == self.name]
            return found[-1].span(2) if found else None
        if self.kind == BOXED:
            return _last_boxed(text)
        if self.kind == FINAL_LINE:
            stripped = text.rstrip()
            if not stripped.strip():
                return None
            start = stripped.rfind("\n") + 1
            return start, len(stripped)
        return None  # JSON fields are read, not cut (see `content`)

    def all_contents(self, text: str) -> list[str]:
        """Every answer in `text`: several tags or boxes may disagree with each other."""
        if self.kind == TAG:
            return [m.group(2) for m in _TAG.finditer(text) if m.group(1) == self.name]
        if self.kind == BOXED:
            found, rest = [], text
            while (span := _last_boxed(rest)) is not None:
                found.append(rest[span[0] : span[1]])
                rest = rest[: rest.rfind("\\boxed{", 0, span[0])]
            return found[::-1]
        content = self.content(text)
        return [] if content is None else [content]

    def _json_with_field(self, text: str) -> dict[str, Any] | None:
        """`text` as a JSON object that has this region's field, or None."""
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return None
        if not isinstance(value, dict) or self.name not in value:
            return None
        return value

    def content(self, text: str) -> str | None:
        if self.kind == JSON_FIELD:
            value = self._json_with_field(text)
            if value is None:
                return None
            field = value[self.name]
            return field if isinstance(field, str) else json.dumps(field, ensure_ascii=False)
        span = self.span(text)
        return None if span is None else text[span[0] : span[1]]

    def replace(self, text: str, new: str) -> str | None:
        """`text` with its answer replaced by `new` (None when `text` has no answer)."""
        if self.kind == JSON_FIELD:
            value = self._json_with_field(text)
            if value is None:
                return None
            old = value[self.name]
            if isinstance(old, str):
                value[self.name] = new
            else:
                try:
                    value[self.name] = json.loads(new)
                except (ValueError, RecursionError):
                    value[self.name] = new
            return json.dumps(value, ensure_ascii=False)
        span = self.span(text)
        if span is None:
            return None
        return text[: span[0]] + new + text[span[1] :]


def _last_boxed(text: str) -> tuple[int, int] | None:
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    i = begin = start + len("\\boxed{")
    depth = 1
    while i < len(text):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return begin, i
        i += 1
    return None


def learn_region(
    prompt: str, references: tuple[str, ...] | list[str], answer: object = None
) -> AnswerRegion:
    """The region every reference has (tag, boxed, JSON field, last line), stated when the
    prompt names it; the whole response when the references share none."""
    refs = [r for r in references if r.strip()]
    if not refs:
        return AnswerRegion()
    prompt = prompt or ""
    tags = _common_tags(refs)
    if tags:
        name = next((t for t in _PREFERRED_TAGS if t in tags), sorted(tags)[0])
        stated = f"<{name}>" in prompt or f"<{name}></{name}>" in prompt
        return AnswerRegion(TAG, name, stated)
    if all(_last_boxed(r) is not None for r in refs):
        return AnswerRegion(BOXED, "", "boxed" in prompt)
    field = "" if isinstance(answer, (dict, list)) else _common_field(refs)
    if field:
        stated = f'"{field}"' in prompt or f"`{field}`" in prompt or f"'{field}'" in prompt
        return AnswerRegion(JSON_FIELD, field, stated)
    if all(len([line for line in r.strip().splitlines() if line.strip()]) >= 2 for r in refs):
        return AnswerRegion(FINAL_LINE, "", bool(_LAST_LINE_WORDS.search(prompt)))
    return AnswerRegion()


def _common_tags(refs: list[str]) -> set[str]:
    common: set[str] | None = None
    for ref in refs:
        names = {m.group(1) for m in _TAG.finditer(ref)}
        common = names if common is None else common & names
    return common or set()


def _common_field(refs: list[str]) -> str:
    keys: set[str] | None = None
    for ref in refs:
        try:
            value = json.loads(ref)
        except (ValueError, RecursionError):
            return ""
        if not isinstance(value, dict):
            return ""
        keys = set(value) if keys is None else keys & set(value)
    keys = keys or set()
    if len(keys) == 1:
        return next(iter(keys))
    return next((k for k in _PREFERRED_FIELDS if k in keys), "")
