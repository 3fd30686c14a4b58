"""parse_python is safe to call from several threads at once (CPython 3.11.7's ast is not)."""

import gc
import sys
import threading
from pathlib import Path

from app.python_ast import parse_python

SOURCE = (Path(__file__).parents[1] / "resources/templates/mt-analyst/tools.py").read_text()


class _Finalised:
    """Garbage whose finaliser runs Python code, so the collector can switch threads mid-parse."""

    def __del__(self):
        sum(range(20))


def _parse_amid_garbage(errors: list) -> None:
    for _ in range(300):
        junk = [_Finalised() for _ in range(20)]
        for item in junk:
            item.cycle = item
        del junk
        try:
            parse_python(SOURCE, filename="tools.py")
        except SystemError as error:  # the race this module exists for
            errors.append(error)
            return


def test_parsing_on_six_threads_at_once_never_trips_the_ast_recursion_check():
    # Plain ast.parse fails this within a few hundred parses on CPython 3.11.7
    # ("AST constructor recursion depth mismatch"); the stage 3 campaigns hit it in CI.
    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    sys.setswitchinterval(1e-6)
    gc.set_threshold(50, 2, 2)
    errors: list = []
    try:
        threads = [threading.Thread(target=_parse_amid_garbage, args=(errors,)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*thresholds)
    assert errors == []


def test_a_syntax_error_still_says_where():
    try:
        parse_python("def broken(:\n", filename="tools.py")
    except SyntaxError as error:
        assert error.filename == "tools.py" and error.lineno == 1
    else:
        raise AssertionError("a syntax error was parsed")
