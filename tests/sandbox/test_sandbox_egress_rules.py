"""The allowlist's grammar (app.envpack.egress_hosts) and the proxy's decisions
(app.sandbox.egress_proxy), without Docker: what an entry allows, what a malformed one is told,
and how the proxy rewrites a plain HTTP request for the origin server."""

from __future__ import annotations

import pytest

from app.envpack.egress_hosts import BadHost, HostRule, parse_host, parse_hosts
from app.sandbox.egress import EgressPolicy
from app.sandbox.egress_proxy import decide, host_port, origin_request


@pytest.mark.parametrize(
    ("entry", "rule"),
    [
        ("pypi.org", HostRule("pypi.org", False, (80, 443))),
        ("PyPI.org.", HostRule("pypi.org", False, (80, 443))),
        ("*.example.org", HostRule("example.org", True, (80, 443))),
        ("example.org:8080", HostRule("example.org", False, (8080,))),
        ("*.a-b.example.org:443", HostRule("a-b.example.org", True, (443,))),
    ],
)
def test_good_entries(entry: str, rule: HostRule) -> None:
    assert parse_host(entry) == rule


@pytest.mark.parametrize(
    ("entry", "says", "hint"),
    [
        ("https://pypi.org/simple", "is a URL", "Write the host only: pypi.org."),
        ("pypi.org/simple", "is a URL", "Write the host only: pypi.org."),
        ("10.0.0.1", "IP address", "Name the host"),
        ("example.org:0", "port must be a number", "e.g. pypi.org"),
        ("example.org:http", "port must be a number", "e.g. pypi.org"),
        ("ex*.org", "'*' only stands first", "e.g. pypi.org"),
        ("*.org", "whole top-level domain", "*.example.org"),
        ("exa mple.org", "not a host name", "e.g. pypi.org"),
        ("-bad.org", "not a host name", "e.g. pypi.org"),
        (" pypi.org", "spaces around it", "e.g. pypi.org"),
        ("", "empty", "e.g. pypi.org"),
        ("[::1]:443", "not a host name", "e.g. pypi.org"),
        ("localhost:3128", "the proxy's own container", "inside its image"),
        ("*.localhost", "the proxy's own container", "inside its image"),
    ],
)
def test_bad_entries_say_what_and_how_to_fix(entry: str, says: str, hint: str) -> None:
    with pytest.raises(BadHost) as caught:
        parse_host(entry)
    assert says in str(caught.value) and hint in caught.value.hint


def test_the_proxy_allows_exact_names_suffixes_and_ports_only() -> None:
    policy = EgressPolicy(("pypi.org", "*.example.org", "data.test:8080", "http://bad/"))
    rules = policy.rules()
    assert len(rules) == 3  # the malformed entry allows nothing
    assert decide(rules, "pypi.org", 443) is None
    assert decide(rules, "PYPI.org.", 80) is None
    assert decide(rules, "pypi.org", 22) == "port 22 is not allowed for pypi.org"
    assert decide(rules, "evil-pypi.org", 443) == "evil-pypi.org is not on the allowlist"
    assert decide(rules, "pypi.org.evil.net", 443) is not None
    assert decide(rules, "a.b.example.org", 443) is None
    assert decide(rules, "example.org", 443) is not None  # *. means subdomains only
    assert decide(rules, "badexample.org", 443) is not None
    assert decide(rules, "data.test", 8080) is None
    assert decide(rules, "data.test", 80) is not None
    assert decide(rules, "bad", 80) is not None
    assert decide(rules, "10.0.0.1", 443) is not None


def test_host_port_and_the_rewritten_request() -> None:
    assert host_port("example.org:8080", 80) == ("example.org", 8080)
    assert host_port("example.org", 443) == ("example.org", 443)
    assert host_port("[::1]:8443", 443) == ("::1", 8443)
    head = (
        b"POST http://example.org:8080/a?b=1 HTTP/1.1\r\nHost: example.org:8080\r\n"
        b"Proxy-Authorization: x\r\nProxy-Connection: keep-alive\r\nConnection: keep-alive\r\n"
        b"Content-Length: 3"
    )
    assert origin_request(head, "/a?b=1", "example.org:8080") == (
        b"POST /a?b=1 HTTP/1.1\r\nHost: example.org:8080\r\nContent-Length: 3\r\n"
        b"Connection: close\r\n\r\n"
    )
    bare = origin_request(b"GET http://x.org/ HTTP/1.0", "/", "x.org")
    assert bare == b"GET / HTTP/1.0\r\nHost: x.org\r\nConnection: close\r\n\r\n"
    # another site on the same server is not reached by a Host header of the agent's choice
    fronted = origin_request(b"GET http://x.org/ HTTP/1.1\r\nHost: other.org", "/", "x.org")
    assert fronted == b"GET / HTTP/1.1\r\nHost: x.org\r\nConnection: close\r\n\r\n"


def test_parse_hosts_keeps_the_good_and_names_the_bad() -> None:
    rules, bad = parse_hosts(["pypi.org", "1.2.3.4", "*.x.org:81"])
    assert [str(rule) for rule in rules] == ["pypi.org", "*.x.org:81"]
    assert [entry for entry, _ in bad] == ["1.2.3.4"]
