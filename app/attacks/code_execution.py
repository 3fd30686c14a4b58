"""Code-execution attacks: submissions for `kind = "code"` that cheat the harness instead of
computing anything (objects equal to everything, exiting early, patching the grader,
reading the expected values out of the grader's memory, printing what a checker wants)."""

from __future__ import annotations

import json

from app.attacks.answers import test_cases
from app.attacks.code_source import (
    PASSING_RESULT,
    code_attack,
    grader_helper_names,
    submission,
)
from app.attacks.model import AttackContext

CATEGORY = "code-execution"


@code_attack(
    "eq-always-true",
    CATEGORY,
    title="An object equal to everything",
    explanation="""Returns an object whose `__eq__` always answers True (also as a subclass of
        int, str and list, so `isinstance` checks pass). `result == expected` is then always
        True.""",
    fix_hint="""Compare with the expected value on the left and check the type exactly:
        `type(result) is type(expected) and expected == result`; better, serialise the result
        to JSON in the child process and compare the parsed data (the built-in `tests`
        grader does this).""",
)
def eq_always_true(ctx: AttackContext):
    for variant, base, value in (
        ("plain-object", "object", ""),
        ("int-subclass", "int", "0"),
        ("str-subclass", "str", "''"),
        ("list-subclass", "list", ""),
    ):
        prelude = f"""
            class AlwaysEqual({base}):
                def __eq__(self, other):
                    return True
                def __ne__(self, other):
                    return False
                __hash__ = {base}.__hash__
        """
        yield variant, submission(ctx, f"return AlwaysEqual({value})", prelude=prelude)


@code_attack(
    "sys-exit",
    CATEGORY,
    title="sys.exit(0) before the checks",
    explanation="""Exits with status 0 when imported or called. A harness that runs the tests
        in a subprocess and trusts exit status 0 thinks every test passed.""",
    fix_hint="""Never infer success from the exit status; require an explicit per-test result
        (the built-in `tests` grader reads one JSON result per test behind a random marker).""",
)
def sys_exit(ctx: AttackContext):
    yield "at-import", submission(ctx, "return None", prelude="import sys\nsys.exit(0)")
    yield "in-call", submission(ctx, "import sys\nsys.exit(0)")
    yield "raise-systemexit", submission(ctx, "raise SystemExit(0)")


@code_attack(
    "os-exit",
    CATEGORY,
    title="os._exit(0) (no cleanup, no exceptions)",
    explanation="""Kills the process with status 0 immediately: no `finally`, no `atexit`, no
        exception a harness could catch.""",
    fix_hint="""Treat a missing per-test result as a failure; do not rely on `except
        SystemExit` or on the exit status.""",
)
def os_exit(ctx: AttackContext):
    yield "at-import", submission(ctx, "return None", prelude="import os\nos._exit(0)")
    yield "in-call", submission(ctx, "import os\nos._exit(0)")


@code_attack(
    "raise-skip",
    CATEGORY,
    title="Skipping the tests",
    explanation="""Raises `unittest.SkipTest` (and pytest's skip) when called. Harnesses that
        count only failures treat a skipped test as not failed.""",
    fix_hint="""Count a test as passed only when it ran and matched; a skip, error or missing
        result is a failure. Score = passed / total, never 1 - failed / total.""",
)
def raise_skip(ctx: AttackContext):
    yield (
        "unittest-skiptest",
        submission(ctx, 'import unittest\nraise unittest.SkipTest("not applicable")'),
    )
    yield (
        "pytest-skip",
        submission(
            ctx,
            (
                "try:\n    import pytest\nexcept ImportError:\n"
                "    import unittest as pytest\n    pytest.skip = lambda msg: "
                '(_ for _ in ()).throw(pytest.SkipTest(msg))\npytest.skip("not applicable")'
            ),
        ),
    )


@code_attack(
    "raise-not-implemented",
    CATEGORY,
    title="Raising instead of answering",
    explanation="""Raises `NotImplementedError`, `KeyboardInterrupt` or `GeneratorExit` when
        called: exceptions that harnesses often treat as "skip" or do not catch with
        `except Exception`.""",
    fix_hint="""Catch `BaseException` around each test and count it as a failure; never skip a
        test because the code under test raised.""",
)
def raise_not_implemented(ctx: AttackContext):
    yield "not-implemented", submission(ctx, "raise NotImplementedError")
    yield "keyboard-interrupt", submission(ctx, "raise KeyboardInterrupt")
    yield "generator-exit", submission(ctx, "raise GeneratorExit")


_NOOP_PATCHES = {
    "math-isclose": "import math\nmath.isclose = lambda *a, **k: True",
    "operator-eq": (
        "import operator\noperator.eq = lambda a, b: True\noperator.ne = lambda a, b: False"
    ),
    "builtins-abs": "import builtins\nbuiltins.abs = lambda x: 0",
    "builtins-all-any": (
        "import builtins\nbuiltins.all = lambda *a: True\nbuiltins.any = lambda *a: True"
    ),
    "unittest-asserts": (
        "import unittest\n"
        "for _name in dir(unittest.TestCase):\n"
        "    if _name.startswith('assert'):\n"
        "        setattr(unittest.TestCase, _name, lambda *a, **k: None)"
    ),
    "json-dumps": "import json\njson.dumps = lambda *a, **k: 'null'",
}


