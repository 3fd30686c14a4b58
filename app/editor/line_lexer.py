"""Lexing one line at a time with pygments, carrying the lexer's state from line to line.

Pygments lexes a whole text in one go. An editor needs the opposite: re-lex only the line
that changed and stop as soon as a line ends in the same state as before. This is the
approach calibre's editor takes: a `RegexLexer`'s state stack is the only thing a line
needs from the lines above it, so we run pygments' own state machine on a single line,
starting from the stack the previous line ended with, and hand back the new stack.

No Qt here: the highlighter (`app.editor.highlighter`) stores the stacks in block states.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pygments.lexer import Lexer, RegexLexer
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import (
    Error,
    Keyword,
    Name,
    Number,
    Punctuation,
    String,
    Text,
    Whitespace,
    _TokenType,
)
from pygments.util import ClassNotFound

ROOT: tuple[str, ...] = ("root",)
# Marks a stack inside a multi-line Python docstring (not a pygments state; stripped before lexing).
DOC = "_docstring"
_DOCSTRING_START = re.compile(r"""\s*[rRuU]{0,2}(\"\"\"|''')""")
# Markdown fences span lines through one big regex in pygments; we track them ourselves.
FENCE: tuple[str, ...] = ("root", "_fenced_code")

# Lexers by file name for the formats an env pack is made of; anything else asks pygments.
_BY_SUFFIX = {
    ".py": "python",
    ".toml": "toml",
    ".json": "json",
    ".jsonl": "json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".cfg": "ini",
    ".ini": "ini",
    ".sh": "bash",
    ".yaml": "yaml",
    ".yml": "yaml",
}


def lexer_for_path(name: str) -> Lexer:
    """The pygments lexer for a file name (plain text when nothing fits)."""
    lower = name.lower()
    if lower.endswith("dockerfile"):
        return get_lexer_by_name("docker", stripnl=False, ensurenl=False)
    for suffix, alias in _BY_SUFFIX.items():
        if lower.endswith(suffix):
            return get_lexer_by_name(alias, stripnl=False, ensurenl=False)
    try:
        return get_lexer_for_filename(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return get_lexer_by_name("text", stripnl=False, ensurenl=False)


@dataclass(frozen=True, slots=True)
class Run:
    """`length` characters starting at `start` share one token type."""

    start: int
    length: int
    token: _TokenType


class LineLexer:
    """Lexes lines one at a time; `lex(line, stack) -> (runs, stack_after)`."""

    def __init__(self, lexer: Lexer) -> None:
        self.lexer = lexer
        self.is_regex = isinstance(lexer, RegexLexer)
        self.is_markdown = "markdown" in (a.lower() for a in lexer.aliases)
        # pygments' JSON lexer walks characters in Python (about 1 ms for a task line); one
        # regex scan gives the same tokens an order of magnitude faster.
        self.is_json = "json" in (a.lower() for a in lexer.aliases)
        self.is_python = "python" in (a.lower() for a in lexer.aliases)

    @property
    def name(self) -> str:
        return self.lexer.name

    def lex(self, line: str, stack: tuple[str, ...] = ROOT) -> tuple[list[Run], tuple[str, ...]]:
        if self.is_markdown:
            fenced = _markdown_fence(line, stack)
            if fenced is not None:
                return fenced
        if self.is_json:
            return _merge(_json_tokens(line)), ROOT
        if not self.is_regex:
            # Stateless lexers (JSON) never carry anything across lines that matters here.
            return _merge(self._plain_tokens(line)), ROOT
        if self.is_python:
            return self._lex_python(line, stack)
        return self._lex_regex(line, stack)

    def _lex_regex(self, line: str, stack: tuple[str, ...]) -> tuple[list[Run], tuple[str, ...]]:
        statestack = list(stack) or ["root"]
        try:
            runs = _merge(_regex_tokens(self.lexer, line + "\n", statestack))
        except Exception:  # a lexer bug must never take the editor down
            return [Run(0, len(line), Text)], ROOT
        return runs, tuple(statestack)

    def _lex_python(self, line: str, stack: tuple[str, ...]) -> tuple[list[Run], tuple[str, ...]]:
        """Python, with multi-line docstrings typed String.Doc on every line.

        Pygments finds docstrings with one regex over the whole file; line by line, the first
        line of a multi-line docstring would be an ordinary string. A docstring is a triple-
        quoted string opening a statement; while it is open, the stack carries a DOC marker.
        """
        in_doc = stack[-1:] == (DOC,)
        real = stack[:-1] if in_doc else stack
        runs, after = self._lex_regex(line, real)
        if not in_doc and not (real == ROOT and _DOCSTRING_START.match(line)):
            return runs, after
        runs = [
            Run(r.start, r.length, String.Doc)
            if r.token in String and r.token is not String.Affix
            else r
            for r in runs
        ]
        # Docstrings open from the root state, so the string is still open unless back there.
        return _merge_runs(runs), (after + (DOC,) if after != ROOT else after)

    def _plain_tokens(self, line: str) -> Iterator[tuple[int, _TokenType, str]]:
        try:
            tokens = list(self.lexer.get_tokens_unprocessed(line))
        except Exception:  # all or nothing: a half-lexed line would repeat characters
            tokens = [(0, Text, line)]
        return iter(tokens)


_JSON_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    r'|(?P<str>"(?:[^"\\]|\\.)*"?)(?P<key>(?=\s*:))?'
    r"|(?P<num>-?\d+(?P<frac>\.\d+)?(?P<exp>[eE][+-]?\d+)?)"
    r"|(?P<const>true|false|null)\b"
    r"|(?P<punct>[{}\[\],:])"
)


