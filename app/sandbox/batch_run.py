"""The host side of the runner protocol, shared by every backend.

A backend only knows how to start a sandbox and give us a byte `Channel` to the fork server
inside it; this module drives a whole batch through it: configure, stream items, collect signed
results, enforce the host-side deadlines, and start a fresh sandbox when one is lost (a grading
that kills the runner is blamed on the item in flight, the innocent items are re-run). A
grading that timed out or crashed next to others is judged again alone, in as many fresh
sandboxes side by side as the machine has room for. A `GradingGuard` shared by a stage's
batches stops a batch early when the grader does not answer (app/sandbox/guard.py).
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import os
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from app.envpack.model import EnvPack, GraderSpec
from app.progress import Cancelled, CancelToken
from app.sandbox.base import GradingItem, GradingResult, ResultCallback, SandboxUnavailable
from app.sandbox.episode_result import split_episode
from app.sandbox.guard import GradingGuard
from app.sandbox.limits import SandboxLimits
from app.sandbox.rewards import interpret
from app.sandbox.runner import wire

log = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 60.0
# The host gives the runner this much slack beyond the grader's own time limit before it
# declares the sandbox hung and kills it.
WATCHDOG_SLACK_S = 15.0
MAX_SANDBOX_STARTS = 8
MAX_REJUDGE_SANDBOXES = 4


class Channel(ABC):
    """A byte pipe to the fork server in one sandbox; each backend has its own."""

    STDERR_TAIL = 4000  # bytes of the server's stderr kept for a sandbox error

    def __init__(self) -> None:
        self.stderr_tail = bytearray()
        self.lock = threading.Lock()
        self.closed = False

    @abstractmethod
    def send(self, data: bytes) -> None: ...

    @abstractmethod
    def recv(self, timeout: float) -> bytes | None:
        """Bytes from the server's stdout; b"" at end of stream; None when `timeout` passed."""

    @abstractmethod
    def kill(self) -> None:
        """Stop the sandbox now (safe from any thread, more than once)."""

    def diagnostics(self) -> str:
        """The tail of the server's stderr, for a sandbox error."""
        return bytes(self.stderr_tail).decode("utf-8", "replace")

    def close(self) -> None:
        """Kill and remove everything the sandbox left (idempotent)."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
        self._remove_sandbox()

    @abstractmethod
    def _remove_sandbox(self) -> None:
        """What `close` does, once."""

    def _keep_stderr(self, chunk: bytes) -> None:
        self.stderr_tail.extend(chunk)
        del self.stderr_tail[: -self.STDERR_TAIL]


@dataclass(slots=True)
class RunnerConfig:
    """What the backend tells the runner about its surroundings."""

    pack_dir: str | None  # where the package is visible inside the sandbox (python graders)
    scratch: str  # a writable folder for per-item scratch directories
    private_tmp: bool  # True when /tmp belongs to the sandbox alone (may be swept)


StartSandbox = Callable[[], tuple[Channel, RunnerConfig]]


def run_batch(
    pack: EnvPack,
    items: Iterable[GradingItem],
    start: StartSandbox,
    *,
    limits: SandboxLimits,
    on_result: ResultCallback | None = None,
    cancel: CancelToken | None = None,
    guard: GradingGuard | None = None,
) -> list[GradingResult]:
    items = list(items)
    keys = [item.key for item in items]
    if len(set(keys)) != len(keys):
        raise ValueError("GradingItem keys must be unique within a batch")
    cancel = cancel or CancelToken()
    results: dict[str, GradingResult] = {}
    suspects: set[str] = set()  # crashed or timed out next to others: re-run alone
    held: dict[str, GradingResult] = {}  # what a suspect got next to others
    lock = threading.Lock()  # re-judging sandboxes deliver from several threads
    starts = failed_starts = 0

    def deliver(result: GradingResult) -> None:
        with lock:
            _deliver(results, on_result, result)

    while len(results) < len(items):
        cancel.raise_if_cancelled()
        remaining = [item for item in items if item.key not in results]
        if guard is not None and (guard.stopped or guard.check_budget()):
            _skip_rest(remaining, held, guard, deliver)
            break
        if starts >= MAX_SANDBOX_STARTS:
            _give_up(remaining, deliver)
            break
        starts += 1
        attempts = [
            _Attempt(pack, batch, start, limits, jobs, cancel, guard)
            for batch, jobs in _plans(remaining, suspects, limits)
        ]
        outcomes = _run_attempts(attempts, deliver)
        if cancel.cancelled:
            raise Cancelled()
        for attempt, lost in zip(attempts, outcomes, strict=True):
            suspects.update(attempt.held)
            held.update(attempt.held)
            if lost is None:
                continue
            if not attempt.started_any:
                failed_starts += 1
                if failed_starts >= 2:
                    raise _did_not_start(attempt)
                continue
            _blame_lost(attempt, lost, suspects, guard, deliver)
    return [results[key] for key in keys]


def _plans(
    remaining: list[GradingItem], suspects: set[str], limits: SandboxLimits
) -> list[tuple[list[GradingItem], int]]:
    """The sandboxes to start next, as (items, gradings side by side): the unsuspected items
    together; once only suspects are left, each alone in its sandbox, in as many sandboxes as
    the machine allows."""
    normal = [item for item in remaining if item.key not in suspects]
    if normal:
        return [(normal, limits.jobs)]
    return [(group, 1) for group in _split(remaining, rejudge_parallel(limits))]


def _blame_lost(
    attempt: _Attempt,
    lost: list[str],
    suspects: set[str],
    guard: GradingGuard | None,
    deliver: Callable[[GradingResult], None],
) -> None:
    """A sandbox was lost with `lost` in flight. Next to others, each may be a bystander of the
    grading that broke it, so each is re-run alone; alone, it broke the sandbox: a crash."""
    for key in lost:
        if attempt.jobs > 1:
            suspects.add(key)
            continue
        crash = GradingResult(
            key=key,
            reward=None,
            error="crash",
            detail="the grading killed or hung the sandbox's runner; the sandbox was stopped",
        )
        if guard is not None:
            guard.observe(attempt.by_key.get(key), crash)
        deliver(crash)


def _did_not_start(attempt: _Attempt) -> SandboxUnavailable:
    return SandboxUnavailable(
        "the sandbox did not start: " + (attempt.failure or "no answer from its runner"),
        "run `gauntlet sandbox doctor` to see what is wrong and how to fix it",
    )


def _give_up(remaining: list[GradingItem], deliver: Callable[[GradingResult], None]) -> None:
    for item in remaining:
        deliver(_sandbox_error(item.key, "the sandbox kept failing; gave up on this grading"))


def rejudge_parallel(limits: SandboxLimits) -> int:
    """How many sandboxes can re-judge suspects side by side, each with the CPUs and memory the
    package declares (so a re-judged grading never competes with a neighbour)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    fit = int(cores // max(1.0, limits.cpus))
    try:
        pages = os.sysconf("SC_AVPHYS_PAGES") if hasattr(os, "sysconf") else 0
        free_mb = pages * os.sysconf("SC_PAGE_SIZE") >> 20
    except (ValueError, OSError):
        free_mb = 0
    if free_mb:
        fit = min(fit, int(free_mb // (limits.memory_mb + 256)))
    return max(1, min(fit, MAX_REJUDGE_SANDBOXES))


def _split(items: list[GradingItem], groups: int) -> list[list[GradingItem]]:
    groups = max(1, min(groups, len(items)))
    return [items[i::groups] for i in range(groups)]


def _run_attempts(
    attempts: list[_Attempt], deliver: Callable[[GradingResult], None]
) -> list[list[str] | None]:
    if len(attempts) == 1:
        return [attempts[0].run(deliver)]
    with ThreadPoolExecutor(len(attempts), thread_name_prefix="sandbox-rejudge") as pool:
        futures = [pool.submit(attempt.run, deliver) for attempt in attempts]
        return [future.result() for future in futures]


def _skip_rest(
    remaining: list[GradingItem],
    held: dict[str, GradingResult],
    guard: GradingGuard,
    deliver: Callable[[GradingResult], None],
) -> None:
    """The guard stopped the stage: what was seen stands, the rest is not graded."""
    detail = f"not graded: the stage stopped early because {guard.reason()}"
    for item in remaining:
        if item.key in held:
            deliver(held[item.key])
        else:
            guard.skipped += 1
            deliver(GradingResult(key=item.key, reward=None, error="skipped", detail=detail))


def _deliver(
    results: dict[str, GradingResult], on_result: ResultCallback | None, result: GradingResult
) -> None:
    if result.key in results:
        return
    results[result.key] = result
    if on_result is not None:
        on_result(result)


def _sandbox_error(key: str, detail: str) -> GradingResult:
    return GradingResult(key=key, reward=None, error="sandbox", detail=detail)


class _Attempt:
    """One sandbox's life: returns None when every item got a result, else the keys that were
    in flight when the sandbox was lost."""

    def __init__(
        self,
        pack,
        items,
        start,
        limits: SandboxLimits,
        jobs: int,
        cancel: CancelToken,
        guard: GradingGuard | None = None,
    ):
        self.pack, self.items, self.start, self.limits, self.jobs, self.cancel = (
            pack,
            items,
            start,
            limits,
            jobs,
            cancel,
        )
        self.guard = guard
        self.by_key = {item.key: item for item in items}
        self.token = secrets.token_bytes(32)
        self.started_any = False
        self.failure = ""
        self.held: dict[str, GradingResult] = {}  # crashed or timed out next to others

    def run(self, deliver: Callable[[GradingResult], None]) -> list[str] | None:
        channel, config = self.start()
        killed = threading.Event()

        def kill_now() -> None:
            killed.set()
            channel.kill()

        self.cancel.on_cancel(kill_now)
        try:
            return self._drive(channel, config, deliver, killed)
        finally:
            channel.close()

    def _drive(self, channel: Channel, config: RunnerConfig, deliver, killed) -> list[str] | None:
        pending = {item.key: item for item in self.items}
        in_flight: set[str] = set()
        reader = _LineReader(channel)
        if not self._handshake(channel, config, reader):
            return []
        writer = threading.Thread(
            target=self._write_items, args=(channel,), daemon=True, name="sandbox-writer"
        )
        writer.start()
        batch_deadline = time.monotonic() + self._batch_budget()
        watchdog = self.limits.timeout_s + WATCHDOG_SLACK_S
        last_heard = time.monotonic()
        while pending:
            if killed.is_set() or self.cancel.cancelled:
                return list(in_flight)
            if self.guard is not None and (self.guard.stopped or self.guard.check_budget()):
                channel.kill()  # the stage stops: run_batch skips what is left
                return []
            now = time.monotonic()
            if now >= batch_deadline or (in_flight and now - last_heard > watchdog):
                log.warning("sandbox stopped answering; killing it")
                channel.kill()
                return list(in_flight) or list(pending)[:1]
            wait = max(0.0, min(batch_deadline - now, watchdog, 1.0))
            message = reader.next_message(self.token, wait, self.cancel)
            if message is None:
                if reader.closed:
                    log.debug("sandbox lost: %s", reader.problem + _diag(channel))
                    return list(in_flight)
                continue
            last_heard = time.monotonic()
            op, key = message.get("op"), message.get("key")
            if not isinstance(key, str) or key not in pending:
                continue  # unknown or duplicate key: never trusted
            if op == "start":
                in_flight.add(key)
            elif op == "result":
                in_flight.discard(key)
                del pending[key]
                self._settle(key, message, deliver)
        return None

    def _handshake(self, channel: Channel, config: RunnerConfig, reader: _LineReader) -> bool:
        """Configure the runner and wait until it is ready; False (with `failure` said) when it
        does not start."""
        grader = self.pack.manifest.grader.to_dict()
        grader["kind"] = self.pack.manifest.kind
        hello = {
            "op": "config",
            "token": self.token.hex(),
            "grader": grader,
            "kind": self.pack.manifest.kind,
            "jobs": self.jobs,
            "pack": config.pack_dir,
            "scratch": config.scratch,
            "private_tmp": config.private_tmp,
            "limits": self.limits.runner_limits(),
        }
        try:
            channel.send(_line(hello))
        except OSError as exc:
            self.failure = f"could not talk to the runner: {exc}"
            return False
        ready = reader.next_message(self.token, STARTUP_TIMEOUT_S, self.cancel)
        if ready is None or ready.get("op") != "ready":
            self.failure = (reader.problem or "the runner did not start") + _diag(channel)
            return False
        self.started_any = True
        grader_error = ready.get("grader_error")
        if grader_error:
            log.debug("grader import failed: %s", grader_error)
        return True

    def _settle(
        self, key: str, message: dict[str, Any], deliver: Callable[[GradingResult], None]
    ) -> None:
        """A grading's result: delivered, or held to be judged again alone."""
        grader = self.pack.manifest.grader
        episode = None
        if self.pack.is_multi_turn:
            message, episode = split_episode(message)
        result = _result_from(
            key, message, grader.reward_range, rubric=grader if grader.is_rubric else None
        )
        result.episode = episode
        # A neighbour may be to blame (a memory bomb next door gets a child killed): judge
        # it again alone. That holds for attack responses too, or a real hit is lost to
        # its neighbour; but an attack response that timed out is not waited for twice
        # (hanging the grader is what many of them do, and it cannot be a hit).
        item = self.by_key[key]
        held = self.jobs > 1 and (
            result.error == "crash" or (result.error == "timeout" and item.expect_answer)
        )
        # A timeout counts towards the guard at once (waiting for the re-run alone is
        # what makes a silent grader expensive); a crash is quick, so only its re-run
        # alone counts (a sandbox under pressure may kill a few children at once).
        if self.guard is not None and not (held and result.error == "crash"):
            self.guard.observe(item, result)
        if held:
            self.held[key] = result
        else:
            deliver(result)

    def _write_items(self, channel: Channel) -> None:
        try:
            chunk = bytearray()
            for item in self.items:  # a few large writes instead of one per item
                chunk += _line(
                    {"op": "grade", "key": item.key, "task": item.task, "response": item.response}
                )
                if len(chunk) >= 1 << 16:
                    channel.send(bytes(chunk))
                    chunk.clear()
            channel.send(bytes(chunk + _line({"op": "end"})))
        except (OSError, ValueError) as exc:  # the sandbox went away; the reader notices
            log.debug("writing to the sandbox failed: %s", exc)

    def _batch_budget(self) -> float:
        rounds = math.ceil(len(self.items) / max(1, self.jobs))
        return STARTUP_TIMEOUT_S + rounds * (self.limits.timeout_s + 2.0) + 30.0


MAX_RESULT_DEPTH = 32  # the runner keeps 8 levels; anything deeper did not come from it


def _result_from(
    key: str, message: dict[str, Any], reward_range, rubric: GraderSpec | None = None
) -> GradingResult:
    """A result from a runner message. Every field is checked: the runner's messages carry what
    a grader produced, and a malformed one is the grader's `invalid-reward`, never our crash.
    `rubric`: the grader when it is a rubric (each criterion is checked, then combined)."""
    try:
        result = _checked_result(key, message, reward_range)
        if rubric is not None and not message.get("error") and "raw" in message:
            result = _rubric_result(result, message, rubric)
        return result
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError, OverflowError) as exc:
        return _malformed(key, f"the runner's message could not be read ({type(exc).__name__})")


def _checked_result(key: str, message: dict[str, Any], reward_range) -> GradingResult:
    duration = message.get("duration_s", 0.0)
    if type(duration) not in (int, float) or not math.isfinite(duration) or duration < 0:
        return _malformed(key, f"duration_s is not a time in seconds: {str(duration)[:60]!r}")
    duration = float(duration)
    error = message.get("error")
    if error:
        from app.sandbox.base import ERROR_KINDS

        if not isinstance(error, str):
            return _malformed(key, "the error kind is not a string", duration)
        detail = message.get("detail")
        return GradingResult(
            key=key,
            reward=None,
            error=error if error in ERROR_KINDS else "exception",
            detail=(detail if isinstance(detail, str) else "")[:4000],
            duration_s=duration,
        )
    raw = message.get("raw")
    if _depth(raw) > MAX_RESULT_DEPTH:
        return _malformed(key, "the grader's result is nested too deeply", duration)
    verdict = interpret(raw, reward_range)
    return GradingResult(
        key=key,
        reward=verdict.reward,
        metrics=_json_safe(verdict.metrics),
        feedback=verdict.feedback,
        error=verdict.error,
        detail=verdict.detail,
        raw=_json_safe(raw),
        duration_s=duration,
    )


def _rubric_result(result: GradingResult, message: dict[str, Any], rubric: GraderSpec):
    """A rubric's result: its criteria's scores and their combination (app/sandbox/rubric.py).
    The runner's whole value is a "$rubric" dict, never a reward of its own."""
    from app.sandbox.rubric import code_criteria, settle

    raw = message.get("raw")
    if _depth(raw) > MAX_RESULT_DEPTH:
        return result
    metrics: dict[str, Any] = {}
    criteria, feedback = code_criteria(rubric, raw, metrics)
    result.criteria = _json_safe(criteria)
    result.metrics = {"criteria": _json_safe(metrics)} if metrics else {}
    result.feedback = "; ".join(feedback)[:2000]
    return settle(rubric, result)


def _malformed(key: str, detail: str, duration: float = 0.0) -> GradingResult:
    return GradingResult(
        key=key, reward=None, error="invalid-reward", detail=detail, duration_s=duration
    )


def _depth(value: Any) -> int:
    """How deeply `value` nests, without recursion (so no RecursionError whatever it is)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if deepest > MAX_RESULT_DEPTH:
                return deepest
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def _json_safe(value: Any) -> Any:
    """NaN/inf become strings so reports stay valid JSON (callers bound the depth first)."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _line(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, ensure_ascii=False, separators=(",", ":")) + "\n").encode(
        "utf-8", "surrogatepass"
    )


def _diag(channel: Channel) -> str:
    tail = channel.diagnostics().strip()
    return f" (runner said: {tail[-600:]})" if tail else ""


class _LineReader:
    """Splits the server's stdout into signed JSON messages; forged or broken lines are dropped."""

    MAX_LINE = 16 << 20

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.buffer = bytearray()
        self.closed = False
        self.problem = ""

    def next_message(
        self, token: bytes, timeout: float, cancel: CancelToken
    ) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while True:
            newline = self.buffer.find(b"\n")
            if newline >= 0:
                line = bytes(self.buffer[:newline])
                del self.buffer[: newline + 1]
                message = _verify(line, token)
                if message is not None:
                    return message
                continue
            if self.closed or cancel.cancelled:
                return None
            if len(self.buffer) > self.MAX_LINE:
                self.problem = "the runner sent an oversized line"
                self.closed = True
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            chunk = self.channel.recv(min(remaining, 0.5))
            if chunk is None:
                continue
            if not chunk:
                self.closed = True
                self.problem = self.problem or "the sandbox's runner stopped"
                continue
            self.buffer.extend(chunk)


def _verify(line: bytes, token: bytes) -> dict[str, Any] | None:
    try:
        envelope = json.loads(line)
        body, mac = envelope["body"], envelope["mac"]
        if not isinstance(body, str) or not isinstance(mac, str):
            return None
        if not hmac.compare_digest(wire.sign(token, body), mac):
            log.warning("dropped a forged line from the sandbox")
            return None
        message = json.loads(body)
        return message if isinstance(message, dict) else None
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
