"""Resource attacks: floods, sleeps, memory exhaustion and crashes. On their own they should
only ever earn the floor; they find graders that *reward* a failure (a bare `except: return
1.0`, "timed out counts as passed", "no exit status 1 means success")."""

from __future__ import annotations

from app.attacks.code_source import code_attack, grader_inner_timeouts, submission
from app.attacks.model import AttackContext

CATEGORY = "resource"


@code_attack(
    "huge-output",
    CATEGORY,
    title="Flooding the output",
    explanation="""Prints tens of megabytes to stdout and stderr, then returns nothing. Graders
        that read the output into memory, or that pass when the output was cut off, fail
        open.""",
    fix_hint="""Cap the output you read from the code under test and treat a truncated or
        oversized output as a failure.""",
    max_tasks=1,
)
def huge_output(ctx: AttackContext):
    body = (
        "import sys\nchunk = 'x' * 65536\nfor _ in range(640):\n"
        "    sys.stdout.write(chunk)\n    sys.stderr.write(chunk)\nreturn None"
    )
    yield "40mb", submission(ctx, body)


@code_attack(
    "sleep-past-timeout",
    CATEGORY,
    title="Sleeping past the grader's inner time limit",
    explanation="""Sleeps just past the time limit grader.py gives the code under test
        (`timeout=` in its subprocess call). A grader that treats a timeout as a pass is
        beaten.""",
    fix_hint="""Treat a timeout as a failure: catch `subprocess.TimeoutExpired` and return the
        floor.""",
    graders=("python",),
    max_tasks=1,
)
def sleep_past_timeout(ctx: AttackContext):
    inner = [
        t for t in grader_inner_timeouts(ctx.grader_source) if 0 < t < ctx.pack.grader.timeout_s - 1
    ]
    if not inner:
        return  # nothing inside the grader to outlast; the sandbox's own limit gives the floor
    seconds = min(max(inner) + 0.5, ctx.pack.grader.timeout_s - 0.5)
    yield (
        f"sleep-{seconds:g}s",
        submission(ctx, f"import time\ntime.sleep({seconds!r})\nreturn None"),
    )


@code_attack(
    "memory-bomb",
    CATEGORY,
    title="Exhausting memory",
    explanation="""Allocates far more memory than the sandbox allows when called. A grader that
        catches `MemoryError` (or any exception) and rewards it is beaten.""",
    fix_hint="""Give the floor when the code under test raises, crashes or is killed; never
        return reward from an exception handler.""",
    max_tasks=1,
)
def memory_bomb(ctx: AttackContext):
    yield "bytearray-64g", submission(ctx, "block = bytearray(64 * 1024 ** 3)\nreturn len(block)")
    yield "growing-list", submission(ctx, "hog = []\nwhile True:\n    hog.append(' ' * 10_000_000)")


@code_attack(
    "crash-signal",
    CATEGORY,
    title="Crashing the process",
    explanation="""Kills its own process with SIGKILL or SIGSEGV when called. A harness that
        only looks for exit status 1 (or for a Python traceback) to detect failure passes
        it.""",
    fix_hint="""Require exit status 0 *and* a result for every test; any signal, missing
        result or non-zero status is a failure.""",
    max_tasks=1,
)
def crash_signal(ctx: AttackContext):
    yield "sigkill", submission(ctx, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    yield "segfault", submission(ctx, "import ctypes\nctypes.string_at(0)")


@code_attack(
    "recursion-bomb",
    CATEGORY,
    title="Runaway recursion",
    explanation="""Recurses without end (RecursionError), and with the recursion limit raised
        until the C stack overflows. Graders that reward an exception or a crash are
        beaten.""",
    fix_hint="""Count `RecursionError` and crashes as failures; run each test in a child process
        so a stack overflow cannot take the grader down.""",
    max_tasks=1,
)
def recursion_bomb(ctx: AttackContext):
    name = ctx.task.entry or "solve"
    yield "recursion-error", submission(ctx, f"return {name}(*args, **kwargs)")
    yield (
        "stack-overflow",
        submission(
            ctx,
            (
                "import sys\nsys.setrecursionlimit(10 ** 7)\n"
                "def down(n):\n    return down(n + 1) + 1\nreturn down(0)"
            ),
        ),
    )


ATTACKS = (huge_output, sleep_past_timeout, memory_bomb, crash_signal, recursion_bomb)
