"""The funnel in a child process, so the app's window never waits for it.

Stages 2 and 3 do a lot of pure-Python work (building attack batches, parsing sandbox output,
comparing rewards). In the app's own process that work holds the GIL and the window stutters
(docs/engineering.md, "Budgets": the GUI thread may stall at most 50 ms). So the app runs the funnel
in a child Python process (`python -m app.funnel.child`) and only reads its progress from a pipe.

Protocol `gauntlet-funnel-child/1`: one JSON object per line, UTF-8.

    parent → child (stdin)
      {"protocol": "gauntlet-funnel-child/1", "path": "...", "stages": ["structure", ...],
       "options": {FunnelOptions fields, including llm_api_key}}      the run request
      {"op": "cancel"}                                                 stop cleanly
      end of file                  the parent is gone: cancel, and exit within the grace period
    child → parent (stdout)
      {"type": "started", "pid": 123}
      {"type": "event", "event": {ProgressEvent}}                     many
      {"type": "report", "report": {gauntlet-report/1}}               last, on success
      {"type": "error", "kind": "user" | "sandbox-unavailable" | "request" | "internal",
       "message": "...", "hint": "...", "where": ..., "detail": "..."}  last, on failure

The API key travels only in the request on stdin: never in argv (visible to every user in
`ps`) and never in the child's environment. The child's stderr carries its log lines; whatever
a library prints to stdout is diverted to stderr, so it cannot corrupt the protocol.

A child can be spawned ahead of time (`spawn_funnel_child`): it imports the stages while idle
and then waits for its request, so a run starts without paying for the imports.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from app.errors import UserError
from app.findings import Finding, Stage
from app.funnel.pipeline import ALL_STAGES, FunnelOptions
from app.funnel.report import PackageRef, Report, StageResult, StageStatus
from app.progress import CancelToken, ProgressEvent

log = logging.getLogger(__name__)

PROTOCOL = "gauntlet-funnel-child/1"
CANCELLED_REASON = "cancelled by the user"  # the same words run_funnel puts in a cancelled stage
# After a cancel, the child has this long to stop its sandbox and exit before it is killed.
DEFAULT_GRACE_S = 20.0
# The child sends progress counts at most this often (findings and stage changes go at once).
PROGRESS_INTERVAL_S = 0.03
STDERR_TAIL_LINES = 40


class ChildFunnelError(Exception):
    """The child process failed in a way that is not the user's input (a bug, a crash)."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


# -- messages -----------------------------------------------------------------------------------


def event_to_dict(event: ProgressEvent) -> dict[str, Any]:
    data: dict[str, Any] = {
        "stage": str(event.stage),
        "kind": event.kind,
        "done": event.done,
        "total": event.total,
        "message": event.message,
    }
    if event.finding is not None:
        data["finding"] = event.finding.to_dict()
    if event.data:
        data["data"] = event.data
    return data


def event_from_dict(data: dict[str, Any]) -> ProgressEvent:
    finding = data.get("finding")
    return ProgressEvent(
        stage=Stage(data["stage"]),
        kind=str(data["kind"]),
        done=int(data.get("done") or 0),
        total=data.get("total"),
        message=str(data.get("message") or ""),
        finding=Finding.from_dict(finding) if finding else None,
        data=data.get("data") or {},
    )


def options_to_dict(options: FunnelOptions) -> dict[str, Any]:
    return dataclasses.asdict(options)


