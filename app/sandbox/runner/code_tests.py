"""The built-in `tests` grader for kind = "code" (the trusted side).

The submission runs in its own process (`harness.py`) with a wall-clock limit and capped
output; its outputs come back as JSON behind a per-run random sentinel; this side parses them
and compares type-strictly with the expected values it alone knows. A crash, an exit, a skip,
a timeout or a flood of output is a failed test, never a pass.
"""

from __future__ import annotations

import json
import os
import secrets
import selectors
import signal
import subprocess
import sys
import time

from .match import json_equal

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness.py")
MAX_SUBMISSION_OUTPUT = 1 << 20


class TestsSpecError(Exception):
    """The task is unusable for the tests grader (the author's mistake)."""


def grade_tests(task: dict, response: str, spec: dict, scratch: str, time_budget_s: float) -> dict:
    low, high = spec.get("reward_range", [0.0, 1.0])
    entry, tests, calls = _checked_task(task)
    total = len(tests)
    if type(response) is not str or not response.strip():
        return {
            "reward": float(low),
            "feedback": "no code was submitted",
            "metrics": {"passed": 0, "total": total},
        }
    failure, outputs = _run_submission(entry, calls, response, scratch, time_budget_s)
    if failure is None and (not isinstance(outputs, list) or len(outputs) != total):
        failure = "the submission's results are malformed"
    if failure:
        return {"reward": float(low), "feedback": failure, "metrics": {"passed": 0, "total": total}}

    passed, notes = 0, []
    tolerance = float(spec.get("tolerance", 0.0) or 0.0)
    for number, (case, output) in enumerate(zip(tests, outputs, strict=True), 1):
        if _passes(case["expected"], output, tolerance):
            passed += 1
        elif len(notes) < 3:
            reason = (
                output.get("error")
                if isinstance(output, dict) and not output.get("ok")
                else "wrong value or type"
            )
            notes.append(f"test {number} failed ({str(reason)[:120]})")
    reward = float(low) + (float(high) - float(low)) * passed / total
    feedback = f"{passed}/{total} tests passed" + ("; " + "; ".join(notes) if notes else "")
    return {"reward": reward, "feedback": feedback, "metrics": {"passed": passed, "total": total}}


def _checked_task(task: dict) -> tuple[str, list, list[dict]]:
    """The entry function, the test cases and the calls to make; TestsSpecError if unusable."""
    entry = task.get("entry")
    tests = task.get("tests")
    if type(entry) is not str or not entry.isidentifier():
        raise TestsSpecError(f'task {task.get("id")!r} needs "entry": the function name to call')
    if not isinstance(tests, list) or not tests:
        raise TestsSpecError(f'task {task.get("id")!r} needs "tests": a non-empty list of cases')
    calls = []
    for number, case in enumerate(tests, 1):
        if not isinstance(case, dict) or "expected" not in case:
            raise TestsSpecError(f'test {number} of task {task.get("id")!r} needs "expected"')
        args, kwargs = case.get("args", []), case.get("kwargs", {})
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise TestsSpecError(f'test {number}: "args" must be a list and "kwargs" an object')
        calls.append({"args": args, "kwargs": kwargs})
    return entry, tests, calls


def _run_submission(
    entry: str, calls: list[dict], response: str, scratch: str, time_budget_s: float
) -> tuple[str | None, list | None]:
    """(why it failed, None) or (None, the outputs it reported, one per call)."""
    workdir = os.path.join(scratch, "submission")
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, "solution.py")
    with open(path, "w", encoding="utf-8", errors="surrogatepass") as handle:
        handle.write(response)
    sentinel = "GX-RESULT-" + secrets.token_hex(16) + ":"
    request = json.dumps({"entry": entry, "calls": calls, "sentinel": sentinel, "path": path})
    outcome = run_capped(
        [sys.executable, "-I", "-B", HARNESS],
        request.encode("utf-8"),
        cwd=workdir,
        timeout_s=max(0.5, time_budget_s),
        cap=MAX_SUBMISSION_OUTPUT,
    )
    failure = _failure_reason(outcome)
    if failure:
        return failure, None
    payload = _extract(outcome["stdout"], sentinel)
    if payload is None:
        return "the submission ended without reporting results (did it exit or crash?)", None
    if "import_error" in payload:
        return f"the submission could not be loaded: {payload['import_error']}"[:300], None
    return None, payload.get("outputs")


