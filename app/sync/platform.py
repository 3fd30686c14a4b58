"""Which platform the app talks to, and with which token.

Which server:
1. `GAUNTLET_SERVER` in the environment: for scripts and CI.
2. The server saved by `gauntlet login --server URL` (config file; its token in the keychain).
3. Nothing configured: the embedded local platform, with its data in the user data directory,
   demo bounties and local lab, author and reviewer accounts, so every flow works out of the
   box. Sync only speaks HTTP: the entry points (`gauntlet`, the app) hand in the function
   that starts it (`use_local_platform`), so this layer never imports the platform.

Which token, for a server of 1. or 2.: `GAUNTLET_TOKEN` when set (it wins over the keychain,
whichever way the server was chosen), else the keychain's token for that server. The embedded
platform mints its own tokens, so `GAUNTLET_TOKEN` does not apply to it.

Each platform gets its own local store file, so bounties of two servers never mix.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from app.atomic import write_text_atomic
from app.errors import UserError
from app.paths import config_dir, data_dir
from app.sync.credentials import CredentialStore, platform_token_name

log = logging.getLogger(__name__)

CONFIG_FILE = "platform.json"
EMBEDDED_KEY = "local"
# Set to 1 to allow plain http:// to a host other than this machine (the token travels in clear).
INSECURE_ENV = "GAUNTLET_ALLOW_INSECURE_HTTP"


class LocalLauncher(Protocol):
    """Starts the embedded platform with its data in `folder`; returns a running platform
    with `.url`, the local accounts' tokens and `.stop()` (app.platform.embedded)."""

    def __call__(self, folder: Path) -> Any: ...


_local_launcher: LocalLauncher | None = None


def use_local_platform(launcher: LocalLauncher | None) -> None:
    """Hand in how to start the embedded platform (None: this copy has none)."""
    global _local_launcher
    _local_launcher = launcher


@dataclass
class PlatformConnection:
    """Where to send requests and who we are there. Close it to stop an embedded server."""

    url: str
    token: str | None = field(repr=False)
    key: str  # names the local store file for this platform
    embedded: Any = None  # the running EmbeddedPlatform, when we started one
    label: str = ""  # for people: "local platform" or the server's host

    @property
    def store_path(self) -> Path:
        return store_file(self.key)

    def close(self) -> None:
        if self.embedded is not None:
            try:
                self.embedded.stop()
            finally:
                self.embedded = None

    def __enter__(self) -> PlatformConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def validate_server_url(url: str, *, allow_insecure_http: bool = False) -> str:
    """A normalised `http(s)://host[:port][/path]`, or a UserError saying what is wrong.

    Plain http:// is accepted only for this machine unless `allow_insecure_http`: anywhere
    else the bearer token would cross the network in clear.
    """
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UserError(
            f"'{url}' is not a server address.",
            "Give the full address, e.g. https://platform.example.org",
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname or ""):
        if not allow_insecure_http:
            raise UserError(
                f"Refusing plain http:// to {parts.hostname}: your token would travel unencrypted.",
                f"Use https://{parts.netloc}{parts.path}, or, on a network you trust, opt in "
                f"with `gauntlet login --allow-insecure-http` (or {INSECURE_ENV}=1 with "
                "GAUNTLET_SERVER).",
                where=url,
            )
        log.warning("talking to %s over plain http: tokens travel unencrypted", parts.hostname)
    return url


def is_loopback_host(host: str) -> bool:
    """True for this machine: `localhost` or a loopback address (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _insecure_from_env() -> bool:
    return os.environ.get(INSECURE_ENV, "").strip().lower() in ("1", "true", "yes")


def store_key_for(url: str) -> str:
    """A file-name-safe, stable name for a server's local store."""
    parts = urlsplit(url)
    host = re.sub(r"[^A-Za-z0-9.-]+", "_", parts.netloc)
    digest = hashlib.sha256(url.encode()).hexdigest()[:8]
    return f"{host}-{digest}"


# -- the saved configuration (no secrets in it) -------------------------------------------------


def _config_path() -> Path:
    return config_dir() / CONFIG_FILE


