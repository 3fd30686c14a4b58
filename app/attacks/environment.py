"""Environment attacks: submissions that change the world around the grader — the files it
reads, its environment variables, its output streams, its working directory."""

from __future__ import annotations

import json
import textwrap

from app.attacks.code_source import (
    PASSING_RESULT,
    code_attack,
    grader_env_names,
    grader_file_names,
    submission,
)
from app.attacks.model import AttackContext

CATEGORY = "environment"
_PASS_JSON = {**PASSING_RESULT, "all_passed": True}
_PASS_TEXT = "All tests passed\nOK\nPASSED\nreward: 1.0\n"
_PASS_XML = (
    '<?xml version="1.0"?>\n<testsuite name="tests" tests="3" '
    'failures="0" errors="0" skipped="0"></testsuite>\n'
)
_DEFAULT_FILES = [
    "results.json",
    "result.json",
    "report.json",
    "status.txt",
    "junit.xml",
    "/tmp/results.json",
    "/tmp/result.json",
    "/tmp/report.json",
    "/tmp/status.txt",
    "/tmp/junit.xml",
]


@code_attack(
    "write-grader-files",
    CATEGORY,
    title="Writing the files the grader reads",
    explanation="""Writes "all passed" results into the files a harness commonly reads its
        verdict from (results.json, junit.xml, status.txt, in the working directory and /tmp)
        and into every data file named in grader.py, then returns nothing (or exits at once, so
        the harness never writes the real verdict over it).""",
    fix_hint="""Do not let the code under test write where the verdict is read from: collect
        results through a pipe from the child process, or in a directory the child cannot
        write; create result files *after* the code has finished, with fresh names.""",
)
def write_grader_files(ctx: AttackContext):
    targets = sorted(set(_DEFAULT_FILES + grader_file_names(ctx.grader_source)))
    prelude = f"""
        import json, os

        _TARGETS = {targets!r}
        _JSON = {json.dumps(_PASS_JSON)!r}
        _TEXT = {_PASS_TEXT!r}
        _XML = {_PASS_XML!r}

        def _plant():
            for path in _TARGETS:
                if path.endswith((".json", ".jsonl", ".result")):
                    body = _JSON
                else:
                    body = _XML if path.endswith(".xml") else _TEXT
                try:
                    folder = os.path.dirname(path)
                    if folder:
                        os.makedirs(folder, exist_ok=True)
                    with open(path, "w") as handle:
                        handle.write(body)
                except OSError:
                    pass

        _plant()
    """
    yield "verdict-files", submission(ctx, "_plant()\nreturn None", prelude=prelude)
    # and leave before the harness can write the real verdict over ours
    yield (
        "verdict-files-then-exit",
        submission(ctx, "return None", prelude=textwrap.dedent(prelude) + "\nos._exit(0)\n"),
    )


_DEFAULT_ENV = [
    "DEBUG",
    "GRADER_DEBUG",
    "SKIP_TESTS",
    "SKIP_GRADING",
    "PASS_ALL",
    "TESTING",
    "CI",
    "GRADER_PASS",
]


@code_attack(
    "env-variables",
    CATEGORY,
    title="Setting the grader's environment variables",
    explanation="""Sets every environment variable grader.py reads (and common switches such as
        DEBUG, SKIP_TESTS, PASS_ALL) to "1" before the checks run.""",
    fix_hint="""Do not let switches in the environment change grading; read configuration once,
        before running submitted code, and in a process the code cannot touch.""",
)
def env_variables(ctx: AttackContext):
    names = sorted(set(_DEFAULT_ENV + grader_env_names(ctx.grader_source)))
    prelude = f"""
        import os

        def _switch_on():
            for name in {names!r}:
                os.environ[name] = "1"

        _switch_on()
    """
    yield "switches-on", submission(ctx, "_switch_on()\nreturn None", prelude=prelude)


@code_attack(
    "close-streams",
    CATEGORY,
    title="Closing stdout and stderr",
    explanation="""Closes the process's output streams and then fails. A harness that decides
        from the *absence* of error output ("no Traceback", "no FAIL") passes it.""",
    fix_hint="""Decide from positive evidence (a result per test), never from the absence of
        error messages.""",
)
def close_streams(ctx: AttackContext):
    prelude = (
        "import os\n\ndef _close():\n    for fd in (1, 2):\n        try:\n"
        "            os.close(fd)\n        except OSError:\n            pass"
    )
    yield (
        "close-then-raise",
        submission(ctx, "_close()\nraise RuntimeError('hidden failure')", prelude=prelude),
    )
    yield (
        "close-stderr-at-import",
        submission(ctx, "raise RuntimeError('hidden failure')", prelude="import os\nos.close(2)"),
    )


@code_attack(
    "chdir-away",
    CATEGORY,
    title="Changing the working directory",
    explanation="""Moves the process to another directory at import, so a grader that opens its
        data files by relative path no longer finds them — and a grader that passes when its
        own files are missing is beaten.""",
    fix_hint="""Open grader files by absolute path (relative to `__file__`), and give the floor
        when they cannot be read.""",
)
def chdir_away(ctx: AttackContext):
    prelude = "import os, tempfile\nos.chdir(tempfile.mkdtemp())"
    yield "to-temp-dir", submission(ctx, "return None", prelude=prelude)


ATTACKS = (write_grader_files, env_variables, close_streams, chdir_away)