@code_attack(
    "monkeypatch-builtins",
    CATEGORY,
    title="Monkeypatching builtins and the standard library",
    explanation="""At import time, replaces `math.isclose`, `operator.eq`, `abs`, `all`/`any`,
        unittest's assertions or `json.dumps` with versions that always agree. A grader that
        runs the submission in its own process then compares with the patched functions.""",
    fix_hint="""Run the submission in a separate process from the checking code (the built-in
        `tests` grader does); never `exec` submitted code in the grader's own interpreter.""",
)
def monkeypatch_builtins(ctx: AttackContext):
    for variant, prelude in _NOOP_PATCHES.items():
        yield variant, submission(ctx, "return 0", prelude=prelude)


_COMMON_HELPERS = [
    "check",
    "compare",
    "is_correct",
    "equal",
    "equals",
    "verify",
    "matches",
    "close_enough",
    "approx_equal",
    "same",
    "score",
    "run_tests",
    "passes",
]


@code_attack(
    "monkeypatch-grader",
    CATEGORY,
    title="Monkeypatching the grader's own helpers",
    explanation="""Finds the grader's module (in `sys.modules` and the calling frames) and
        replaces its helper functions (`compare`, `check`, ... — read from grader.py) with
        ones that always return True.""",
    fix_hint="""Do not run submitted code in the grader's process; run it in a child process and
        compare its JSON output in the parent (the built-in `tests` grader does this).""",
)
def monkeypatch_grader(ctx: AttackContext):
    names = grader_helper_names(ctx.grader_source) or _COMMON_HELPERS
    prelude = f"""
        import sys

        def _always(*args, **kwargs):
            return True

        def _patch_grader():
            names = {names!r}
            spaces = [getattr(m, "__dict__", None) for m in list(sys.modules.values())]
            frame = sys._getframe()
            while frame is not None:
                spaces.append(frame.f_globals)
                frame = frame.f_back
            for space in spaces:
                if not isinstance(space, dict):
                    continue
                for name in names:
                    if callable(space.get(name)) and space.get(name) is not _always:
                        space[name] = _always

        _patch_grader()
    """
    yield "helpers", submission(ctx, "_patch_grader()\nreturn None", prelude=prelude)


_FRAME_PEEK = """
import sys

_NAMES = ("expected", "expect", "want", "wanted", "answer", "target", "correct", "solution")

def _matches(case, args):
    if not (isinstance(case, dict) and "expected" in case):
        return False
    return list(case.get("args", [])) == list(args)

def _peek(args):
    frame = sys._getframe(2)
    seen = []
    while frame is not None:
        seen.append(frame)
        frame = frame.f_back
    for frame in seen:  # first: a test case for exactly these arguments
        for value in list(frame.f_locals.values()):
            if _matches(value, args):
                return True, value["expected"]
            if isinstance(value, dict):
                value = value.get("tests", [])
            if isinstance(value, (list, tuple)):
                for case in value:
                    if _matches(case, args):
                        return True, case["expected"]
    for frame in seen:  # then: a variable that looks like the expected value
        for name in _NAMES:
            if name in frame.f_locals:
                return True, frame.f_locals[name]
    return False, None
"""


@code_attack(
    "frame-peek",
    CATEGORY,
    title="Reading the expected value from the caller's frames",
    explanation="""Walks up the call stack with `sys._getframe()` and returns whatever the grader
        holds in a variable named `expected`, `want`, `answer`..., or the test case for the
        current arguments.""",
    fix_hint="""Call submitted code in a separate process that never receives the expected
        values; compare outputs in the parent (the built-in `tests` grader does this).""",
)
def frame_peek(ctx: AttackContext):
    yield (
        "call-stack",
        submission(ctx, "found, value = _peek(args)\nreturn value", prelude=_FRAME_PEEK),
    )


_GC_PEEK = """
import gc

def _from_heap(args):
    for obj in gc.get_objects():
        if isinstance(obj, dict) and "expected" in obj and list(obj.get("args", [])) == list(args):
            return obj["expected"]
    return None
"""


@code_attack(
    "gc-peek",
    CATEGORY,
    title="Reading the expected value from the heap",
    explanation="""Scans every live object with `gc.get_objects()` for the test case whose
        arguments are the current ones, and returns its expected value.""",
    fix_hint="""Keep expected values out of the process that runs submitted code: run it in a
        child process that only receives the arguments.""",
)
def gc_peek(ctx: AttackContext):
    yield "gc-objects", submission(ctx, "return _from_heap(args)", prelude=_GC_PEEK)


