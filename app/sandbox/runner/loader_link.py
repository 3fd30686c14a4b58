"""The fork server's end of the grader loader (stdlib only; the other end is loader.py).

`LoaderLink.start` forks and execs a fresh interpreter running the loader: a clean environment,
/dev/null as stdin, a pipe the server reads (a capped tail, for diagnostics) as stdout and
stderr, fd 3 one end of a Unix socket pair, every other descriptor closed. Writes to the loader
never block the server (an outbox flushed when the socket is writable); reads never trust it
(lines are capped, malformed ones dropped, every field is checked by the server).
"""

from __future__ import annotations

import collections
import json
import os
import socket

from .loader import SOCKET_FD

MAX_LINE = 1 << 20  # the loader's messages are small; a longer line means it is broken
DIAG_TAIL = 4000
# What the grader may know of the batch's config: never the token, nothing about the host.
GRADER_FIELDS = (
    "type",
    "kind",
    "mode",
    "tolerance",
    "normalize",
    "entry",
    "reward_range",
    "pass_threshold",
    "timeout_s",
    "criteria",  # a rubric's criteria (names and functions; judge criteria are skipped)
)
ITEM_LIMITS = ("cpu_s", "address_space_bytes")


def grader_view(config: dict) -> dict:
    """The config the loader (and so the grader) gets, built field by field from an allow-list."""
    grader = config.get("grader") if isinstance(config.get("grader"), dict) else {}
    limits = config.get("limits") if isinstance(config.get("limits"), dict) else {}
    pack = config.get("pack")
    return {
        "op": "config",
        "grader": {name: grader[name] for name in GRADER_FIELDS if name in grader},
        "kind": str(config.get("kind", "")),
        "pack": pack if isinstance(pack, str) else None,
        "limits": {name: limits[name] for name in ITEM_LIMITS if name in limits},
    }


def launch_code(runner_dir: str) -> str:
    """`python -c` code that imports the runner package from `runner_dir` by path (never via
    sys.path, where its modules could shadow others) and runs the loader."""
    init = os.path.join(runner_dir, "__init__.py")
    return (
        "import importlib.util, sys; "
        f"spec = importlib.util.spec_from_file_location('runner', {init!r}, "
        f"submodule_search_locations=[{runner_dir!r}]); "
        "module = importlib.util.module_from_spec(spec); sys.modules['runner'] = module; "
        "spec.loader.exec_module(module); from runner.loader import main; main()"
    )


class LoaderLink:
    def __init__(self, pid: int, sock: socket.socket, diag_fd: int) -> None:
        self.pid, self.sock, self.diag_fd = pid, sock, diag_fd
        self.outbox: collections.deque[tuple[bytes, list[int]]] = collections.deque()
        self.inbox = bytearray()
        self.diag = bytearray()
        self.ready = False
        self.writing = False  # the selector also watches for room to write
        self.eof = False  # the socket ended (or the loader broke the protocol)
        self.killed = False  # by the server
        self.why = ""  # what it did wrong, when its exit status would not say

    @classmethod
    def start(cls, python: str, runner_dir: str, env: dict[str, str]) -> LoaderLink:
        if not python:
            raise OSError("no Python interpreter path (sys.executable is empty)")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        diag_r, diag_w = os.pipe()
        null = os.open(os.devnull, os.O_RDWR)
        argv = [python, "-I", "-B", "-c", launch_code(runner_dir)]
        try:
            pid = os.fork()
        except OSError:
            for fd in (diag_r, diag_w, null):
                os.close(fd)
            ours.close()
            theirs.close()
            raise
        if pid == 0:
            try:
                _exec(argv, env, null, diag_w, theirs.fileno())
            finally:
                os._exit(127)
        for fd in (null, diag_w):
            os.close(fd)
        theirs.close()
        ours.setblocking(False)
        os.set_blocking(diag_r, False)
        return cls(pid, ours, diag_r)

    def send(self, message: dict, fds: tuple[int, ...] = ()) -> None:
        """Queue a line; `fds` travel with its first byte and are closed here once sent."""
        data = (json.dumps(message, ensure_ascii=True, separators=(",", ":")) + "\n").encode()
        self.outbox.append((data, list(fds)))

    def flush(self) -> None:
        """Send what the socket takes now; OSError when the loader is gone."""
        while self.outbox:
            data, fds = self.outbox[0]
            try:
                sent = socket.send_fds(self.sock, [data], fds) if fds else self.sock.send(data)
            except (BlockingIOError, InterruptedError):
                return
            for fd in fds:
                os.close(fd)
            if sent < len(data):
                self.outbox[0] = (data[sent:], [])
                return
            self.outbox.popleft()

    def receive(self) -> list[dict]:
        """The complete messages that have arrived; sets `eof` when the loader closed its end
        or sent something no loader would."""
        while not self.eof:
            try:
                chunk = self.sock.recv(1 << 16)  # plain recv: descriptors it passes are dropped
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                chunk = b""
            self.eof = not chunk
            self.inbox.extend(chunk)
            if len(self.inbox) > MAX_LINE and self.inbox.find(b"\n") < 0:
                self.inbox.clear()
                self.eof, self.why = True, "it sent an oversized line"
        messages = []
        while True:
            newline = self.inbox.find(b"\n")
            if newline < 0:
                return messages
            line = bytes(self.inbox[:newline])
            del self.inbox[: newline + 1]
            try:
                message = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(message, dict):
                messages.append(message)

    def read_diag(self) -> bool:
        """Keep the tail of what the loader printed; False once it has ended."""
        while True:
            try:
                chunk = os.read(self.diag_fd, 1 << 16)
            except BlockingIOError:
                return True
            except OSError:
                chunk = b""
            if not chunk:
                return False
            self.diag.extend(chunk)
            del self.diag[:-DIAG_TAIL]

    def diagnostics(self) -> str:
        tail = bytes(self.diag).decode("utf-8", "replace").strip()
        return f"\nthe loader said:\n{tail[-1500:]}" if tail else ""

    def close(self) -> None:
        for _data, fds in self.outbox:  # never sent: the item's pipes must see their end
            for fd in fds:
                os.close(fd)
        self.outbox.clear()
        self.sock.close()
        os.close(self.diag_fd)


def _exec(argv: list[str], env: dict[str, str], null: int, diag_w: int, sock_fd: int) -> None:
    """In the forked child: only the chosen descriptors survive into the loader."""
    os.dup2(null, 0)
    os.dup2(diag_w, 1)
    os.dup2(diag_w, 2)
    os.dup2(sock_fd, SOCKET_FD)  # after 0-2: it may be one of their sources
    for fd in range(SOCKET_FD + 1):
        os.set_inheritable(fd, True)
    os.closerange(SOCKET_FD + 1, 65536)
    os.execve(argv[0], argv, env)
