"""The funnel worker process: reads one run request on stdin, runs the funnel, and streams its
progress and report to the parent on stdout (protocol: app/funnel/child_protocol.py). Started as
`python -m app.funnel.child` (or the frozen app's `--funnel-child`); the parent's side is
app/funnel/child.py.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from app.errors import UserError
from app.findings import Stage
from app.funnel.child_protocol import (
    DEFAULT_GRACE_S,
    PROTOCOL,
    encode_message,
    event_to_dict,
    options_from_dict,
)
from app.funnel.pipeline import ALL_STAGES, FunnelOptions
from app.progress import CancelToken, ProgressEvent

log = logging.getLogger(__name__)

# The child sends progress counts at most this often (findings and stage changes go at once).
PROGRESS_INTERVAL_S = 0.03


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
                    self._stream.write(b"".join(encode_message(m) for m in batch))
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

    cancel = _cancel_when_asked(requests, grace_s)
    writer.send({"type": "started", "pid": os.getpid()})
    code = _run(path, stages, options, writer, cancel)
    writer.close()
    return code


def _cancel_when_asked(requests: IO[bytes], grace_s: float) -> CancelToken:
    """The run's cancel token: cancelled by the parent's {"op": "cancel"}, its going away, or
    SIGTERM (a system shutdown, the parent's own terminate)."""
    cancel = CancelToken()
    # The handler runs on the main thread, which may hold the token's lock: cancel from elsewhere.
    signal.signal(
        signal.SIGTERM, lambda *_: threading.Thread(target=cancel.cancel, daemon=True).start()
    )
    threading.Thread(
        target=_watch_parent,
        args=(requests, cancel, grace_s),
        name="funnel-child-parent",
        daemon=True,
    ).start()
    return cancel


def _run(
    path: Path,
    stages: tuple[Stage, ...],
    options: FunnelOptions,
    writer: _MessageWriter,
    cancel: CancelToken,
) -> int:
    """Runs the funnel and sends its report, or what stopped it; returns the exit status."""
    from app.funnel.pipeline import run_funnel

    try:
        report = run_funnel(path, stages, options, progress=writer.event, cancel=cancel)
        writer.send({"type": "report", "report": report.to_dict()})
        return 0
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
        return 1
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which shows it without a traceback
        writer.send(_failure_message(exc))
        return 1


def _failure_message(exc: Exception) -> dict[str, Any]:
    import traceback

    sandbox_unavailable = _sandbox_unavailable_type()
    if sandbox_unavailable is not None and isinstance(exc, sandbox_unavailable):
        return {
            "type": "error",
            "kind": "sandbox-unavailable",
            "message": exc.message,
            "hint": exc.hint,
        }
    return {
        "type": "error",
        "kind": "internal",
        "message": f"{type(exc).__name__}: {exc}",
        "detail": traceback.format_exc(limit=20),
    }


def _sandbox_unavailable_type() -> type[Exception] | None:
    try:
        from app.sandbox.base import SandboxUnavailable
    except ImportError:
        return None
    return SandboxUnavailable
