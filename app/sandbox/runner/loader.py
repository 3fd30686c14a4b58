"""The grader loader: the only process that imports an author's grader (stdlib only).

The fork server starts it by fork + exec of a fresh interpreter, so nothing of the server's
memory (the batch's signing key above all) is in it, with a clean environment, /dev/null as
stdin, a diagnostics pipe as stdout and stderr, and one more descriptor: fd 3, a Unix socket to
the server. It never sees the host's channel. It receives the grader-visible config (built by
the server from an allow-list: no secrets), imports the grader once, then forks one child per
item, which grades into the two pipes the server made for that item (they arrive over the
socket with the item). The server owns every item's deadline, output and result; this process
only forks, reaps and reports. JSON lines both ways:

    server → loader  {"op": "config", "grader": {...}, "kind": ..., "pack": ..., "limits": {...}}
                     {"op": "grade", "seq": n, "task": ..., "response": ..., "scratch": path}
                     (with the item's output and result pipes attached as SCM_RIGHTS)
    loader → server  {"op": "ready", "grader_error": str | null}
                     {"op": "exited", "seq": n, "status": wait status}
                     {"op": "failed", "seq": n, "detail": why the child could not be forked}
"""

from __future__ import annotations

import collections
import gc
import json
import os
import selectors
import signal
import socket

from . import grading
from .containment import PR_SET_DUMPABLE, exited_child, kill_group

SOCKET_FD = 3


def main() -> None:
    _harden()
    Loader(socket.socket(fileno=SOCKET_FD)).run()
    os._exit(0)  # no atexit hooks of the grader's


def _harden() -> None:
    """The OOM killer's first choice (every grading inherits this), then not dumpable: a grading
    cannot read this process's memory or descriptors, nor ptrace it."""
    try:
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        os.write(fd, b"1000")
        os.close(fd)
    except OSError:
        pass
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError, ImportError):  # not Linux
        pass


class Loader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.setblocking(True)
        self.inbox = bytearray()
        self.fds: collections.deque[int] = collections.deque()
        self.children: dict[int, int] = {}  # pid -> seq
        self.config: dict = {}
        self.grade = None
        self.grader_error: str | None = None

    def run(self) -> None:
        config = self._first_message()
        if config is None:
            return
        self.config = config
        self.grade, self.grader_error = grading.load_grader(config)
        # Shared with every grading copy-on-write; freezing it keeps the garbage collector from
        # touching (and so copying) those pages in each child.
        gc.collect()
        gc.freeze()
        wake_r, wake_w = os.pipe()
        for fd in (wake_r, wake_w):
            os.set_blocking(fd, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        self._send({"op": "ready", "grader_error": self.grader_error})
        selector = selectors.DefaultSelector()
        selector.register(self.sock, selectors.EVENT_READ, "server")
        selector.register(wake_r, selectors.EVENT_READ, "wake")
        while True:
            for key, _ in selector.select():
                if key.data == "server" and not self._receive():
                    return  # the server is gone or ending: its gradings are its own business
                if key.data == "wake":
                    _drain(wake_r)
            self._reap()

    def _first_message(self) -> dict | None:
        while True:
            newline = self.inbox.find(b"\n")
            if newline >= 0:
                message = json.loads(bytes(self.inbox[:newline]))
                del self.inbox[: newline + 1]
                return message
            chunk, fds, _flags, _address = socket.recv_fds(self.sock, 1 << 16, 16)
            self.fds.extend(fds)
            if not chunk:
                return None
            self.inbox.extend(chunk)

    def _receive(self) -> bool:
        try:
            data, fds, _flags, _address = socket.recv_fds(self.sock, 1 << 16, 16)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False
        self.fds.extend(fds)  # they arrive with the first byte of their line, so in line order
        if not data:
            return False
        self.inbox.extend(data)
        while True:
            newline = self.inbox.find(b"\n")
            if newline < 0:
                return True
            message = json.loads(bytes(self.inbox[:newline]))
            del self.inbox[: newline + 1]
            if message.get("op") == "grade":
                self._spawn(message)

    def _spawn(self, item: dict) -> None:
        seq = item["seq"]
        if len(self.fds) < 2:
            self._send({"op": "failed", "seq": seq, "detail": "its pipes did not arrive"})
            return
        out_w, res_w = self.fds.popleft(), self.fds.popleft()
        try:
            pid = os.fork()
        except OSError as exc:
            for fd in (out_w, res_w):
                os.close(fd)
            detail = f"fork failed ({exc.strerror}): the sandbox is out of processes or memory"
            self._send({"op": "failed", "seq": seq, "detail": detail})
            return
        if pid == 0:
            try:
                grading.grade_item(item, self.grade, self.config, out_w, res_w, self.grader_error)
            finally:
                os._exit(70)
        os.close(out_w)
        os.close(res_w)
        self.children[pid] = seq

    def _reap(self) -> None:
        exits = []
        while (pid := exited_child()) is not None:
            seq = self.children.pop(pid, None)
            if seq is not None:
                kill_group(pid)  # what the grading left running in its session
            _, status = os.waitpid(pid, 0)
            if seq is not None:
                exits.append({"op": "exited", "seq": seq, "status": status})
        if exits:
            self._send(*exits)

    def _send(self, *messages: dict) -> None:
        data = "".join(json.dumps(m, separators=(",", ":")) + "\n" for m in messages).encode()
        try:
            self.sock.sendall(data)
        except OSError:  # the server is gone
            os._exit(0)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except OSError:
        pass
