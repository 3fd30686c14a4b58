"""The funnel in a child process, so the app's window never waits for it: the parent's side.

Stages 2 and 3 do a lot of pure-Python work (building attack batches, parsing sandbox output,
comparing rewards). In the app's own process that work holds the GIL and the window stutters
(docs/engineering.md, "Budgets": the GUI thread may stall at most 50 ms). So the app runs the funnel
in a child Python process (`python -m app.funnel.child`, which runs app/funnel/child_worker.py)
and only reads its progress from a pipe (the protocol: app/funnel/child_protocol.py).

A child can be spawned ahead of time (`spawn_funnel_child`): it imports the stages while idle
and then waits for its request, so a run starts without paying for the imports.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.errors import UserError
from app.findings import Stage
from app.funnel.child_protocol import (
    DEFAULT_GRACE_S,
    PROTOCOL,
    encode_message,
    event_from_dict,
    options_to_dict,
)
from app.funnel.pipeline import ALL_STAGES, FunnelOptions
from app.funnel.report import PackageRef, Report, StageResult, StageStatus
from app.progress import ProgressEvent

log = logging.getLogger(__name__)

CANCELLED_REASON = "cancelled by the user"  # the same words run_funnel puts in a cancelled stage
STDERR_TAIL_LINES = 40


class ChildFunnelError(Exception):
    """The child process failed in a way that is not the user's input (a bug, a crash)."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


def _with_judge_key(path: Path, options: FunnelOptions) -> FunnelOptions:
    """The child's environment holds no keys: a judge package's key (the provider's usual
    variable in ours) travels in the request instead."""
    import tomllib

    from app.sandbox.hostguard import provider_key_from_environment

    if options.llm_api_key:
        return options
    if options.llm_model:  # the red team's model
        key = provider_key_from_environment(options.llm_model)
        return dataclasses.replace(options, llm_api_key=key) if key else options
    try:
        grader = tomllib.loads((path / "env.toml").read_text(encoding="utf-8")).get("grader")
    except (OSError, ValueError):
        return options
    if not isinstance(grader, dict) or grader.get("type") not in ("judge", "rubric"):
        return options
    model = grader.get("model")
    key = provider_key_from_environment(model if isinstance(model, str) else None)
    return dataclasses.replace(options, llm_api_key=key) if key else options


def child_command() -> list[str]:
    """How to start the child: `python -m app.funnel.child`, or the frozen app's own binary."""
    if getattr(sys, "frozen", False):  # PyInstaller: installer/entry.py dispatches this flag
        return [sys.executable, "--funnel-child"]
    return [sys.executable, "-m", "app.funnel.child"]


