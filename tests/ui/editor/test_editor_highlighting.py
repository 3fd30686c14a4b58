"""Highlighting: the right tokens get the right formats, incrementally, and big files open."""

from __future__ import annotations

import time

import pytest
from pygments.token import Comment, Error, Keyword, Name, Number, String
from PySide6.QtGui import QTextCharFormat, QTextCursor

from app.editor import CodeEditor
from app.editor.line_lexer import ROOT, LineLexer, lexer_for_path


def formats_at(editor: CodeEditor, line: int, column: int):
    """The highlighter's char format at 1-based line/column."""
    block = editor.document().findBlockByNumber(line - 1)
    ranges = block.layout().formats()  # keep the list alive while reading its formats
    for fmt_range in ranges:
        if fmt_range.start <= column - 1 < fmt_range.start + fmt_range.length:
            return QTextCharFormat(fmt_range.format)
    return None


def color_at(editor: CodeEditor, line: int, column: int) -> str | None:
    fmt = formats_at(editor, line, column)
    return fmt.foreground().color().name() if fmt is not None else None


def expected(editor: CodeEditor, token) -> str:
    return editor.theme.format_for(token).foreground().color().name()


@pytest.fixture
def editor(qtbot):
    def make(name: str, text: str) -> CodeEditor:
        widget = CodeEditor(file_name=name)
        qtbot.addWidget(widget)
        widget.resize(700, 400)
        widget.set_text(text)
        widget.highlighter.finish()
        return widget

    created = []

    def factory(name, text):
        created.append(make(name, text))
        return created[-1]

    yield factory
    for widget in created:
        widget.close_editor()


def test_python_tokens_get_their_formats(editor):
    ed = editor(
        "grader.py",
        'def grade(task, response):\n    # compare\n    return 1.0 if response == "x" else 0.0\n',
    )
    assert color_at(ed, 1, 1) == expected(ed, Keyword)  # def
    assert color_at(ed, 1, 5) == expected(ed, Name.Function)  # grade
    assert color_at(ed, 2, 5) == expected(ed, Comment.Single)
    assert color_at(ed, 3, 12) == expected(ed, Number.Float)  # 1.0
    assert color_at(ed, 3, 31) == expected(ed, String.Double)  # "x"
    assert expected(ed, Keyword) != expected(ed, Comment.Single)


def test_multiline_string_state_carries_to_following_lines_and_updates_on_edit(editor, qtbot):
    ed = editor("grader.py", 'x = """start\nstill a string\nend"""\ny = 1\n')
    assert color_at(ed, 2, 1) == expected(ed, String.Double)
    assert color_at(ed, 4, 5) == expected(ed, Number.Integer)
    # Close the string on line 1: line 2 must be re-lexed as code, without a full rehighlight.
    cursor = ed.textCursor()
    cursor.setPosition(len('x = """start'))
    cursor.insertText('"""')
    ed.highlighter.finish()
    assert color_at(ed, 2, 1) != expected(ed, String.Double)


def test_toml_json_jsonl_markdown(editor):
    toml = editor(
        "env.toml", '[grader]\ntype = "match"  # how answers are compared\ntolerance = 1e-6\n'
    )
    assert color_at(toml, 1, 2) == expected(toml, Keyword)
    assert color_at(toml, 2, 8) == expected(toml, String.Double)
    assert color_at(toml, 2, 17) == expected(toml, Comment.Single)

    jsonl = editor("tasks.jsonl", '{"id": "t1", "answer": 42}\n{"id": "t2", "answer": true}\n')
    assert color_at(jsonl, 1, 2) == expected(jsonl, Name.Tag)
    assert color_at(jsonl, 1, 8) == expected(jsonl, String.Double)
    assert color_at(jsonl, 1, 24) == expected(jsonl, Number.Integer)
    assert color_at(jsonl, 2, 24) == expected(jsonl, Keyword.Constant)

    md = editor("README.md", "# Enzyme kinetics\n\n```python\nx = 1\n```\ntext\n")
    heading = formats_at(md, 1, 3)
    assert heading is not None and heading.fontWeight() >= 600
    assert color_at(md, 4, 1) == expected(md, String.Backtick)  # fenced code
    assert formats_at(md, 6, 1) is None or color_at(md, 6, 1) != expected(md, String.Backtick)


