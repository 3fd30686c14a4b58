"""Syntax highlighting with pygments, one line at a time, visible lines first.

Why not QSyntaxHighlighter: it runs `highlightBlock` for every block of a freshly loaded
document before the first paint (20,000 Python calls), and every format it applies to a line
that is not laid out yet makes QPlainTextEdit repaint the whole view. Here the highlighter
drives the document itself:

- Each block's user state is an interned id of the pygments state stack the line ended with
  (calibre's approach). Blocks before `_lexed_upto` are lexed and coloured correctly.
- Opening a file or scrolling colours the *visible* lines at once: exactly when the lexed
  region reaches them, provisionally (lexed from the state of the line above, or the root state)
  when it does not; the background pass corrects them when it gets there.
- The rest is lexed by a background pass in slices with a strict time budget (measured with
  perf_counter, checked after every line). A slice applies formats with `QTextLayout.setFormats`
  and tells the layout once per slice; for lines off screen the layout's repaint request is
  suppressed (they are laid out with their formats when they scroll into view).
- An edit re-lexes from the edited line on, synchronously within a time budget, and stops as
  soon as a line ends in the same state as before and the lines after it were already lexed.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QPoint, QTimer, Signal
from PySide6.QtGui import QTextBlock, QTextLayout
from PySide6.QtWidgets import QPlainTextEdit

from app.editor.line_lexer import ROOT, LineLexer, lexer_for_path
from app.editor.theme import EditorTheme

# Characters of one line that get lexed; the rest of a longer line stays plain (a minified
# JSON line of 200 kB would otherwise hold the GUI thread for a fraction of a second).
LONG_LINE = 2_000


class PygmentsHighlighter:
    """Colours a QPlainTextEdit's document; see the module docstring for how."""

    #: seconds of lexing per background slice (the GUI-stall budget is 50 ms)
    slice_budget_s = 0.008
    #: pause between background slices: the GUI thread sleeps a little, so a busy machine's
    #: scheduler keeps treating it as interactive and input is never queued behind a slice
    slice_pause_ms = 2
    #: seconds of lexing allowed inside an edit (typing) before the rest goes to the background
    edit_budget_s = 0.008
    #: seconds allowed for colouring the visible lines right after a file is opened
    open_budget_s = 0.040
    #: lexed lines remembered by (state before, text)
    cache_size = 20_000

    def __init__(
        self, view: QPlainTextEdit, file_name: str, theme: EditorTheme | None = None
    ) -> None:
        self._view = view
        self._document = view.document()
        self._line_lexer = LineLexer(lexer_for_path(file_name))
        self._theme = theme or EditorTheme.from_palette()
        self._stack_ids: dict[tuple[str, ...], int] = {}
        self._stacks: list[tuple[str, ...]] = []
        self._cache: dict[tuple[int, str], tuple[tuple[int, ...], int]] = {}
        self._format_ids: dict[object, int] = {}  # pygments token type -> index in _formats
        self._formats: list = []  # QTextCharFormat per token type, for the current theme
        self._lexed_upto = 0  # blocks before this one are lexed and coloured correctly
        self._trusted_upto = 0  # blocks before this one were lexed once and not edited since
        self._edit_end = -1  # the last block of the latest edit: always re-lexed
        self._provisional: set[int] = set()  # visible blocks coloured ahead of the lexed region
        self._block_count = self._document.blockCount()
        self._signals = _Signals(view)
        self.finished = self._signals.finished
        self._background = QTimer(view)
        self._background.setInterval(self.slice_pause_ms)
        self._background.timeout.connect(self._background_slice)
        self._visible_timer = QTimer(view)
        self._visible_timer.setSingleShot(True)
        self._visible_timer.setInterval(0)
        self._visible_timer.timeout.connect(lambda: self.highlight_visible(self.slice_budget_s))
        self._document.contentsChange.connect(self._contents_changed)
        view.verticalScrollBar().valueChanged.connect(self.schedule_visible)
        self._in_edit = False
        if not self._document.isEmpty():
            self._start_background()
            self.schedule_visible()

    # -- public -------------------------------------------------------------------------

    @property
    def language(self) -> str:
        return self._line_lexer.name

    def set_theme(self, theme: EditorTheme) -> None:
        self._theme = theme
        self.rehighlight_all()

    def rehighlight_all(self) -> None:
        """Re-lex and re-colour everything (visible lines now, the rest in the background)."""
        self._cache.clear()
        self._format_ids.clear()
        self._formats.clear()
        self._lexed_upto = self._trusted_upto = 0
        self._provisional.clear()
        if not self._document.isEmpty():
            self._start_background()
            self.schedule_visible()

    def is_complete(self) -> bool:
        return self._lexed_upto >= self._document.blockCount()

    def is_lexed(self, block_number: int) -> bool:
        """Whether 0-based block `block_number` has its final colours (not provisional ones)."""
        return block_number < self._lexed_upto

    def finish(self) -> None:
        """Highlight every remaining line now (tests, printing, export)."""
        while not self.is_complete():
            self._run_pass(float("inf"))
        self._background.stop()
        self._visible_timer.stop()
        self._signals.finished.emit()

    def stop(self) -> None:
        """Stop background work (the owning editor is closing)."""
        self._background.stop()
        self._visible_timer.stop()

    def schedule_visible(self, *_args) -> None:
        """Colour what is on screen at the next event-loop turn (after a scroll or resize)."""
        if not self.is_complete() and not self._visible_timer.isActive():
            self._visible_timer.start()

    def highlight_visible(self, budget_s: float | None = None) -> None:
        """Colour the lines on screen now: exactly if the lexed region gets there within the
        budget, provisionally otherwise."""
        budget_s = self.open_budget_s if budget_s is None else budget_s
        started = time.perf_counter()
        first, last = self._visible_range()
        if self._lexed_upto <= last and self._lexed_upto >= first - 200:
            self._run_pass(budget_s, stop_after=last)
        remaining = budget_s - (time.perf_counter() - started)
        if self._lexed_upto <= last and remaining > 0:
            self._colour_provisionally(max(first, self._lexed_upto), last, remaining)
        if not self.is_complete():
            self._start_background()

    # -- edits --------------------------------------------------------------------------

    def _contents_changed(self, position: int, removed: int, added: int) -> None:
        # Inside contentsChange the layout still describes the old text: no hit tests now.
        self._in_edit = True
        try:
            self._after_edit(position, removed, added)
        finally:
            self._in_edit = False

    def _after_edit(self, position: int, removed: int, added: int) -> None:
        document = self._document
        count = document.blockCount()
        delta = count - self._block_count
        self._block_count = count
        first = document.findBlock(position).blockNumber()
        end_block = document.findBlock(position + added + (1 if removed else 0))
        last = end_block.blockNumber() if end_block.isValid() else count - 1
        self._provisional.clear()
        if first >= self._lexed_upto:
            # An edit in the not-yet-lexed region: nothing after it can be trusted any more.
            self._trusted_upto = min(self._trusted_upto, first)
            if (
                last - first < 100
            ):  # typing ahead of the lexed region; a load waits for highlight_visible
                self._colour_provisionally(first, last, self.edit_budget_s)
        else:
            trusted_after = self._trusted_upto > last - delta
            self._trusted_upto = self._trusted_upto + delta if trusted_after else first
            self._lexed_upto = first
            self._edit_end = last
            self._run_pass(self.edit_budget_s)
        if not self.is_complete():
            self._start_background()

    # -- the lexing pass ----------------------------------------------------------------

    def _run_pass(self, budget_s: float, stop_after: int | None = None) -> None:
        """Lex and colour from `_lexed_upto` on until the budget is spent (checked per line)."""
        started = time.perf_counter()
        document = self._document
        number = self._lexed_upto
        block = document.findBlockByNumber(number)
        if not block.isValid():
            return
        previous = block.previous().userState() if number > 0 else -1
        first = processed = number
        while block.isValid():
            old = block.userState()
            state = self._apply(block, previous)
            processed = number
            number += 1
            if number - 1 >= self._edit_end and state == old and number < self._trusted_upto:
                number = min(
                    self._trusted_upto, document.blockCount()
                )  # converged: the rest is unchanged
                break
            previous = state
            if stop_after is not None and number > stop_after:
                break
            if time.perf_counter() - started >= budget_s:
                break
            block = block.next()
        self._flush(first, processed)
        self._lexed_upto = number
        self._trusted_upto = max(self._trusted_upto, number)
        self._provisional = {n for n in self._provisional if n >= number}

    def _apply(self, block: QTextBlock, previous: int) -> int:
        """Lex one line from state id `previous` (-1: root), set its formats; the state after."""
        text = block.text()
        cached = self._cache.get((previous, text))
        if cached is None:
            stack = self._stacks[previous] if previous >= 0 else ROOT
            if len(text) > LONG_LINE:
                runs, _ = self._line_lexer.lex(text[:LONG_LINE], stack)
                after = stack  # assume a huge line is balanced rather than guess from half of it
            else:
                runs, after = self._line_lexer.lex(text, stack)
            cached = self._cache_line(previous, text, runs, after)
        spans, state = cached
        formats = self._formats
        ranges = []
        for index in range(0, len(spans), 3):
            fmt_range = QTextLayout.FormatRange()
            fmt_range.start = spans[index]
            fmt_range.length = spans[index + 1]
            fmt_range.format = formats[spans[index + 2]]
            ranges.append(fmt_range)
        block.layout().setFormats(ranges)
        block.setUserState(state)
        return state

    def _colour_provisionally(self, first: int, last: int, budget_s: float) -> None:
        """Colour blocks `first..last` beyond the lexed region, guessing the state before them."""
        started = time.perf_counter()
        document = self._document
        block = document.findBlockByNumber(first)
        if not block.isValid():
            return
        previous_block = block.previous()
        previous = previous_block.userState() if first > 0 and first - 1 < self._lexed_upto else -1
        done = first
        while block.isValid() and block.blockNumber() <= last:
            number = block.blockNumber()
            if number not in self._provisional:
                saved = block.userState()  # the stored state stays what the lexed pass set
                previous = self._apply(block, previous)
                block.setUserState(saved)
                self._provisional.add(number)
            done = number
            if time.perf_counter() - started >= budget_s:
                self.schedule_visible()
                break
            block = block.next()
        self._flush(first, done)

    def _flush(self, first: int, last: int) -> None:
        """Tell the layout that blocks first..last changed formats; repaint only if on screen."""
        document = self._document
        start = document.findBlockByNumber(first)
        end = document.findBlockByNumber(last)
        if not start.isValid() or not end.isValid():
            return
        length = end.position() + end.length() - start.position()
        if self._in_edit:  # the edit's own relayout covers these blocks; Qt merges the ranges
            document.markContentsDirty(start.position(), length)
            return
        top, bottom = self._visible_range()
        on_screen = first <= bottom and last >= top
        single_laid_out = first == last and start.layout().lineCount() > 0
        layout = document.documentLayout()
        if on_screen or single_laid_out:
            document.markContentsDirty(start.position(), length)
            return
        # Off screen: the layout drops the blocks' line layouts (they are laid out again, with
        # the new formats, when they scroll into view) but must not repaint the whole view.
        blocked = layout.blockSignals(True)
        try:
            document.markContentsDirty(start.position(), length)
        finally:
            layout.blockSignals(blocked)

    def _visible_range(self) -> tuple[int, int]:
        view = self._view
        first = view.firstVisibleBlock().blockNumber()
        if not view.isVisible() or view.viewport().height() < 40:
            return first, first + 80  # not shown yet: assume a generous window
        bottom = view.cursorForPosition(QPoint(0, view.viewport().height() - 1)).blockNumber()
        return first, max(first, bottom)

    def _start_background(self) -> None:
        if not self._background.isActive():
            self._background.start()

    def _background_slice(self) -> None:
        if self.is_complete():
            self._background.stop()
            self._signals.finished.emit()
            return
        self._run_pass(self.slice_budget_s)

    def _cache_line(self, previous: int, text: str, runs, after) -> tuple[tuple[int, ...], int]:
        """(start, length, format index) triples for a line lexed from a state.

        Only ints and strings are cached: the garbage collector skips such tuples, whereas
        20,000 cached lines of Qt wrapper objects made each full collection stall the GUI
        thread for a quarter of a second.
        """
        to_qt = _utf16_offsets(text)
        spans: list[int] = []
        for run in runs:
            start = to_qt(run.start)
            spans += (start, to_qt(run.start + run.length) - start, self._format_index(run.token))
        entry = (tuple(spans), self._intern(after))
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
        self._cache[(previous, text)] = entry
        return entry

    def _format_index(self, token) -> int:
        found = self._format_ids.get(token)
        if found is None:
            found = self._format_ids[token] = len(self._formats)
            self._formats.append(self._theme.format_for(token))
        return found

    def _intern(self, stack: tuple[str, ...]) -> int:
        found = self._stack_ids.get(stack)
        if found is None:
            found = self._stack_ids[stack] = len(self._stacks)
            self._stacks.append(stack)
        return found


class _Signals(QObject):
    finished = Signal()  # every block is highlighted


def _utf16_offsets(text: str):
    """Python string index -> Qt (UTF-16) index for `text`; identity for BMP-only text."""
    if text.isascii() or all(ord(ch) <= 0xFFFF for ch in text):
        return lambda index: index
    prefix = [0]
    for ch in text:
        prefix.append(prefix[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return lambda index: prefix[min(index, len(text))]
