"""The entries of `[agent] hosts` (DESIGN §4.1): which hosts the agent phase may reach through
the sandbox's HTTP(S) proxy when `network = "allowlist"`.

An entry is a host name (`pypi.org`), or `*.` and a name for any subdomain of it
(`*.githubusercontent.com`, not the name itself), optionally with `:port`. Without a port, 80
(HTTP) and 443 (HTTPS) are allowed. Names are matched as the agent's client sends them, so IP
addresses are refused: the proxy never decides by address. `localhost` would be the proxy's
own container, so it is refused too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_PORTS = (80, 443)
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_FIX = "Write a host name, e.g. pypi.org, *.example.org or example.org:8080."


@dataclass(frozen=True, slots=True)
class HostRule:
    name: str  # lower case, no trailing dot
    suffix: bool  # "*.name": any subdomain of name
    ports: tuple[int, ...]

    def __str__(self) -> str:
        port = f":{self.ports[0]}" if self.ports != DEFAULT_PORTS else ""
        return ("*." if self.suffix else "") + self.name + port

    def as_json(self) -> list:
        return [self.name, self.suffix, list(self.ports)]


class BadHost(ValueError):
    """An entry that is not a host name: `str(exc)` says what is wrong, `hint` how to fix it."""

    def __init__(self, message: str, hint: str = _FIX) -> None:
        super().__init__(message)
        self.hint = hint


def parse_host(entry: str) -> HostRule:
    """The rule an entry stands for; BadHost when it is not `[*.]name[:port]`."""
    if entry != entry.strip() or not entry:
        raise BadHost(f"{entry!r} is empty or has spaces around it.")
    if "://" in entry or "/" in entry:
        bare = entry.split("://", 1)[-1].split("/", 1)[0]
        raise BadHost(f"{entry!r} is a URL, not a host.", f"Write the host only: {bare}.")
    name, port = _split_port(entry)
    suffix = name.startswith("*.")
    name = name.removeprefix("*.").lower().removesuffix(".")
    labels = name.split(".")
    if "*" in name:
        raise BadHost(f"{entry!r}: '*' only stands first, as in *.example.org.")
    if not all(_LABEL.match(label) for label in labels) or len(name) > 253:
        raise BadHost(f"{entry!r} is not a host name (letters, digits and '-' between dots).")
    if all(label.isdigit() for label in labels):
        raise BadHost(
            f"{entry!r} is an IP address: the proxy allows names only.",
            "Name the host (the agent's client sends the name to the proxy).",
        )
    if labels[-1] == "localhost":
        raise BadHost(
            f"{entry!r} would be the proxy's own container, not a host of the task.",
            "Run what the task needs inside its image instead (environment/).",
        )
    if suffix and len(labels) < 2:
        raise BadHost(
            f"{entry!r} would allow a whole top-level domain.",
            "Narrow the wildcard to a domain, e.g. *.example.org.",
        )
    return HostRule(name, suffix, (port,) if port else DEFAULT_PORTS)


def _split_port(entry: str) -> tuple[str, int | None]:
    name, colon, port = entry.rpartition(":")
    if not colon:
        return entry, None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise BadHost(f"{entry!r}: the port must be a number from 1 to 65535.")
    return name, int(port)


def parse_hosts(entries: list[str]) -> tuple[list[HostRule], list[tuple[str, BadHost]]]:
    """The rules of the entries that parse, and (entry, problem) for the others."""
    rules, bad = [], []
    for entry in entries:
        try:
            rules.append(parse_host(entry))
        except BadHost as exc:
            bad.append((entry, exc))
    return rules, bad