def _passes(expected, output, tolerance: float) -> bool:
    if (
        not isinstance(output, dict)
        or output.get("ok") is not True
        or type(output.get("json")) is not str
    ):
        return False
    try:
        value = json.loads(output["json"], parse_constant=_reject)
    except (ValueError, RecursionError):
        return False
    return json_equal(value, expected, tolerance)


def _reject(name):
    raise ValueError(name)


def _extract(stdout: bytes, sentinel: str):
    marker = sentinel.encode("ascii")
    lines = [line for line in stdout.split(b"\n") if line.startswith(marker)]
    if len(lines) != 1:  # a second sentinel line means someone forged one: trust neither
        return None
    try:
        payload = json.loads(lines[0][len(marker) :].decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return payload if isinstance(payload, dict) else None


def _failure_reason(outcome: dict) -> str | None:
    if outcome["timed_out"]:
        return f"the submission did not finish within {outcome['timeout_s']:.1f} s"
    if outcome["too_large"]:
        return "the submission printed too much output"
    code = outcome["returncode"]
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f"the submission was killed by {name} (crash or resource limit)"
    if code not in (0, None):
        tail = outcome["stderr"][-300:].decode("utf-8", "replace").strip()
        return f"the submission exited with status {code}" + (f": {tail}" if tail else "")
    return None


def _exited(pid: int, deadline: float) -> bool:
    """Wait until `pid` exits, without reaping it (WNOWAIT); False when the deadline passes."""
    while True:
        try:
            info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        if info is not None and info.si_pid:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.002)


def run_capped(argv, stdin: bytes, *, cwd: str, timeout_s: float, cap: int) -> dict:
    """Run a process with a wall-clock limit, killing its whole process group on expiry or
    when it prints more than `cap` bytes; stdout is kept (capped), stderr only as a tail."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": cwd, "TMPDIR": cwd, "LANG": "C.UTF-8"}
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
        start_new_session=True,
        close_fds=True,
    )
    deadline = time.monotonic() + timeout_s
    outcome = {"timed_out": False, "too_large": False, "timeout_s": timeout_s, "returncode": None}
    stdout, stderr = bytearray(), bytearray()
    try:
        try:
            proc.stdin.write(stdin)
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        _collect(proc, deadline, cap, stdout, stderr, outcome)
        if (
            not outcome["timed_out"]
            and not outcome["too_large"]
            and not _exited(proc.pid, deadline)
        ):
            outcome["timed_out"] = True
    finally:
        # Still unreaped here, so its pid and group id cannot have been reused by anyone else.
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the submission and anything it started
        except (ProcessLookupError, PermissionError):
            pass
        code = proc.wait()
        if not outcome["timed_out"] and not outcome["too_large"]:
            outcome["returncode"] = code
        proc.stdout.close()
        proc.stderr.close()
    outcome["stdout"], outcome["stderr"] = bytes(stdout), bytes(stderr)
    return outcome


def _collect(proc, deadline: float, cap: int, stdout: bytearray, stderr: bytearray, outcome):
    """Read both streams until they end, the deadline passes or stdout exceeds `cap`."""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ, stdout)
        selector.register(proc.stderr, selectors.EVENT_READ, stderr)
        open_streams = 2
        while open_streams:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                outcome["timed_out"] = True
                return
            for key, _ in selector.select(min(remaining, 1.0)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                key.data.extend(chunk)
                if key.data is stderr and len(stderr) > 8192:
                    del stderr[: len(stderr) - 8192]
            if len(stdout) > cap:
                outcome["too_large"] = True
                return
