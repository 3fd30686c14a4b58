"""A simulated sandbox runner on a simulated clock, for bounding tests that would otherwise wait
for hours (timeout_s = 600): it speaks the real runner protocol (signed JSON lines) to the real
`run_batch`, grades `jobs` items side by side, and moves the clock to the next completion
instead of sleeping. `outcome(key)` says what the grader does with each item."""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from app.sandbox.batch_run import RunnerConfig
from app.sandbox.runner import wire


@dataclass
class SimClock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Ledger:
    """Everything the simulated sandboxes did, across every sandbox of a test."""

    sandboxes: int = 0
    graded: list[str] = field(default_factory=list)
    max_side_by_side: int = 0
    running: int = 0


# outcome(key) -> (seconds it takes, message fields: {"raw": 1.0} or {"error": "timeout", ...})
Outcome = Callable[[str], tuple[float, dict]]


def never_answers(timeout_s: float) -> Outcome:
    def outcome(key: str) -> tuple[float, dict]:
        return timeout_s, {"error": "timeout", "detail": f"no answer within {timeout_s:g} s"}

    return outcome


def crashes(key: str) -> tuple[float, dict]:
    return 0.05, {"error": "crash", "detail": "the grader was killed by SIGKILL"}


class SimulatedRunner:
    def __init__(self, clock: SimClock, ledger: Ledger, outcome: Outcome) -> None:
        self.clock, self.ledger, self.outcome = clock, ledger, outcome
        self.token = b""
        self.jobs = 1
        self.queue: list[str] = []
        self.events: list[tuple[float, int, str, dict]] = []  # (finish time, seq, key, fields)
        self.outbox = bytearray()
        self.ended = self.killed = False
        self.seq = 0
        self.inbox = b""
        ledger.sandboxes += 1

    # -- Channel ---------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        if self.killed:
            raise BrokenPipeError("the simulated sandbox was killed")
        self.inbox += data
        *lines, self.inbox = self.inbox.split(b"\n")
        for line in lines:
            message = json.loads(line)
            if message["op"] == "config":
                self.token = bytes.fromhex(message["token"])
                self.jobs = int(message["jobs"])
                self._emit({"op": "ready", "python": "sim", "pid": 1, "grader_error": None})
            elif message["op"] == "grade":
                self.queue.append(message["key"])
            elif message["op"] == "end":
                self.ended = True
        self._fill()

    def recv(self, timeout: float) -> bytes | None:
        if self.outbox:
            data, self.outbox = bytes(self.outbox), bytearray()
            return data
        if self.killed:
            return b""
        if not self.events:
            return b"" if self.ended and not self.queue else None
        finish, _, key, fields = heapq.heappop(self.events)
        self.clock.now = max(self.clock.now, finish)
        self.ledger.running -= 1
        self._emit({"op": "result", "key": key, "duration_s": fields.pop("_d"), **fields})
        self._fill()
        return self.recv(timeout)

    def diagnostics(self) -> str:
        return ""

    def kill(self) -> None:
        if not self.killed:
            self.killed = True
            self.ledger.running -= len(self.events)
            self.events.clear()

    def close(self) -> None:
        self.kill()

    # -- the simulated fork server ---------------------------------------------------------
    def _fill(self) -> None:
        while self.queue and len(self.events) < self.jobs and not self.killed:
            key = self.queue.pop(0)
            seconds, fields = self.outcome(key)
            self.ledger.graded.append(key)
            self.ledger.running += 1
            self.ledger.max_side_by_side = max(self.ledger.max_side_by_side, self.ledger.running)
            self.seq += 1
            heapq.heappush(
                self.events, (self.clock.now + seconds, self.seq, key, {**fields, "_d": seconds})
            )
            self._emit({"op": "start", "key": key})

    def _emit(self, message: dict) -> None:
        self.outbox += wire.encode_signed(self.token, message)


def simulated_start(clock: SimClock, ledger: Ledger, outcome: Outcome):
    """A `StartSandbox` for `run_batch`."""

    def start():
        return SimulatedRunner(clock, ledger, outcome), RunnerConfig(
            pack_dir=None, scratch="/tmp/sim", private_tmp=True
        )

    return start
