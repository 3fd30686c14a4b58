"""The forward proxy of an agent phase with `network = "allowlist"` (app.sandbox.egress).

Runs inside its own hardened container as `python3 -I -c <this file> RULES PROBE`, so it uses
the standard library only. RULES is a JSON list of [name, is_suffix, [ports]]
(app.envpack.egress_hosts); PROBE is an address in the agent's network, to find the one
address of ours to listen on (not the upstream side). It allows HTTP CONNECT (HTTPS and other
TLS) and plain HTTP with an absolute URL to the listed hosts and ports only, answers 403 with
the reason otherwise, and writes one JSON line per request to LOG for the run's report.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import threading
import time
from urllib.parse import urlsplit

PORT = 3128
LOG = "/logs/egress.jsonl"
LOG_CAP = 2 << 20  # bytes; past it one "log-full" line, then requests go unlogged
HEAD_CAP = 32 << 10  # request line and headers
MAX_CLIENTS = 48  # connections at once (the container's pids limit is above it)
IDLE_S = 120.0  # a tunnel with no traffic for that long is closed
CONNECT_S = 10.0
DROPPED_HEADERS = {"proxy-connection", "proxy-authorization", "connection", "keep-alive", "host"}

_log_lock = threading.Lock()
_log_size = 0


def log(entry: dict) -> None:
    global _log_size
    line = json.dumps({"t": round(time.time(), 3), **entry}) + "\n"
    with _log_lock:
        if _log_size > LOG_CAP:
            return
        if _log_size + len(line) > LOG_CAP:
            line = json.dumps({"event": "log-full"}) + "\n"
        _log_size += len(line)
        with open(LOG, "a", encoding="utf-8") as handle:
            handle.write(line)


def decide(rules: list, host: str, port: int) -> str | None:
    """None when (host, port) is allowed, else why not."""
    host = host.lower().removesuffix(".")
    named = False
    for name, suffix, ports in rules:
        if host.endswith("." + name) if suffix else host == name:
            named = True
            if port in ports:
                return None
    if named:
        return f"port {port} is not allowed for {host}"
    return f"{host} is not on the allowlist"


def read_head(conn: socket.socket) -> tuple[bytes, bytes] | None:
    """(request line and headers, bytes after them); None when the client sent no head."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > HEAD_CAP:
            return None
        chunk = conn.recv(8192)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def host_port(authority: str, default: int) -> tuple[str, int]:
    if authority.startswith("["):  # an IPv6 literal: never on the list, but logged as sent
        name, _, tail = authority[1:].partition("]")
        return name, int(tail[1:]) if tail.startswith(":") and tail[1:].isdigit() else default
    name, colon, port = authority.rpartition(":")
    if colon and port.isdigit():
        return name, int(port)
    return authority, default


def answer(conn: socket.socket, status: int, reason: str) -> None:
    body = f"{status} {reason}\n".encode()
    title = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway", 503: "Busy"}[status]
    conn.sendall(
        f"HTTP/1.1 {status} {title}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )


def relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes or nothing moves for IDLE_S."""
    sockets = [a, b]
    while True:
        ready, _, _ = select.select(sockets, [], [], IDLE_S)
        if not ready:
            return
        for sock in ready:
            data = sock.recv(65536)
            if not data:
                return
            (b if sock is a else a).sendall(data)


def origin_request(head: bytes, path: str, host: str) -> bytes:
    """The request as an origin server expects it: path only, no proxy headers, one request,
    and the Host the proxy checked (not another site the same server also serves)."""
    lines = head.split(b"\r\n")
    method, _, rest = lines[0].partition(b" ")
    version = rest.rpartition(b" ")[2]
    out = [b" ".join((method, path.encode(), version)), b"Host: " + host.encode()]
    for line in lines[1:]:
        key = line.partition(b":")[0].strip().lower().decode("latin-1")
        if key not in DROPPED_HEADERS:
            out.append(line)
    out.append(b"Connection: close")
    return b"\r\n".join(out) + b"\r\n\r\n"


def handle(conn: socket.socket, rules: list) -> None:
    conn.settimeout(IDLE_S)
    got = read_head(conn)
    if got is None:
        return
    head, rest = got
    parts = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    if len(parts) != 3:
        answer(conn, 400, "not an HTTP request")
        return
    method, target, _ = parts
    if method == "CONNECT":
        host, port = host_port(target, 443)
        authority = path = ""
    else:
        url = urlsplit(target)
        if url.scheme != "http" or not url.hostname:
            log({"method": method, "target": target[:300], "allowed": False, "status": 400})
            answer(conn, 400, "send an absolute http:// URL (through HTTP_PROXY) or CONNECT")
            return
        authority = url.netloc.rpartition("@")[2]
        host, port = host_port(authority, 80)
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    entry = {"method": method, "host": host[:253], "port": port}
    reason = decide(rules, host, port)
    if reason:
        log({**entry, "allowed": False, "status": 403, "reason": reason})
        answer(conn, 403, f"blocked by the task's network allowlist: {reason}")
        return
    try:
        upstream = socket.create_connection((host, port), timeout=CONNECT_S)
    except OSError as exc:
        log({**entry, "allowed": True, "status": 502, "reason": str(exc)[:200]})
        answer(conn, 502, f"could not reach {host}:{port}: {exc}")
        return
    log({**entry, "allowed": True, "status": 200})
    with upstream:
        upstream.settimeout(IDLE_S)
        if method == "CONNECT":
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            upstream.sendall(origin_request(head, path, authority))
        if rest:
            upstream.sendall(rest)
        relay(conn, upstream)


def serve(conn: socket.socket, rules: list, slots: threading.BoundedSemaphore) -> None:
    try:
        handle(conn, rules)
    except Exception:  # noqa: BLE001 - gone, or garbage: that connection ends, nothing else
        pass
    finally:
        conn.close()
        slots.release()


def main(argv: list[str]) -> None:
    rules = json.loads(argv[1])
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.connect((argv[2], 9))  # no packet: only asks which of our addresses routes there
    address = probe.getsockname()[0]
    probe.close()
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((address, PORT))
    server.listen(64)
    log({"event": "ready", "address": f"{address}:{PORT}"})
    slots = threading.BoundedSemaphore(MAX_CLIENTS)
    while True:
        try:
            conn, _ = server.accept()
        except OSError:  # a client that gave up in the queue, or out of descriptors: go on
            time.sleep(0.05)
            continue
        if not slots.acquire(blocking=False):
            try:
                answer(conn, 503, "too many connections at once")
            except OSError:
                pass
            conn.close()
            continue
        threading.Thread(target=serve, args=(conn, rules, slots), daemon=True).start()


if __name__ == "__main__":
    main(sys.argv)