def _json_tokens(line: str) -> Iterator[tuple[int, _TokenType, str]]:
    """Tokens of one JSON (or JSON Lines) line, typed as pygments' JSON lexer types them."""
    pos, end = 0, len(line)
    while pos < end:
        m = _JSON_TOKEN.match(line, pos)
        if m is None or m.end() == pos:
            yield pos, Error, line[pos]
            pos += 1
            continue
        value = m.group()
        if m.group("ws") is not None:
            token = Whitespace
        elif m.group("str") is not None:
            token = Name.Tag if m.group("key") is not None else String.Double
        elif m.group("num") is not None:
            token = Number.Float if (m.group("frac") or m.group("exp")) else Number.Integer
        elif m.group("const") is not None:
            token = Keyword.Constant
        else:
            token = Punctuation
        yield pos, token, value
        pos = m.end()


def _regex_tokens(
    lexer: RegexLexer, text: str, statestack: list[str]
) -> Iterator[tuple[int, _TokenType, str]]:
    """Pygments' `RegexLexer.get_tokens_unprocessed`, resumable from a given state stack."""
    pos = 0
    tokendefs = lexer._tokens
    statetokens = tokendefs[statestack[-1]]
    while pos < len(text):
        for rexmatch, action, new_state in statetokens:
            m = rexmatch(text, pos)
            if m is None:
                continue
            if action is not None:
                if type(action) is _TokenType:
                    yield pos, action, m.group()
                else:
                    yield from action(lexer, m)
            if m.end() == pos and new_state is None:
                continue  # an empty match that changes nothing would loop forever
            pos = m.end()
            if new_state is not None:
                if isinstance(new_state, tuple):
                    for state in new_state:
                        if state == "#pop":
                            if len(statestack) > 1:
                                statestack.pop()
                        elif state == "#push":
                            statestack.append(statestack[-1])
                        else:
                            statestack.append(state)
                elif isinstance(new_state, int):
                    if abs(new_state) >= len(statestack):
                        del statestack[1:]
                    else:
                        del statestack[new_state:]
                elif new_state == "#push":
                    statestack.append(statestack[-1])
                statetokens = tokendefs[statestack[-1]]
            break
        else:
            # No rule matched: pygments marks one character as an error and moves on;
            # at the end of the line it falls back to the root state.
            if text[pos] == "\n":
                statestack[:] = ["root"]
                break
            yield pos, Error, text[pos]
            pos += 1


def _merge(tokens: Iterator[tuple[int, _TokenType, str]]) -> list[Run]:
    """Adjacent tokens of one type become one run (fewer format ranges for Qt)."""
    runs: list[Run] = []
    for pos, token, value in tokens:
        if not value or value == "\n":
            continue
        if value.endswith("\n"):
            value = value[:-1]
        if runs and runs[-1].token is token and runs[-1].start + runs[-1].length == pos:
            last = runs[-1]
            runs[-1] = Run(last.start, last.length + len(value), token)
        else:
            runs.append(Run(pos, len(value), token))
    return runs


def _merge_runs(runs: list[Run]) -> list[Run]:
    merged: list[Run] = []
    for run in runs:
        if (
            merged
            and merged[-1].token is run.token
            and merged[-1].start + merged[-1].length == run.start
        ):
            merged[-1] = Run(merged[-1].start, merged[-1].length + run.length, run.token)
        else:
            merged.append(run)
    return merged


def _markdown_fence(line: str, stack: tuple[str, ...]) -> tuple[list[Run], tuple[str, ...]] | None:
    from pygments.token import String

    stripped = line.strip()
    inside = stack == FENCE
    if stripped.startswith("```") or stripped.startswith("~~~"):
        return [Run(0, len(line), String.Backtick)] if line else [], ROOT if inside else FENCE
    if inside:
        return ([Run(0, len(line), String.Backtick)] if line else []), FENCE
    return None
