"""Parse Python source safely from any thread.

CPython 3.11 before 3.11.8 (and 3.12 before 3.12.2) keeps the AST converter's recursion
depth in interpreter-wide state, so two threads parsing at once can fail with
"SystemError: AST constructor recursion depth mismatch" (python/cpython#106905). The funnel
parses packages on worker threads while the editor parses on the UI thread, so every parse
in the app goes through one lock. A parse holds it for about a millisecond (the five
templates' Python files parse in 7 ms together), far below anything a user waits for.
"""

import ast
import threading

_PARSE_LOCK = threading.Lock()


def parse_python(source: str, filename: str = "<unknown>", mode: str = "exec") -> ast.AST:
    """`ast.parse`, serialised across threads (raises SyntaxError as it does)."""
    with _PARSE_LOCK:
        return ast.parse(source, filename=filename, mode=mode)