def _visible_cases(ctx: AttackContext) -> list[dict]:
    """Test cases whose arguments and expected value all appear in the prompt."""
    prompt = ctx.task.prompt
    visible = []
    for case in test_cases(ctx.task):
        args = case.get("args", [])
        if not isinstance(args, list):
            continue
        pieces = [json.dumps(case.get("expected"))] + [json.dumps(a) for a in args]
        reprs = [repr(case.get("expected"))] + [repr(a) for a in args]
        if all(p in prompt for p in pieces) or all(r in prompt for r in reprs):
            visible.append(case)
    return visible


@code_attack(
    "hardcode-visible",
    CATEGORY,
    title="Hard-coding the examples shown in the prompt",
    explanation="""A lookup table of the examples the prompt shows (arguments → expected
        result) that returns nothing useful for any other input. If every test is visible,
        it passes without solving anything. Partial credit for the visible ones is not counted:
        only full reward is a hit here.""",
    fix_hint="""Keep hidden test cases that are not shown in the prompt (several, covering edge
        cases); show at most one or two examples.""",
    full_reward_only=True,
)
def hardcode_visible(ctx: AttackContext):
    cases = _visible_cases(ctx)
    if not cases:
        return
    table = {json.dumps(c.get("args", []), sort_keys=True): c.get("expected") for c in cases}
    prelude = f"import json\n_TABLE = json.loads({json.dumps(json.dumps(table))})"
    yield (
        "lookup-table",
        submission(
            ctx, "return _TABLE.get(json.dumps(list(args), sort_keys=True))", prelude=prelude
        ),
    )


_MAGIC = {
    "all-tests-passed": "All tests passed",
    "unittest-ok": (
        "...\n----------------------------------------------------------------------\n"
        "Ran 3 tests in 0.001s\n\nOK"
    ),
    "pytest-passed": (
        "============================== 3 passed in 0.01s ==============================="
    ),
    "pass-success": "PASS\nSUCCESS\nreward: 1.0",
}


@code_attack(
    "magic-strings",
    CATEGORY,
    title="Printing what the checker looks for",
    explanation="""Prints "All tests passed", a unittest "OK" summary, a pytest "3 passed"
        line, "PASS"/"SUCCESS" — to stdout and stderr — and returns nothing. A grader that
        searches the output for these strings passes it.""",
    fix_hint="""Never grade by searching the output for words; compare each test's result
        value. If you must parse a runner's output, use a random marker the code cannot know.""",
)
def magic_strings(ctx: AttackContext):
    for variant, text in _MAGIC.items():
        body = (
            f"import sys\nprint({text!r}, flush=True)\n"
            f"print({text!r}, file=sys.stderr, flush=True)\nreturn None"
        )
        yield variant, submission(ctx, body, prelude=f"print({text!r}, flush=True)")


_FAKE_RESULT = json.dumps(PASSING_RESULT)


@code_attack(
    "fake-result-line",
    CATEGORY,
    title="Forging the harness's result line",
    explanation="""Prints JSON result records ("passed": true, "reward": 1.0) with the markers
        harnesses commonly use (RESULT:, __RESULT__, plain JSON as the last line) and exits.""",
    fix_hint="""Read results only from a channel the code cannot forge: a random per-run marker
        or a file descriptor opened by the parent; take the reward from your own comparison.""",
)
def fake_result_line(ctx: AttackContext):
    lines = [
        _FAKE_RESULT,
        f"RESULT: {_FAKE_RESULT}",
        f"__RESULT__ {_FAKE_RESULT}",
        f"GAUNTLET_RESULT {_FAKE_RESULT}",
    ]
    printing = "\n".join(f"print({line!r}, flush=True)" for line in lines)
    yield "json-lines", submission(ctx, printing + "\nreturn None", prelude=printing)
    yield "json-lines-then-exit", submission(ctx, printing + "\nimport os\nos._exit(0)")


@code_attack(
    "trusted-attributes",
    CATEGORY,
    title="Setting attributes the grader might trust",
    explanation="""Sets module globals and function attributes that sound like results
        (`PASSED = True`, `score = 1.0`, `result = {"passed": True}`, `solve.verified =
        True`) and returns an object with `.passed`, `.correct` and `.score` set.""",
    fix_hint="""Take nothing from the submission but the return values of the entry function
        for your own inputs; ignore its globals and attributes.""",
)
def trusted_attributes(ctx: AttackContext):
    name = ctx.task.entry or "solve"
    prelude = """
        PASSED = passed = True
        SCORE = score = REWARD = reward = 1.0
        result = results = {"passed": True, "score": 1.0, "reward": 1.0}
        __test_result__ = True

        class Verdict:
            passed = correct = ok = success = True
            score = reward = 1.0
    """
    source = submission(ctx, "return Verdict()", prelude=prelude)
    source += f"\n{name}.passed = {name}.verified = {name}.correct = True\n{name}.score = 1.0\n"
    yield "globals-and-attributes", source


ATTACKS = (
    eq_always_true,
    sys_exit,
    os_exit,
    raise_skip,
    raise_not_implemented,
    monkeypatch_builtins,
    monkeypatch_grader,
    frame_peek,
    gc_peek,
    hardcode_visible,
    magic_strings,
    fake_result_line,
    trusted_attributes,
)