def test_line_lexer_matches_whole_file_lexing_for_code():
    source = "import math\n\nclass A:\n    def f(self, x):\n        return math.sqrt(x)  # root\n"
    lexer = lexer_for_path("a.py")
    whole = [tok for _, tok, value in lexer.get_tokens_unprocessed(source) for _ in value]
    line_lexer = LineLexer(lexer)
    mine, stack = [], ROOT
    for line in source.split("\n")[:-1]:
        runs, stack = line_lexer.lex(line, stack)
        tokens = [None] * len(line)
        for run in runs:
            tokens[run.start : run.start + run.length] = [run.token] * run.length
        mine.extend(tokens + ["\n"])
    assert [t for t, m in zip(whole, mine, strict=True) if m != "\n"] == [
        m for m in mine if m != "\n"
    ]


def test_astral_characters_do_not_shift_formats(editor):
    ed = editor("grader.py", 's = "🧬 dna"  # note\n')
    # The emoji is two UTF-16 units: the comment must still start on the '#'.
    qt_col = ed.document().firstBlock().text().index("#") + 1 + 1  # +1 for the surrogate pair
    assert color_at(ed, 1, qt_col) == expected(ed, Comment.Single)


def test_an_edit_that_changes_everything_below_does_not_block(qtbot):
    """Opening a string at the top of a long file re-lexes the rest in slices, not in one go."""
    ed = CodeEditor(file_name="long.py")
    qtbot.addWidget(ed)
    ed.resize(700, 400)
    ed.set_text("\n".join(f"value_{n} = {n}" for n in range(3000)))
    ed.highlighter.finish()
    assert color_at(ed, 2500, 14) == expected(ed, Number.Integer)  # "value_2499 = 2499"
    cursor = QTextCursor(ed.document())
    cursor.insertText('"""\n')  # everything below is now inside a string
    assert not ed.highlighter.is_lexed(
        2900
    )  # not re-lexed synchronously: the GUI thread stays free
    qtbot.waitUntil(ed.highlighter.is_complete, timeout=60_000)
    assert color_at(ed, 2901, 1) == expected(ed, String.Double)
    ed.close_editor()


@pytest.mark.slow
def test_twenty_thousand_line_file_opens_then_completes_in_background(qtbot):
    # A generated grader: a function header every 20 lines, repetitive bodies (as generated
    # code is); the lexing cache makes the repeats cheap, the headers are all different.
    lines = []
    for n in range(20_000):
        lines.append(
            f"def check_{n}(response):  # case {n}"
            if n % 20 == 0
            else "    total = total + weight * score(response)"
        )
    text = "\n".join(lines)
    ed = CodeEditor(file_name="big.py")
    qtbot.addWidget(ed)
    ed.resize(800, 600)
    started = time.perf_counter()
    ed.set_text(text)
    ed.show()
    ed.grab()
    opened = time.perf_counter() - started
    assert ed.blockCount() == 20_000
    # The top is coloured at once; the rest may still be pending and fills in without blocking.
    assert color_at(ed, 1, 1) == expected(ed, Keyword)
    assert not ed.highlighter.is_lexed(19_999) or ed.highlighter.is_complete()
    qtbot.waitUntil(ed.highlighter.is_complete, timeout=60_000)
    assert color_at(ed, 19_981, 1) == expected(ed, Keyword)  # line 19,981 is "def check_19980"
    assert color_at(ed, 19_981, 5) == expected(ed, Name.Function)
    assert opened < 30  # sanity only; bench/ui.py measures the real figure
    ed.close_editor()


def test_multiline_docstring_is_a_docstring_on_every_line(editor):
    ed = editor(
        "grader.py",
        (
            'def grade(task, response):\n    """Compare the answer.\n\n'
            '    Numbers within 1e-3.\n    """\n    note = """not a\n    docstring"""\n'
        ),
    )
    doc, plain = ed.theme.format_for(String.Doc), ed.theme.format_for(String.Double)
    assert doc != plain  # (italic in the default style)
    assert formats_at(ed, 2, 5) == doc  # the opening line too, not an ordinary string
    assert formats_at(ed, 4, 5) == doc
    assert formats_at(ed, 5, 5) == doc
    assert formats_at(ed, 6, 12) == plain  # an assigned string stays a string
    assert formats_at(ed, 7, 5) == plain


