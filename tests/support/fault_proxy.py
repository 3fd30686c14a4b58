"""A small HTTP/1.1 proxy on 127.0.0.1 that sits in front of the real platform and injects
faults: error statuses, garbled bodies, hangs, dropped connections, and "the server did it but
the reply never arrived". Every request that passes is logged, so tests can count uploads.

    with FaultProxy(upstream_url) as proxy:
        proxy.add(Fault("status", method="PUT", times=2, status=500))
        ... point the client at proxy.url ...
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx


@dataclass
class Fault:
    action: str  # status | garble | html | hang | drop | drop_after | hold_after | none
    method: str | None = None
    path_contains: str | None = None
    times: int = 1  # how many matching requests it hits (-1 = forever)
    skip: int = 0  # let this many matching requests through untouched first
    on_hit: Callable[[], object] | None = (
        None  # run (in a thread) when it hits, e.g. stop the server
    )
    status: int = 500
    seconds: float = 0.0
    released: threading.Event = field(default_factory=threading.Event)
    reached: threading.Event = field(default_factory=threading.Event)
    handled: threading.Event = field(default_factory=threading.Event)  # on_hit has returned

    def matches(self, method: str, path: str) -> bool:
        if self.times == 0:
            return False
        if self.method and self.method != method:
            return False
        if self.path_contains and self.path_contains not in path:
            return False
        if self.skip > 0:
            self.skip -= 1
            return False
        return True


@dataclass
class Seen:
    method: str
    path: str
    outcome: str  # the upstream status, or the fault applied


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self.port = 0
        self._tasks: set[asyncio.Task] = set()
        self._in_flight = 0

    # -- control from the test --------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            for fault in self.faults:
                fault.released.set()
            self.faults.clear()

    def count(self, method: str, path_contains: str = "", outcome: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for s in self.seen
                if s.method == method
                and path_contains in s.path
                and (outcome is None or s.outcome == outcome)
            )

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait until no request is being handled, so counts taken next are final."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._in_flight == 0:
                    return
            time.sleep(0.02)
        raise TimeoutError(f"the fault proxy still handles {self._in_flight} request(s)")

    def start(self) -> FaultProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fault proxy did not start")
        return self

    def stop(self) -> None:
        self.clear()

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._http.aclose()
            await self._loop.shutdown_default_executor()  # on_hit ran in its threads

        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the proxy ----------------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._http = httpx.AsyncClient(timeout=60)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def _fault_for(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    if fault.times > 0:
                        fault.times -= 1
                    return fault
        return None

    def _log(self, method: str, path: str, outcome: str) -> None:
        with self._lock:
            self.seen.append(Seen(method, path, outcome))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                method, target, headers, body = request
                if not await self._handle(method, target, headers, body, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _handle(self, method, target, headers, body, writer) -> bool:
        """Answer one request; False closes the connection."""
        with self._lock:
            self._in_flight += 1
        try:
            return await self._answer(method, target, headers, body, writer)
        finally:
            with self._lock:
                self._in_flight -= 1

    async def _answer(self, method, target, headers, body, writer) -> bool:
        # The upstream is fixed when the request arrives: a request held up by a fault must
        # never reach a server that was started after it (the test could not count it).
        upstream_url = self.upstream
        fault = self._fault_for(method, target)
        action = fault.action if fault else None
        if fault:
            fault.reached.set()
            if fault.on_hit is not None:
                try:
                    await asyncio.get_running_loop().run_in_executor(None, fault.on_hit)
                finally:
                    fault.handled.set()
        if action == "drop":
            self._log(method, target, "dropped")
            return False
        if action == "hang":
            await asyncio.sleep(fault.seconds)
        if action == "status":
            self._log(method, target, str(fault.status))
            problem = {
                "type": "urn:gauntlet:problem:injected",
                "title": "Injected fault",
                "status": fault.status,
                "detail": "injected by the fault proxy",
            }
            await _write(
                writer,
                fault.status,
                {"Content-Type": "application/problem+json"},
                json.dumps(problem).encode(),
            )
            return True
        forward_headers = {
            k: v
            for k, v in headers.items()
            if k.lower() not in ("host", "content-length", "connection")
        }
        try:
            upstream = await self._http.request(
                method, upstream_url + target, headers=forward_headers, content=body
            )
        except httpx.HTTPError:
            self._log(method, target, "upstream-down")
            return False  # like a server that is gone: the connection just closes
        self._log(method, target, action or str(upstream.status_code))
        if action == "drop_after":
            return False
        if action == "hold_after":
            await asyncio.get_running_loop().run_in_executor(None, fault.released.wait, 120)
        content = upstream.content
        out_headers = {
            k: v
            for k, v in upstream.headers.items()
            if k.lower()
            not in ("content-length", "transfer-encoding", "connection", "content-encoding")
        }
        if action == "garble":
            content = content[: max(1, len(content) // 2)] + b"\x00\xff<garbled"
        if action == "html":
            out_headers["content-type"] = "text/html"
            content = b"<html><body>Captive portal: please sign in</body></html>"
            await _write(writer, 200, out_headers, content)
            return True
        await _write(writer, upstream.status_code, out_headers, content)
        return True


async def _read_request(reader: asyncio.StreamReader):
    line = await reader.readline()
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip()] = value.strip()
    length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
    body = await reader.readexactly(length) if length else b""
    return method, target, headers, body


async def _write(
    writer: asyncio.StreamWriter, status: int, headers: dict[str, str], body: bytes
) -> None:
    lines = [f"HTTP/1.1 {status} X"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