def _read_config() -> dict[str, Any]:
    path = _config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UserError(
            f"The platform settings file cannot be read ({exc}).",
            "Log in again with `gauntlet login --server URL`, or delete the file.",
            where=str(path),
        ) from exc
    return data if isinstance(data, dict) else {}


def configured_server() -> str | None:
    """The server saved by `gauntlet login`, or None (then the embedded platform is used)."""
    url = _read_config().get("server")
    return url if isinstance(url, str) and url else None


def configured_insecure_http() -> bool:
    """Whether the user opted in to plain http:// for the saved server at login."""
    return _read_config().get("allow_insecure_http") is True


def save_server(url: str | None, *, allow_insecure_http: bool = False) -> None:
    """Remember `url` as the platform to use (None: go back to the embedded one)."""
    data: dict[str, Any] = {"server": url}
    if allow_insecure_http:
        data["allow_insecure_http"] = True
    write_text_atomic(_config_path(), json.dumps(data, indent=2) + "\n")


# -- connecting ------------------------------------------------------------------------------


def connect(
    credentials: CredentialStore | None = None, *, role: str = "author"
) -> PlatformConnection:
    """Resolve the platform to use now (see the module docstring for the order)."""
    env_url = os.environ.get("GAUNTLET_SERVER")
    env_token = os.environ.get("GAUNTLET_TOKEN")
    if env_url:
        url = validate_server_url(env_url, allow_insecure_http=_insecure_from_env())
        token = env_token or _stored_token(credentials, url)
        return PlatformConnection(url, token, store_key_for(url), label=urlsplit(url).netloc)
    url = configured_server()
    if url:
        url = validate_server_url(
            url, allow_insecure_http=configured_insecure_http() or _insecure_from_env()
        )
        # The environment's token wins without asking the keychain (which may be locked).
        token = env_token or _stored_token(credentials, url)
        if not token:
            raise UserError(
                f"You are not logged in to {url} (no token in your keychain).",
                f"Run `gauntlet login --server {url}`, or set GAUNTLET_TOKEN for this session.",
            )
        return PlatformConnection(url, token, store_key_for(url), label=urlsplit(url).netloc)
    return start_local_platform(role=role)


def start_local_platform(*, role: str = "author", folder: Path | None = None) -> PlatformConnection:
    """Start the embedded platform (SQLite in the user data directory, demo bounties)."""
    if _local_launcher is None:
        raise UserError(
            "This copy of Gauntlet Studio has no local platform to start.",
            "Log in to a platform with `gauntlet login --server URL`, or run Gauntlet Studio "
            "from the `gauntlet` command or the app, which bring the local platform.",
        )
    embedded = _local_launcher(folder or data_dir() / "platform")
    token = embedded_token(embedded, role)
    return PlatformConnection(
        embedded.url, token, embedded_store_key(role), embedded=embedded, label="local platform"
    )


def embedded_store_key(role: str) -> str:
    """Each local account (author, reviewer, lab) keeps its own store: one person's drafts and
    feed must not mix with another's when the roles are switched on one machine."""
    return EMBEDDED_KEY if role == "author" else f"{EMBEDDED_KEY}-{role}"


def embedded_token(embedded: Any, role: str) -> str:
    for name in (f"{role}_token", f"{role}"):
        value = getattr(embedded, name, None)
        if isinstance(value, str) and value:
            return value
    tokens = getattr(embedded, "tokens", None)
    if isinstance(tokens, dict) and tokens.get(role):
        return tokens[role]
    raise UserError(f"The local platform has no {role} account.", "Choose author or reviewer.")


def _stored_token(credentials: CredentialStore | None, url: str) -> str | None:
    credentials = credentials or CredentialStore()
    return credentials.get(platform_token_name(url))


def current_store_path(role: str = "author") -> Path:
    """The local store of the platform in use, without connecting (for offline reads)."""
    url = os.environ.get("GAUNTLET_SERVER") or configured_server()
    # Only the store's name is derived here; nothing is sent, so http:// needs no opt-in.
    return store_file(
        store_key_for(validate_server_url(url, allow_insecure_http=True))
        if url
        else embedded_store_key(role)
    )


def store_file(key: str) -> Path:
    """The local store of the platform named `key` (see `store_key_for`)."""
    return data_dir() / "sync" / f"{key}.sqlite"
