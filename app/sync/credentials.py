"""Tokens and LLM provider keys in the OS keychain (via `keyring`), never in plain files.

Keychain calls can block (a D-Bus prompt, a locked keychain, a hung daemon), so every call runs
in a daemon worker thread with a timeout: the GUI's event loop never waits on it, and a hung
keychain cannot keep the app from quitting.

With no usable keychain (no backend, locked, timed out) the user chooses what happens:
`FallbackPolicy.SESSION` (the default) keeps secrets in memory until the app quits and says
so; `FallbackPolicy.REFUSE` refuses to keep them at all. There is deliberately no "plain text
file" option.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from app.errors import UserError

log = logging.getLogger(__name__)

SERVICE = "gauntlet-studio"
DEFAULT_TIMEOUT_S = 5.0

T = TypeVar("T")


class FallbackPolicy(StrEnum):
    SESSION = "session"  # keep secrets in memory for this session only (default)
    REFUSE = "refuse"  # do not keep secrets at all without a keychain


class SecretLocation(StrEnum):
    KEYCHAIN = "keychain"
    SESSION = "session"  # in memory only: gone when the app quits


@dataclass(frozen=True, slots=True)
class KeychainStatus:
    usable: bool
    backend: str  # human-readable backend name, e.g. "SecretService Keyring"
    reason: str = ""  # why it is not usable, in plain words

    @property
    def message(self) -> str:
        if self.usable:
            return f"Secrets are kept in your system keychain ({self.backend})."
        return f"Your system keychain is not available: {self.reason}"


class KeychainUnavailable(UserError):
    """No usable keychain and the user chose not to keep secrets without one."""


_POLICY_FILE = "credentials.json"


def load_fallback_policy() -> FallbackPolicy:
    """What the user chose for "no keychain" in Settings (session-only when never chosen)."""
    import json

    from app.paths import config_dir

    try:
        data = json.loads((config_dir() / _POLICY_FILE).read_text(encoding="utf-8"))
        return FallbackPolicy(data.get("fallback", FallbackPolicy.SESSION))
    except (OSError, ValueError, AttributeError):
        return FallbackPolicy.SESSION


def save_fallback_policy(policy: FallbackPolicy) -> None:
    import json

    from app.atomic import write_text_atomic
    from app.paths import config_dir

    write_text_atomic(config_dir() / _POLICY_FILE, json.dumps({"fallback": str(policy)}) + "\n")


def platform_token_name(server_url: str) -> str:
    return f"platform-token:{server_url.rstrip('/')}"


def llm_key_name(provider: str) -> str:
    return f"llm-key:{provider}"


class CredentialStore:
    """Keeps named secrets in the keychain, or in memory when the user allows it.

    Thread-safe. `get`/`set`/`delete` block for at most `timeout_s`; the `a*` variants are the
    same calls for asyncio code.
    """

    def __init__(
        self,
        *,
        fallback: FallbackPolicy | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        service: str = SERVICE,
    ) -> None:
        self.fallback = fallback if fallback is not None else load_fallback_policy()
        self.timeout_s = timeout_s
        self.service = service
        self._session: dict[str, str] = {}
        self._lock = threading.Lock()
        self._status: KeychainStatus | None = None  # cached once known

    # -- status ---------------------------------------------------------------------------

    def status(self) -> KeychainStatus:
        """Whether the keychain is usable; probed once, then remembered until `recheck()`."""
        with self._lock:
            if self._status is not None:
                return self._status
        status = self._probe()
        with self._lock:
            self._status = status
        return status

    def recheck(self) -> KeychainStatus:
        """Probe again (after the user unlocked or installed a keychain)."""
        with self._lock:
            self._status = None
        return self.status()

    def _probe(self) -> KeychainStatus:
        try:
            backend = _run_with_timeout(_current_backend, self.timeout_s)
        except TimeoutError:
            return KeychainStatus(False, "unknown", "the keychain did not answer in time")
        except Exception as exc:  # keyring raises many kinds while discovering backends
            return KeychainStatus(False, "unknown", f"the keychain could not be opened ({exc})")
        name = getattr(backend, "name", type(backend).__name__)
        if _is_unusable_backend(backend):
            return KeychainStatus(
                False,
                name,
                "no keychain service was found on this computer (on Linux, install and "
                "unlock gnome-keyring or KWallet)",
            )
        return KeychainStatus(True, name)

    def _mark_unusable(self, reason: str) -> None:
        with self._lock:
            backend = self._status.backend if self._status else "unknown"
            self._status = KeychainStatus(False, backend, reason)

    # -- secrets ----------------------------------------------------------------------------

    def get(self, name: str) -> str | None:
        """The secret called `name`, or None when none is kept."""
        with self._lock:
            if name in self._session:
                return self._session[name]
        if not self.status().usable:
            return None
        try:
            return self._keychain(lambda kr: kr.get_password(self.service, name))
        except _KeychainFailed as exc:
            log.warning("keychain read failed: %s", exc.reason)
            return None

    def set(self, name: str, secret: str) -> SecretLocation:
        """Keep `secret`; returns where it went. Raises KeychainUnavailable if it cannot."""
        if not secret:
            raise UserError("The secret is empty.", "Paste the token or key again.")
        if self.status().usable:
            try:
                self._keychain(lambda kr: kr.set_password(self.service, name, secret))
                with self._lock:
                    self._session.pop(name, None)
                return SecretLocation.KEYCHAIN
            except _KeychainFailed as exc:
                log.warning("keychain write failed: %s", exc.reason)
        return self._keep_in_session(name, secret)

    def delete(self, name: str) -> None:
        with self._lock:
            self._session.pop(name, None)
        if not self.status().usable:
            return
        import keyring.errors

        def _delete(kr) -> None:
            try:
                kr.delete_password(self.service, name)
            except keyring.errors.PasswordDeleteError:
                pass  # nothing was stored: deleting is already done

        try:
            self._keychain(_delete)
        except _KeychainFailed as exc:
            log.warning("keychain delete failed: %s", exc.reason)

    async def aget(self, name: str) -> str | None:
        return await _in_daemon_thread_async(lambda: self.get(name))

    async def aset(self, name: str, secret: str) -> SecretLocation:
        return await _in_daemon_thread_async(lambda: self.set(name, secret))

    async def adelete(self, name: str) -> None:
        await _in_daemon_thread_async(lambda: self.delete(name))

    # -- internals ----------------------------------------------------------------------------

    def _keep_in_session(self, name: str, secret: str) -> SecretLocation:
        reason = self.status().reason
        if self.fallback == FallbackPolicy.REFUSE:
            raise KeychainUnavailable(
                f"The secret was not saved: your system keychain is not available ({reason}).",
                "Unlock or install a keychain, or allow keeping secrets for this session only "
                "in Settings.",
            )
        with self._lock:
            self._session[name] = secret
        return SecretLocation.SESSION

    def _keychain(self, call: Callable[[object], T]) -> T:
        """Run `call(backend)` in a worker thread; failures mark the keychain unusable."""
        import keyring
        import keyring.errors

        def run() -> T:
            return call(keyring.get_keyring())

        try:
            return _run_with_timeout(run, self.timeout_s)
        except TimeoutError:
            reason = f"the keychain did not answer within {self.timeout_s:g} s (is it locked?)"
        except keyring.errors.KeyringLocked:
            reason = "the keychain is locked"
        except (keyring.errors.KeyringError, RuntimeError, OSError) as exc:
            reason = f"the keychain refused the request ({exc})"
        except Exception as exc:  # D-Bus/secretstorage errors are not KeyringErrors
            reason = f"the keychain failed ({type(exc).__name__}: {exc})"
        self._mark_unusable(reason)
        raise _KeychainFailed(reason)


class _KeychainFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _current_backend():
    import keyring

    return keyring.get_keyring()


def _is_unusable_backend(backend) -> bool:
    from keyring.backends import chainer, fail

    if isinstance(backend, fail.Keyring):
        return True
    try:
        from keyring.backends import null

        if isinstance(backend, null.Keyring):
            return True
    except ImportError:
        pass
    if isinstance(backend, chainer.ChainerBackend):
        return not backend.backends
    return False


def _run_with_timeout(call: Callable[[], T], timeout_s: float) -> T:
    """Run `call` in a daemon thread and wait at most `timeout_s` (TimeoutError after)."""
    future: concurrent.futures.Future[T] = concurrent.futures.Future()

    def target() -> None:
        try:
            future.set_result(call())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            future.set_exception(exc)

    threading.Thread(target=target, name="gauntlet-keychain", daemon=True).start()
    try:
        return future.result(timeout=timeout_s)
    except concurrent.futures.TimeoutError as exc:
        raise TimeoutError(f"keychain call took longer than {timeout_s} s") from exc


async def _in_daemon_thread_async(call: Callable[[], T]) -> T:
    """Await `call()` run in a daemon thread (it bounds its own blocking with timeouts)."""
    future: concurrent.futures.Future[T] = concurrent.futures.Future()

    def target() -> None:
        try:
            future.set_result(call())
        except BaseException as exc:  # noqa: BLE001
            future.set_exception(exc)

    threading.Thread(target=target, name="gauntlet-keychain-async", daemon=True).start()
    return await asyncio.wrap_future(future)
