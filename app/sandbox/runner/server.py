"""The fork server that runs inside the sandbox (stdlib only).

Protocol (JSON lines; host → server on stdin, server → host on stdout, every server line signed
with the per-batch token so nothing else in the sandbox can forge results):

    → {"op": "config", "token": hex, "grader": {...}, "kind": "qa", "jobs": 2, "pack": "/pack"|null,
       "scratch": "/tmp/gx", "limits": {...}, "private_tmp": true}
    ← {"op": "ready", "python": "3.11.2", "pid": 1, "grader_error": null, "hardening": {...}}
    → {"op": "grade", "key": "ref:t1:0", "task": {...}, "response": "..."}   (any number)
    ← {"op": "start", "key": ...}
    ← {"op": "result", "key": ..., "raw": ... | "error": kind, "detail": ..., "duration_s": ...}
    → {"op": "end"}   (finish what is queued, then exit)

This process holds the token and the host's channel and never runs the author's code. The
grader is imported by the loader (loader.py), a fresh interpreter started before any author code
runs, which never sees either and forks one child per item. The server makes each item's output
and result pipes, hands them to the loader with the item, and owns everything else: the item's
wall-clock deadline (SIGKILL to its whole group), the output cap, reading and checking its
result, and, after each item, removing stray processes and files, so nothing a grading does
survives into the next one.

A grading may kill the loader. Gradings still running are then adopted (the server is PID 1 or
a subreaper) and finish as usual, the ones not yet started are queued again for a fresh loader;
after MAX_STRIKES deaths with no grading finished in between, or a loader that dies before it
has loaded the grader, every grading left ends as a `sandbox` error.
"""

from __future__ import annotations

import collections
import json
import os
import selectors
import signal
import sys
import time

from . import wire
from .containment import (
    apply_rlimits,
    bury,
    exited_child,
    harden_self,
    kill_group,
    parent_of,
    process_state,
    remove_tree,
    sweep_strays,
    sweep_tmp,
)
from .items import RESULT_CAP, Active, outcome
from .loader_link import LoaderLink, grader_view

RUNNER_DIR = os.path.dirname(os.path.abspath(__file__))
KILL_GRACE_S = 2.0  # after a kill, how long to wait for the loader to report the exit
MAX_STRIKES = 3
RESTART_PAUSE_S = 0.2  # between two loader starts
CLEAN_PATH = "/usr/local/bin:/usr/bin:/bin"


def main() -> None:
    Server().run()