def _child_environment() -> dict[str, str]:
    from app.sandbox.hostguard import secret_free_environment

    # The child runs graders (the weak backend: as this user): it gets no credentials at all;
    # the one key a judge or the red team needs travels in the run request.
    env = secret_free_environment()
    # The child must import this very `app` package, also from a checkout that is not installed.
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def spawn_funnel_child() -> subprocess.Popen:
    """Start a child that imports the stages and then waits for its run request on stdin.

    Close its stdin to let an unused child go (it exits at once)."""
    return subprocess.Popen(
        child_command(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_child_environment(),
        # Its own session: Ctrl+C in the terminal that started the app reaches the app, which
        # then cancels the run properly, instead of killing the child in the middle of it.
        start_new_session=True,
    )


class ChildFunnelRun:
    """One funnel run in a child process, seen from the parent.

        run = ChildFunnelRun(path, stages, options)
        run.start()
        for event in run.events():   # blocks; call it from a worker thread in a GUI
            ...
        report = run.result()        # the Report, or raises UserError / ChildFunnelError

    `cancel()` may be called from any thread at any time.
    """

    def __init__(
        self,
        path: str | Path,
        stages: tuple[Stage, ...] = ALL_STAGES,
        options: FunnelOptions | None = None,
        *,
        grace_s: float = DEFAULT_GRACE_S,
        spare: subprocess.Popen | None = None,
    ) -> None:
        self.path = Path(path)
        self.stages = tuple(stages)
        self.options = options or FunnelOptions()
        self.grace_s = grace_s
        self._proc = spare
        self._lock = threading.Lock()
        self._cancel_requested = False
        self._killed = False
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self._stderr_thread: threading.Thread | None = None
        self._events: list[ProgressEvent] = []
        self._report: Report | None = None
        self._error: BaseException | None = None
        self._finished = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_requested

    def start(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            if self._proc is not None:
                _close_quietly(self._proc)
            self._proc = spawn_funnel_child()
        request = {
            "protocol": PROTOCOL,
            "path": str(self.path),
            "stages": [str(s) for s in self.stages],
            "options": options_to_dict(_with_judge_key(self.path, self.options)),
        }
        self._stderr_thread = threading.Thread(
            target=self._read_stderr, name="gauntlet-funnel-stderr", daemon=True
        )
        self._stderr_thread.start()
        try:
            self._send(request)
        except OSError as exc:
            self._kill()
            raise ChildFunnelError(
                "The gauntlet's worker process could not be started.", str(exc)
            ) from exc

    def events(self) -> Iterator[ProgressEvent]:
        """Progress events as the child sends them; ends when the child is done."""
        assert self._proc is not None and self._proc.stdout is not None, "start() first"
        for raw in self._proc.stdout:
            try:
                message = json.loads(raw)
            except ValueError:
                self._stderr_tail.append(f"(unreadable line from the worker: {raw[:200]!r})")
                continue
            kind = message.get("type")
            if kind == "event":
                event = event_from_dict(message["event"])
                self._events.append(event)
                yield event
            elif kind == "report":
                self._report = Report.from_dict(message["report"])
            elif kind == "error":
                self._error = _error_from_message(message)
        self._wait_for_exit()

    def result(self) -> Report:
        """The report, once `events()` has ended. Raises what went wrong instead, if anything."""
        if not self._finished:
            for _event in self.events():
                pass
        if self._report is not None:
            return self._report
        if self._error is not None:
            raise self._error
        if self._cancel_requested:
            return self._partial_report_after_cancel()
        code = self._proc.returncode if self._proc is not None else None
        raise ChildFunnelError(
            f"The gauntlet's worker process stopped unexpectedly (exit code {code}).",
            "\n".join(self._stderr_tail),
        )

    def cancel(self) -> None:
        """Ask the child to cancel (its sandbox removes its containers),
        kill it after the grace period.
        """
        with self._lock:
            if self._cancel_requested or self._proc is None:
                return
            self._cancel_requested = True
        try:
            self._send({"op": "cancel"})
        except OSError:
            pass  # already gone
        threading.Thread(
            target=self._kill_after_grace, name="gauntlet-funnel-cancel", daemon=True
        ).start()

    def close(self) -> None:
        """Forget the child: cancel it if it still runs (it exits on stdin EOF too)."""
        if self._proc is None:
            return
        if self._proc.poll() is None and not self._finished:
            self.cancel()

    # -- internals ------------------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        with self._lock:
            self._proc.stdin.write(encode_message(message))
            self._proc.stdin.flush()

    def _read_stderr(self) -> None:
        proc = self._proc
        if proc is None or proc.stderr is None:
            return
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self._stderr_tail.append(line)
                log.info("funnel worker %s: %s", proc.pid, line)

    def _wait_for_exit(self) -> None:
        proc = self._proc
        assert proc is not None
        try:
            proc.wait(self.grace_s + 5)
        except subprocess.TimeoutExpired:
            self._kill()
        if proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:
                pass
        if self._stderr_thread is not None:
            self._stderr_thread.join(5)
        if proc.stdout is not None:
            proc.stdout.close()
        self._finished = True
        crashed = self._report is None and self._error is None
        if self._killed or (crashed and proc.returncode != 0):
            _sweep_sandbox_leftovers(self.options.backend)

    def _kill_after_grace(self) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            proc.wait(self.grace_s)
        except subprocess.TimeoutExpired:
            log.warning(
                "funnel worker %s did not stop %.0f s after cancel; killing it",
                proc.pid,
                self.grace_s,
            )
            self._kill()

    def _kill(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        self._killed = True
        try:
            proc.kill()
            proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            pass

    def _partial_report_after_cancel(self) -> Report:
        """The child was killed before it could report:
        what it had said so far, marked cancelled.
        """
        report = Report(package=PackageRef(path=str(self.path)))
        ended = {e.stage: e.message for e in self._events if e.kind == "stage-end"}
        findings = [
            e.finding for e in self._events if e.kind == "finding" and e.finding is not None
        ]
        for stage in (Stage.STRUCTURE, *[s for s in self.stages if s != Stage.STRUCTURE]):
            status = ended.get(stage)
            if status in {s.value for s in StageStatus}:
                report.stages.append(StageResult(stage, StageStatus(status)))
            else:
                report.stages.append(
                    StageResult(stage, StageStatus.ERROR, details={"reason": CANCELLED_REASON})
                )
        report.findings.extend(findings)
        return report


def _error_from_message(message: dict[str, Any]) -> BaseException:
    text = str(message.get("message") or "The gauntlet failed.")
    hint = str(message.get("hint") or "")
    kind = message.get("kind")
    if kind == "user":
        return UserError(text, hint, where=message.get("where"))
    if kind == "sandbox-unavailable":
        from app.sandbox.base import SandboxUnavailable

        return SandboxUnavailable(text, hint)
    return ChildFunnelError(text, str(message.get("detail") or ""))


def _sweep_sandbox_leftovers(backend: str) -> None:
    """After the child was killed or crashed: remove the containers it can no longer remove."""
    if backend == "process":
        return
    try:
        from app.sandbox.containers import remove_leftovers
        from app.sandbox.docker_engine import engine_client

        client = engine_client(timeout=10)
        try:
            removed = remove_leftovers(client)
        finally:
            client.close()
        if removed:
            log.info("removed %d sandbox container(s) left by a stopped funnel worker", removed)
    except Exception as exc:  # noqa: BLE001 - no Docker here means there is nothing to sweep
        log.debug("sandbox sweep after a stopped worker skipped: %s", exc)


def _close_quietly(proc: subprocess.Popen) -> None:
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass


def discard_spare(proc: subprocess.Popen | None, timeout_s: float = 5.0) -> None:
    """Let an unused spare child go: it exits when its stdin closes."""
    if proc is None:
        return
    try:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout_s)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()
    _close_quietly(proc)


if __name__ == "__main__":
    from app.funnel.child_worker import main

    sys.exit(main())
