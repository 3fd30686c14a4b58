"""Keyring backends that misbehave the way real keychains do, plugged in through keyring's own
`PYTHON_KEYRING_BACKEND` mechanism (used by test_sync_credentials in subprocesses)."""

from __future__ import annotations

import time

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked


class HangingKeyring(KeyringBackend):
    """A keychain daemon that never answers (e.g. waiting on an unlock prompt nobody sees)."""

    priority = 1

    def get_password(self, service, username):
        time.sleep(3600)

    def set_password(self, service, username, password):
        time.sleep(3600)

    def delete_password(self, service, username):
        time.sleep(3600)


class LockedKeyring(KeyringBackend):
    """A keychain the user did not unlock."""

    priority = 1

    def get_password(self, service, username):
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service, username, password):
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service, username):
        raise KeyringLocked("Failed to unlock the collection!")


class StaleTokenKeyring(KeyringBackend):
    """A keychain holding an old token for every server (revoked since, say)."""

    priority = 1

    def get_password(self, service, username):
        return "gnt_stale_token_from_the_keychain"

    def set_password(self, service, username, password):
        pass

    def delete_password(self, service, username):
        pass