def test_json_lines_tokens_match_pygments():
    """The fast JSON line tokenizer types every character as pygments' JSON lexer does."""
    lexer = lexer_for_path("tasks.jsonl")
    line_lexer = LineLexer(lexer)
    for line in [
        '{"id": "t1", "answer": [1.5, -2e3, true, null], "p": "a \\"q\\" b"}',
        '  {"nested": {"k": [{"x": 0}]}, "u": "Caf\\u00e9 🧬"}',
        '{"a": [ ], "b":{}}',
        "",
    ]:
        runs, _ = line_lexer.lex(line)
        mine = [None] * len(line)
        for run in runs:
            mine[run.start : run.start + run.length] = [run.token] * run.length
        theirs = [token for _, token, value in lexer.get_tokens_unprocessed(line) for _ in value]
        assert mine == theirs[: len(line)], line
    # A misspelt constant is marked as an error (pygments would colour `tru` as a keyword).
    runs, _ = line_lexer.lex('{"ok": tru}')
    assert any(run.token is Error and run.start == 7 for run in runs)


def test_opening_a_big_file_colours_what_is_on_screen_and_a_jump_colours_the_end(qtbot):
    ed = CodeEditor(file_name="big.py")
    qtbot.addWidget(ed)
    ed.resize(800, 500)
    ed.show()
    qtbot.waitExposed(ed)
    ed.set_text(
        "\n".join(
            f"def check_{n}(response):  # case {n}" if n % 2 == 0 else "    return 1"
            for n in range(20_000)
        )
    )
    assert color_at(ed, 1, 1) == expected(ed, Keyword)
    assert color_at(ed, 21, 1) == expected(
        ed, Keyword
    )  # the whole first screen, not just a few lines
    ed.moveCursor(QTextCursor.MoveOperation.End)
    ed.highlighter.highlight_visible()  # what a scroll schedules for the next event-loop turn
    assert color_at(ed, 19_999, 1) == expected(ed, Keyword)  # coloured ahead of the background pass
    assert color_at(ed, 20_000, 5) == expected(ed, Keyword)  # "    return 1"
    qtbot.waitUntil(ed.highlighter.is_complete, timeout=60_000)
    assert color_at(ed, 19_999, 5) == expected(ed, Name.Function)
    ed.close_editor()


def test_background_colouring_off_screen_does_not_repaint_the_view(qtbot):
    from PySide6.QtCore import QEvent, QObject, Qt

    class PaintCounter(QObject):
        paints = 0

        def eventFilter(self, _obj, event):  # noqa: N802
            if event.type() == QEvent.Type.Paint:
                PaintCounter.paints += 1
            return False

    ed = CodeEditor(file_name="big.py")
    qtbot.addWidget(ed)
    ed.resize(800, 500)
    ed.show()
    qtbot.waitExposed(ed)
    ed.set_text("\n".join(f"value_{n} = compute({n}, 'x')  # row {n}" for n in range(6000)))
    ed.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no blinking cursor: only highlighting may repaint
    ed.clearFocus()
    qtbot.wait(50)  # the first screen settles
    counter = PaintCounter()
    ed.viewport().installEventFilter(counter)
    slices = []
    ed.highlighter._background.timeout.connect(lambda: slices.append(1))
    qtbot.waitUntil(ed.highlighter.is_complete, timeout=60_000)
    ed.viewport().removeEventFilter(counter)
    assert len(slices) >= 3  # the file really was coloured in several background slices
    assert PaintCounter.paints <= 2  # ...without repainting the (unchanged) view for each of them
    assert color_at(ed, 5999, 14) == expected(ed, Name.Builtin) or color_at(
        ed, 5999, 1
    ) == expected(ed, Name)
    ed.close_editor()


def test_typing_ahead_of_the_background_pass_is_coloured_at_once(qtbot):
    ed = CodeEditor(file_name="big.py")
    qtbot.addWidget(ed)
    ed.resize(800, 500)
    ed.set_text("\n".join("x = 1" for _ in range(20_000)))
    assert not ed.highlighter.is_lexed(19_000)
    ed.go_to_line(19_001)
    ed.textCursor().insertText("return ")
    assert color_at(ed, 19_001, 1) == expected(ed, Keyword)
    qtbot.waitUntil(ed.highlighter.is_complete, timeout=60_000)
    assert color_at(ed, 19_001, 1) == expected(ed, Keyword)
    ed.close_editor()


def test_a_huge_line_is_coloured_at_its_start_and_does_not_break_the_lines_after(editor):
    long = "data = [" + ", ".join(str(n) for n in range(20_000)) + "]"
    ed = editor("big.py", f"{long}\nif data:\n    pass\n")
    assert color_at(ed, 1, 9) == expected(ed, Number.Integer)
    assert color_at(ed, 2, 1) == expected(ed, Keyword)
