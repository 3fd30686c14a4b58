"""The client against a hostile server: no token in clear, no unbounded replies or feeds.

The hostile server is a small real HTTP server on 127.0.0.1 (standard library), so the client's
real httpx stack reads its replies.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.errors import UserError
from app.sync.client import PlatformClient
from app.sync.errors import GarbledResponse


class HostileHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    pages = itertools.count()

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass

    def _json(self, data: object) -> None:
        body = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.startswith("/v1/endless"):
            # Chunked JSON that never ends (until the client hangs up).
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"[" + b"0," * 32 * 1024
            try:
                while True:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                return
        elif self.path.startswith("/v1/huge-declared"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(10**12))
            self.end_headers()
            self.wfile.write(b"[]")
        elif self.path.startswith("/v1/changes"):
            # Always one more (empty) page, each with a fresh cursor.
            self._json({"changes": [], "next_cursor": str(next(self.pages)), "has_more": True})
        elif self.path.startswith("/v1/list"):
            self._json({"items": [1], "next_cursor": f"c{next(self.pages)}"})
        else:
            self._json({"ok": True})


@pytest.fixture
def hostile():
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostileHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_plain_http_to_another_host_is_refused_without_opt_in():
    from app.sync.platform import validate_server_url

    with pytest.raises(UserError) as info:
        validate_server_url("http://platform.example.org")
    assert "unencrypted" in info.value.message
    assert "https://platform.example.org" in info.value.hint
    assert "--allow-insecure-http" in info.value.hint
    assert validate_server_url("http://platform.example.org", allow_insecure_http=True)
    for local in ("http://127.0.0.1:8000", "http://localhost:9", "http://[::1]:80"):
        assert validate_server_url(local) == local
    assert validate_server_url("https://platform.example.org")


def test_plain_http_server_from_environment_needs_the_opt_in(gauntlet_home, monkeypatch):
    from app.sync.platform import connect

    monkeypatch.setenv("GAUNTLET_SERVER", "http://10.1.2.3:8000")
    monkeypatch.setenv("GAUNTLET_TOKEN", "gst_secret")
    with pytest.raises(UserError, match="unencrypted"):
        connect()
    monkeypatch.setenv("GAUNTLET_ALLOW_INSECURE_HTTP", "1")
    assert connect().url == "http://10.1.2.3:8000"


def test_saved_plain_http_server_is_refused_unless_opted_in_at_login(gauntlet_home, monkeypatch):
    from app.sync.platform import configured_insecure_http, connect, save_server

    monkeypatch.setenv("GAUNTLET_TOKEN", "unused")
    save_server("http://10.1.2.3:8000")  # e.g. written by an older version
    with pytest.raises(UserError, match="unencrypted"):
        connect()
    save_server("http://10.1.2.3:8000", allow_insecure_http=True)
    assert configured_insecure_http()


def test_login_refuses_plain_http_to_another_host(gauntlet_home):
    import argparse

    from app.commands.login import run_login

    with pytest.raises(UserError, match="unencrypted"):
        run_login(argparse.Namespace(server="http://192.0.2.7", allow_insecure_http=False))


def get(url: str, path: str, **options):
    async def go():
        async with PlatformClient(url, None, timeout=10.0, **options) as client:
            return await client.get(path)

    return asyncio.run(go())


def test_an_endless_reply_is_cut_off_at_the_size_cap(hostile):
    with pytest.raises(GarbledResponse) as info:
        get(hostile, "/v1/endless", max_body_bytes=1024 * 1024)
    assert "too large" in info.value.message and "1,048,576" in info.value.message


def test_a_reply_declaring_a_huge_length_is_refused_before_reading(hostile):
    with pytest.raises(GarbledResponse, match="too large"):
        get(hostile, "/v1/huge-declared")
    assert get(hostile, "/v1/ok").data == {"ok": True}


def test_a_feed_that_always_has_more_stops_after_the_page_cap(hostile, open_session):
    session = open_session(hostile, None)
    session.engine.max_feed_pages = 25

    async def pull():
        try:
            return await session.engine.pull()
        finally:
            await session.client.aclose()

    with pytest.raises(GarbledResponse) as info:
        asyncio.run(asyncio.wait_for(pull(), timeout=30))
    assert "did not end after 25 pages" in info.value.message


def test_a_list_that_never_ends_stops_after_the_page_cap(hostile):
    async def go():
        async with PlatformClient(hostile, None, timeout=10.0, max_pages=7) as client:
            return [page async for page in client.paginate("/v1/list")]

    with pytest.raises(GarbledResponse, match="did not end after 7 pages"):
        asyncio.run(go())