def options_from_dict(data: dict[str, Any]) -> FunnelOptions:
    known = {f.name for f in dataclasses.fields(FunnelOptions)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown funnel option(s): {', '.join(unknown)}")
    return FunnelOptions(**data)


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
    if not isinstance(grader, dict) or grader.get("type") != "judge":
        return options
    model = grader.get("model")
    key = provider_key_from_environment(model if isinstance(model, str) else None)
    return dataclasses.replace(options, llm_api_key=key) if key else options


def _encode(message: dict[str, Any]) -> bytes:
    # default=str: stage details and evidence are meant to be JSON already; a stray Path or
    # enum must not lose the whole report.
    return (json.dumps(message, ensure_ascii=False, default=str) + "\n").encode("utf-8")


# -- parent side ----------------------------------------------------------------------------------


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
            self._proc.stdin.write(_encode(message))
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


# -- child side -----------------------------------------------------------------------------------


class _MessageWriter:
    """Sends messages to the parent from any thread, in order, coalescing progress counts.

    A stage may report thousands of counts a second; the parent needs only the latest one per
    stage every few dozen milliseconds. Findings and stage changes are never dropped."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._pending: list[dict[str, Any]] = []
        self._progress: dict[str, dict[str, Any]] = {}
        self._wake = threading.Event()
        self._closing = False
        self.broken = threading.Event()  # the parent stopped reading
        self._thread = threading.Thread(target=self._run, name="funnel-child-writer", daemon=True)
        self._thread.start()

    def event(self, event: ProgressEvent) -> None:
        message = {"type": "event", "event": event_to_dict(event)}
        with self._lock:
            if event.kind == "progress":
                self._progress[str(event.stage)] = message
            else:
                self._pending.extend(self._progress.values())
                self._progress.clear()
                self._pending.append(message)
        self._wake.set()

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._pending.extend(self._progress.values())
            self._progress.clear()
            self._pending.append(message)
        self._wake.set()

    def close(self) -> None:
        self._closing = True
        self._wake.set()
        self._thread.join(30)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                batch = self._pending + list(self._progress.values())
                self._pending, self._progress = [], {}
            if batch and not self.broken.is_set():
                try:
                    self._stream.write(b"".join(_encode(m) for m in batch))
                    self._stream.flush()
                except (OSError, ValueError):
                    self.broken.set()
            if self._closing:
                with self._lock:
                    if not self._pending and not self._progress:
                        return
                continue
            time.sleep(PROGRESS_INTERVAL_S)


def _protocol_streams() -> tuple[IO[bytes], IO[bytes]]:
    """(requests in, messages out). Anything else that writes to fd 1 ends up on stderr."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return sys.stdin.buffer, out


def _preimport_stages() -> None:
    """Pay for the stages' imports while waiting for the request (a spare child)."""
    for module in (
        "app.funnel.structure",
        "app.funnel.verify",
        "app.funnel.attack",
        "app.envpack.bundle",
    ):
        try:
            __import__(module)
        except Exception as exc:  # noqa: BLE001 - the run will report it properly when it imports again
            log.debug("pre-import of %s failed: %s", module, exc)


def _read_request(line: bytes) -> tuple[Path, tuple[Stage, ...], FunnelOptions]:
    request = json.loads(line)
    if not isinstance(request, dict) or request.get("protocol") != PROTOCOL:
        raise ValueError(f"expected a {PROTOCOL} request")
    stages = tuple(Stage(s) for s in request.get("stages") or [str(s) for s in ALL_STAGES])
    return Path(request["path"]), stages, options_from_dict(request.get("options") or {})


def _watch_parent(requests: IO[bytes], cancel: CancelToken, grace_s: float) -> None:
    """Cancel on {"op": "cancel"}; on EOF (the parent died or let go)
    cancel and make sure we exit.
    """
    for raw in requests:
        try:
            op = json.loads(raw).get("op")
        except (ValueError, AttributeError):
            continue
        if op == "cancel":
            cancel.cancel()
    cancel.cancel()
    # Nobody is left to read the report: give the sandbox its grace period to clean up, then go.
    time.sleep(grace_s)
    os._exit(3)


def main(grace_s: float = DEFAULT_GRACE_S) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; it sends a cancel
    requests, out = _protocol_streams()
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    _preimport_stages()
    line = requests.readline()
    if not line.strip():
        return 0  # an unused spare: the parent closed our stdin
    writer = _MessageWriter(out)
    try:
        path, stages, options = _read_request(line)
    except (ValueError, KeyError, TypeError) as exc:
        writer.send(
            {
                "type": "error",
                "kind": "request",
                "message": f"Bad request to the funnel worker: {exc}",
            }
        )
        writer.close()
        return 2

    cancel = CancelToken()
    # SIGTERM (a system shutdown, the parent's own terminate) stops the run cleanly too. The
    # handler runs on the main thread, which may hold the token's lock: cancel from elsewhere.
    signal.signal(
        signal.SIGTERM, lambda *_: threading.Thread(target=cancel.cancel, daemon=True).start()
    )
    threading.Thread(
        target=_watch_parent,
        args=(requests, cancel, grace_s),
        name="funnel-child-parent",
        daemon=True,
    ).start()
    writer.send({"type": "started", "pid": os.getpid()})
    from app.funnel.pipeline import run_funnel

    try:
        report = run_funnel(path, stages, options, progress=writer.event, cancel=cancel)
        writer.send({"type": "report", "report": report.to_dict()})
        code = 0
    except UserError as exc:
        writer.send(
            {
                "type": "error",
                "kind": "user",
                "message": exc.message,
                "hint": exc.hint,
                "where": exc.where,
            }
        )
        code = 1
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which shows it without a traceback
        import traceback

        sandbox_unavailable = _sandbox_unavailable_type()
        if sandbox_unavailable is not None and isinstance(exc, sandbox_unavailable):
            writer.send(
                {
                    "type": "error",
                    "kind": "sandbox-unavailable",
                    "message": exc.message,
                    "hint": exc.hint,
                }
            )
        else:
            writer.send(
                {
                    "type": "error",
                    "kind": "internal",
                    "message": f"{type(exc).__name__}: {exc}",
                    "detail": traceback.format_exc(limit=20),
                }
            )
        code = 1
    writer.close()
    return code


def _sandbox_unavailable_type() -> type[Exception] | None:
    try:
        from app.sandbox.base import SandboxUnavailable
    except ImportError:
        return None
    return SandboxUnavailable


if __name__ == "__main__":
    sys.exit(main())