class Server:
    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self.inbox = bytearray()
        self.queue: collections.deque = collections.deque()
        self.active: dict[int, Active] = {}  # by sequence number
        self.by_fd: dict[int, tuple[Active, str]] = {}
        self.by_pid: dict[int, Active] = {}
        self.config: dict | None = None
        self.token = b""
        self.loader: LoaderLink | None = None
        self.loader_failure: str | None = None  # once set: no new loader, every item left fails
        self.strikes = 0  # loaders lost since a grading last finished
        self.restart_at = 0.0  # no new loader before this (monotonic clock)
        self.orphans = False  # some gradings may still be orphaned
        self.ready_sent = False
        self.grader_error: str | None = None
        self.ending = False
        self.stdin_open = True
        self.counter = 0
        self.hardening: dict = {}
        self.outbox = bytearray()  # flushed once per loop turn: fewer, larger writes to the host
        self.jobs, self.timeout_s, self.output_cap = 1, 10.0, 1 << 20
        self.grader_type, self.scratch_root, self.private_tmp = None, "/tmp/gx", False

    # -- the loop ------------------------------------------------------------------------

    def run(self) -> None:
        self._setup()
        while True:
            self._maintain_loader()
            self._dispatch()
            if self.ready_sent and self.ending and not self.queue and not self.active:
                break
            if not self.stdin_open and not self.ending:  # the host went away: stop everything
                self._die()
            self._flush()
            self._flush_loader()
            for key, events in self.selector.select(self._timeout()):
                self._on_event(key, events)
            self._reap()
            self._check_orphans()
            self._enforce_deadlines()
        self._flush()
        if self.loader is not None:
            _kill(self.loader.pid)
        sweep_strays(os.getpid(), set())
        sys.exit(0)

    def _setup(self) -> None:
        os.set_blocking(0, False)
        self.hardening = harden_self()
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGTERM, lambda *_: self._die())
        self.selector.register(0, selectors.EVENT_READ, "stdin")
        self.selector.register(wake_r, selectors.EVENT_READ, "wake")

    def _timeout(self) -> float | None:
        moments = [a.deadline if a.grace is None else a.grace for a in self.active.values()]
        if self.loader is None and self.queue and self.loader_failure is None:
            moments.append(self.restart_at)  # a fresh loader is due
        return max(0.0, min(moments) - time.monotonic()) if moments else None

    def _on_event(self, key, events: int) -> None:
        if key.data == "stdin":
            if not self._read_stdin():
                self.selector.unregister(0)
                self.stdin_open = False
        elif key.data == "wake":
            _drain(key.fd)
        elif key.data == "loader":
            if events & selectors.EVENT_WRITE:
                self._flush_loader()
            if events & selectors.EVENT_READ:
                self._read_loader()
        elif key.data == "diag":
            if self.loader is not None and not self.loader.read_diag():
                self._unregister(key.fd)
        else:
            active, which = self.by_fd.get(key.fd, (None, ""))
            self._read_child(key.fd)
            if which == "res" and active.res_eof and active.seq in self.active:
                self._finish_if_exited(active)

    # -- the host ------------------------------------------------------------------------

    def _read_stdin(self) -> bool:
        try:
            chunk = os.read(0, 1 << 20)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        self.inbox.extend(chunk)
        while True:
            newline = self.inbox.find(b"\n")
            if newline < 0:
                break
            line = bytes(self.inbox[:newline])
            del self.inbox[: newline + 1]
            if line.strip():
                self._handle(json.loads(line))
        return True

    def _handle(self, message: dict) -> None:
        op = message.get("op")
        if op == "config":
            self._configure(message)
        elif op == "grade":
            self.queue.append(message)
        elif op == "end":
            self.ending = True

    def _configure(self, config: dict) -> None:
        if self.config is not None:
            return
        self.config = config
        self.token = bytes.fromhex(config["token"])
        grader = config.get("grader") or {}
        limits = config.get("limits") or {}
        self.jobs = max(1, int(config.get("jobs", 1)))
        self.timeout_s = float(grader.get("timeout_s", 10.0))
        self.output_cap = int(limits.get("output_bytes", 1 << 20))
        self.grader_type = grader.get("type")
        self.scratch_root = config.get("scratch") or "/tmp/gx"
        self.private_tmp = bool(config.get("private_tmp"))
        os.makedirs(self.scratch_root, mode=0o700, exist_ok=True)
        apply_rlimits(limits, per_item=False)
        os.environ.clear()
        os.environ.update({"PATH": CLEAN_PATH, "LANG": "C.UTF-8"})
        self._start_loader()

    def _send_ready(self) -> None:
        self.ready_sent = True
        self._send(
            {
                "op": "ready",
                "python": sys.version.split()[0],
                "pid": os.getpid(),
                "grader_error": self.grader_error,
                "hardening": self.hardening,
            }
        )
        self._flush()

    def _send(self, message: dict) -> None:
        self.outbox.extend(wire.encode_signed(self.token, message))
        if len(self.outbox) > 1 << 16:
            self._flush()

    def _flush(self) -> None:
        view = memoryview(bytes(self.outbox))
        self.outbox.clear()
        while view:
            try:
                view = view[os.write(1, view) :]
            except BlockingIOError:
                time.sleep(0.001)
            except BrokenPipeError:
                self._die()

    def _die(self) -> None:
        for active in list(self.active.values()):
            self._kill(active)
        if self.loader is not None:
            _kill(self.loader.pid)
        sweep_strays(os.getpid(), set())
        os._exit(3)

    # -- the loader ----------------------------------------------------------------------

    def _start_loader(self) -> None:
        env = {
            "PATH": CLEAN_PATH,
            "LANG": "C.UTF-8",
            "HOME": self.scratch_root,
            "TMPDIR": self.scratch_root,
        }
        try:
            link = LoaderLink.start(sys.executable, RUNNER_DIR, env)
        except OSError as exc:  # out of processes (a fork bomb next door?) or memory
            how = f"could not be started: {exc.strerror or exc}"
            if not self.ready_sent:
                self._give_up(f"the grader's loader process {how}")
            else:
                self._strike(how, "")
            return
        self.loader = link
        self.selector.register(link.sock, selectors.EVENT_READ, "loader")
        self.selector.register(link.diag_fd, selectors.EVENT_READ, "diag")
        link.send(grader_view(self.config or {}))  # an allow-list: never the token
        self._flush_loader()

    def _maintain_loader(self) -> None:
        """A fresh loader when the last one died and there is work for it."""
        if self.config is None or self.loader is not None or self.loader_failure is not None:
            return
        if self.queue and time.monotonic() >= self.restart_at:
            self.restart_at = time.monotonic() + RESTART_PAUSE_S
            self._start_loader()

    def _flush_loader(self) -> None:
        link = self.loader
        if link is None or link.eof:
            return
        try:
            link.flush()
        except OSError:  # it is gone: its exit comes through _reap
            self._abandon_loader("")
            return
        if link.writing != bool(link.outbox):  # watch for room only while something waits
            link.writing = bool(link.outbox)
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if link.writing else 0)
            self.selector.modify(link.sock, events, "loader")

    def _read_loader(self) -> None:
        link = self.loader
        if link is None:
            return
        for message in link.receive():
            self._on_loader_message(message)
        if link.eof:
            self._abandon_loader("")  # its exit status (or link.why) says why

    def _abandon_loader(self, why: str) -> None:
        """Stuck, closed its end or broke the protocol: kill it; _reap takes it from there."""
        link = self.loader
        if not link.killed:
            link.eof, link.killed, link.why = True, True, why or link.why
            self._unregister(link.sock)
            _kill(link.pid)

    def _on_loader_message(self, message: dict) -> None:
        op = message.get("op")
        if op == "ready":
            self._loader_ready(message.get("grader_error"))
            return
        seq = message.get("seq")
        active = self.active.get(seq) if type(seq) is int else None
        if active is None or active.orphaned:
            return  # not one of this loader's gradings: never trusted
        if op == "exited":
            status = message.get("status")
            if type(status) is not int or not 0 <= status <= 0xFFFF:
                active.fail("invalid-reward", "the loader's report of this grading is malformed")
                status = None
            active.status = status
            self._finish(active)
        elif op == "failed":
            detail = message.get("detail")
            if type(detail) is str:
                active.fail("crash", f"the grading could not start: {detail[:300]}")
            else:
                active.fail("invalid-reward", "the loader's report of this grading is malformed")
            self._finish(active)

    def _loader_ready(self, grader_error) -> None:
        link = self.loader
        if link is None or link.ready:
            return
        link.ready = True
        if grader_error is not None and type(grader_error) is not str:
            grader_error = "the grader's loader reported a malformed import error"
        if not self.ready_sent:
            self.grader_error = grader_error[:8000] if grader_error else None
            self._send_ready()

    def _loader_exited(self, status: int) -> None:
        link, self.loader = self.loader, None
        for message in link.receive():  # what it said before it died still counts
            self._on_loader_message(message)
        link.read_diag()
        self._unregister(link.sock)
        self._unregister(link.diag_fd)
        link.close()
        how = link.why or _describe(status)
        if not self.ready_sent:  # the first import killed it: so would every other
            self._give_up(
                f"the grader's loader process ended before the grader was loaded ({how})"
                + link.diagnostics()
            )
        else:
            self._strike(how, link.diagnostics())
        for active in self.active.values():
            active.orphaned = True
        self.orphans = bool(self.active)
        self._check_orphans()

    def _strike(self, how: str, diagnostics: str) -> None:
        """A loader lost once the grader had loaded; enough of them in a row end the batch."""
        self.strikes += 1
        if self.strikes >= MAX_STRIKES:
            self._give_up(
                f"the grader's loader process was lost {self.strikes} times with no grading "
                f"finished in between (last: {how}); the gradings left could not run" + diagnostics
            )

    def _give_up(self, detail: str) -> None:
        self.loader_failure = detail
        if not self.ready_sent:
            self._send_ready()

    # -- items ---------------------------------------------------------------------------

    def _dispatch(self) -> None:
        if self.loader_failure is not None:
            while self.queue:
                self._fail_unrun(self.queue.popleft(), self.loader_failure)
            return
        link = self.loader
        while link is not None and link.ready and not link.eof:
            if not self.queue or len(self.active) >= self.jobs:
                return
            self._hand_over(link, self.queue.popleft())

    def _hand_over(self, link: LoaderLink, item: dict) -> None:
        self.counter += 1
        scratch = os.path.join(self.scratch_root, f"item-{self.counter}")
        os.makedirs(scratch, mode=0o700, exist_ok=True)
        out_r, out_w = os.pipe()
        res_r, res_w = os.pipe()
        active = Active(self.counter, item, scratch, self.timeout_s, out_r, res_r)
        self.active[active.seq] = active
        for fd, which in ((out_r, "out"), (res_r, "res")):
            os.set_blocking(fd, False)
            self.by_fd[fd] = (active, which)
            self.selector.register(fd, selectors.EVENT_READ, "child")
        self._send({"op": "start", "key": item["key"]})
        grade = {"op": "grade", "seq": active.seq, "scratch": scratch}
        grade.update(task=item.get("task"), response=item.get("response"))
        link.send(grade, (out_w, res_w))

    def _fail_unrun(self, item: dict, detail: str) -> None:
        self._send({"op": "start", "key": item["key"]})
        self._send(
            {
                "op": "result",
                "key": item["key"],
                "duration_s": 0.0,
                "error": "sandbox",
                "detail": detail,
            }
        )

    def _read_child(self, fd: int, drain: bool = False) -> None:
        while fd in self.by_fd:
            active, which = self.by_fd[fd]
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self._close_fd(fd)
                if which == "res":
                    active.res_eof = True
                    self._note_pid(active)
                return
            if which == "res":
                active.result.extend(chunk)
                self._note_pid(active)
                if len(active.result) > RESULT_CAP and active.error is None:
                    active.fail("output-too-large", "the grader's result is larger than 4 MiB")
                    self._stop(active)
            else:
                active.add_output(chunk)
                if active.out_len > self.output_cap and active.error is None:
                    kib = self.output_cap // 1024
                    active.fail(
                        "output-too-large",
                        f"the grader printed more than {kib} KiB; it was stopped",
                    )
                    self._stop(active)
            if not drain:
                return

    def _note_pid(self, active: Active) -> None:
        pid = active.take_pid()
        if pid is None:
            return
        loader = self.loader.pid if self.loader is not None else None
        if pid in (os.getpid(), loader) or pid in self.by_pid:  # its family is checked on a kill
            active.fail("invalid-reward", "the grading's process announced a pid not its own")
            return
        active.pid = pid
        self.by_pid[pid] = active

    def _in_family(self, pid: int) -> bool:
        """Is `pid` a grading's process: a child of the loader, or adopted by us? A pid that no
        longer exists names at most its own orphaned group (pids stay taken while groups do)."""
        parent = parent_of(pid)
        if parent is None:
            return True
        return parent == os.getpid() or (self.loader is not None and parent == self.loader.pid)

    def _close_fd(self, fd: int) -> None:
        entry = self.by_fd.pop(fd, None)
        if entry is not None:
            self._unregister(fd)
            os.close(fd)
            # The number may soon name another item's pipe: this item must not touch it again.
            if entry[1] == "res":
                entry[0].res_fd = -1
            else:
                entry[0].out_fd = -1

    def _unregister(self, fileobj) -> None:
        try:
            self.selector.unregister(fileobj)
        except (KeyError, ValueError):
            pass

    def _kill(self, active: Active) -> None:
        if active.pid is not None and self._in_family(active.pid):
            kill_group(active.pid)

    def _stop(self, active: Active) -> None:
        """Kill it now; if no exit is reported within the grace period, finish it anyway."""
        self._read_child(active.res_fd, drain=True)  # its pid line may not have been read yet
        self._kill(active)
        if active.grace is None:
            active.grace = time.monotonic() + KILL_GRACE_S

    def _reap(self) -> None:
        while (pid := exited_child()) is not None:
            if self.loader is not None and pid == self.loader.pid:
                self._loader_exited(os.waitpid(pid, 0)[1])
                continue
            active = self._adopted(pid)
            if active is not None:
                kill_group(pid)  # grandchildren left in the item's session
            _, status = os.waitpid(pid, 0)
            if active is not None:
                active.status = status
                self._finish(active)
            # anything else was a stray (a daemon re-parented to us): reaped, nothing to report

    def _adopted(self, pid: int) -> Active | None:
        """The grading whose process `pid` is (a child of ours since its loader died)."""
        if pid not in self.by_pid:
            for active in list(self.active.values()):
                if active.pid is None:
                    self._read_child(active.res_fd, drain=True)
        return self.by_pid.get(pid)

    def _check_orphans(self) -> None:
        """Gradings whose loader died: adopted ones go on, unstarted ones are queued again."""
        if not self.orphans:
            return
        self.orphans = any(a.orphaned for a in self.active.values())
        for active in list(self.active.values()):
            if not active.orphaned:
                continue
            self._read_child(active.res_fd, drain=True)
            if active.pid is None:
                if active.announced:  # announced itself malformed: it ends as that
                    self._stop(active)
                elif active.res_eof:  # never started: not its fault
                    self._requeue(active)
                continue
            try:
                os.waitid(os.P_PID, active.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
                active.orphaned = False  # ours now: _reap sees it end
            except ChildProcessError:  # reaped by the dead loader, or not re-parented to us
                self._kill(active)
                self._finish(active)

    def _requeue(self, active: Active) -> None:
        for fd in (active.out_fd, active.res_fd):
            self._close_fd(fd)
        del self.active[active.seq]
        remove_tree(active.scratch)
        self.queue.appendleft(active.item)

    def _finish_if_exited(self, active: Active) -> None:
        """Finish as soon as the result is complete and the grading's process has exited (its
        leftovers are then ours to sweep), without waiting for the loader to report the exit:
        the next grading can start one hop sooner."""
        if active.pid is None or active.grace is not None or process_state(active.pid) != "Z":
            return
        try:
            complete = isinstance(json.loads(bytes(active.result)), dict)
        except (ValueError, RecursionError):
            complete = False
        if complete:
            self._finish(active)

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for active in list(self.active.values()):
            if active.grace is not None:
                if now >= active.grace:  # killed, and no exit was ever reported
                    self._finish(active)
            elif now >= active.deadline:
                self._read_child(active.res_fd, drain=True)
                if not active.announced and not active.orphaned and self.loader is not None:
                    # Never started: the loader is stuck (a grader's thread can hold it). A fresh
                    # one gets this grading again; _reap counts the loss.
                    self._abandon_loader("it started no grading within timeout_s")
                    active.deadline = now + KILL_GRACE_S
                    continue
                active.fail(
                    "timeout",
                    f"the grading took longer than timeout_s = {self.timeout_s:g} s and was killed",
                )
                self._stop(active)

    def _finish(self, active: Active) -> None:
        for fd in (active.res_fd, active.out_fd):  # drain what is already written
            self._read_child(fd, drain=True)
            self._close_fd(fd)
        del self.active[active.seq]
        self.by_pid.pop(active.pid, None)
        message = {
            "op": "result",
            "key": active.key,
            "duration_s": round(time.monotonic() - active.started, 6),
        }
        message.update(outcome(active, self.grader_type))
        self.strikes = 0
        keep = {a.pid for a in self.active.values() if a.pid is not None}
        if self.loader is not None:
            keep.add(self.loader.pid)  # and so the gradings it has not announced yet
        bury(sweep_strays(os.getpid(), keep))
        remove_tree(active.scratch)
        if self.private_tmp and os.getpid() == 1:
            # Only ever inside a private namespace (container or bubblewrap), where this server
            # is PID 1 and /tmp is a fresh tmpfs of its own: never on a shared machine's /tmp.
            sweep_tmp(self.scratch_root, {a.scratch for a in self.active.values()})
        self._send(message)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except OSError:
        pass


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return f"killed by {name}"
    return f"exit status {os.WEXITSTATUS(status) if os.WIFEXITED(status) else status}"


if __name__ == "__main__":
    main()
