"""One grading as the fork server sees it, and what it reports for it (stdlib only).

Everything a grading sends back (its pid header, its result) was written by a process that ran
the author's code, so every field is checked here: a malformed one becomes `invalid-reward`,
never an exception in the server. The exit status comes from the server itself (an adopted
child) or from the loader, which is checked the same way.
"""

from __future__ import annotations

import json
import math
import os
import signal
import time

RESULT_CAP = 4 << 20  # what a grading may send back as its result
OUTPUT_TAIL = 4096
# What a grading itself may report; "timeout", "output-too-large" and "crash" are the server's.
CHILD_ERRORS = ("exception", "sandbox", "invalid-reward")
RESULT_FIELDS = {"raw", "error", "detail", "grader_s"}
MAX_DETAIL = 8000


class Active:
    """A grading handed to the loader: its pipes, its deadline and what came back so far."""

    __slots__ = (
        "seq",
        "item",
        "pid",
        "started",
        "deadline",
        "grace",
        "out_fd",
        "res_fd",
        "out_len",
        "out_tail",
        "result",
        "error",
        "scratch",
        "status",
        "orphaned",
        "res_eof",
        "announced",
    )

    def __init__(self, seq: int, item: dict, scratch: str, timeout_s: float, out_fd, res_fd):
        self.seq, self.item, self.scratch = seq, item, scratch
        self.pid: int | None = None  # from the grading's first line on its result pipe
        self.started = time.monotonic()
        self.deadline = self.started + timeout_s
        self.grace: float | None = None  # after a kill: when to stop waiting for its exit
        self.out_fd, self.res_fd = out_fd, res_fd
        self.out_len, self.out_tail = 0, bytearray()
        self.result = bytearray()  # the pid line, then the result
        self.error: tuple[str, str] | None = None  # set by the server: (kind, detail)
        self.status: int | None = None  # wait status, once known
        self.orphaned = False  # its loader died while it ran
        self.res_eof = False
        self.announced = False  # its pid line was read (well-formed or not)

    @property
    def key(self) -> str:
        return self.item["key"]

    def fail(self, kind: str, detail: str) -> None:
        if self.error is None:
            self.error = (kind, detail)

    def add_output(self, chunk: bytes) -> None:
        self.out_len += len(chunk)
        self.out_tail.extend(chunk)
        del self.out_tail[:-OUTPUT_TAIL]

    def take_pid(self) -> int | None:
        """The pid the grading announced (once), None while it is not complete; a malformed
        announcement marks the grading `invalid-reward`."""
        if self.announced:
            return None
        newline = self.result.find(b"\n", 0, 24)
        if newline < 0:
            if len(self.result) >= 24 or (self.res_eof and self.result):
                self.announced = True
                self.fail("invalid-reward", "the grading's process announced itself malformed")
            return None
        self.announced = True
        text = bytes(self.result[:newline])
        del self.result[: newline + 1]
        if not text.isdigit() or not 1 < int(text) < 1 << 22:
            self.fail("invalid-reward", "the grading's process announced itself malformed")
            return None
        return int(text)


def outcome(active: Active, grader_type) -> dict:
    """The fields of the result message for `active` (besides op, key and duration)."""
    output_tail = bytes(active.out_tail[-1500:]).decode("utf-8", "replace")
    if active.error is not None:
        kind, detail = active.error
        return {"error": kind, "detail": detail + tail_note(output_tail)}
    if active.announced and active.result:
        try:
            result = json.loads(bytes(active.result))
        except (ValueError, RecursionError):  # a grader may write its own bytes to fd 3
            return _malformed("the grader's result is malformed")
        return checked_result(result)
    return _no_result(active, grader_type, output_tail)


def checked_result(result) -> dict:
    """Only the fields a grading may report, each of the right type."""
    if not isinstance(result, dict):
        return _malformed("the grader's result is malformed")
    unknown = sorted(str(name)[:40] for name in set(result) - RESULT_FIELDS)
    if unknown:
        return _malformed(f"the grader's result has fields no grading sends: {unknown[:5]}")
    checked = {}
    grader_s = result.get("grader_s")
    if grader_s is not None:
        if type(grader_s) not in (int, float) or not math.isfinite(grader_s) or grader_s < 0:
            return _malformed("the grader's timing is malformed")
        checked["grader_s"] = grader_s
    if "error" in result:
        error, detail = result["error"], result.get("detail", "")
        if error not in CHILD_ERRORS or type(detail) is not str:
            return _malformed("the grader's error report is malformed")
        checked.update(error=error, detail=detail[:MAX_DETAIL])
        return checked
    if "raw" not in result:
        return _malformed("the grader's result has no value")
    checked["raw"] = result["raw"]
    return checked


def _malformed(detail: str) -> dict:
    return {"error": "invalid-reward", "detail": detail}


def _no_result(active: Active, grader_type, output_tail: str) -> dict:
    status = active.status
    if status is None:
        return {
            "error": "sandbox",
            "detail": "the grading was lost with the grader's loader process; its exit status "
            "is unknown" + tail_note(output_tail),
        }
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if grader_type == "tests":
            who = (
                f"the grading process was killed by {name}"
                " — the submission under test killed it or used up the memory"
            )
        else:
            who = f"the grader was killed by {name}" + (
                " — most likely the memory limit" if sig == signal.SIGKILL else ""
            )
        return {"error": "crash", "detail": who + tail_note(output_tail)}
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return {
        "error": "crash",
        "detail": f"the grader exited (status {code}) without returning a reward"
        + tail_note(output_tail),
    }


def tail_note(tail: str) -> str:
    tail = tail.strip()
    return f"\nlast output:\n{tail[-800:]}" if tail else ""
