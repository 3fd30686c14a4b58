"""The app's log scrubs secrets on the way in."""

from __future__ import annotations

import pytest

from app.ui.app_logging import redact


@pytest.mark.parametrize(
    "secret",
    [
        "gst_" + "A1b2C3d4E5f6G7h8I9j0",
        "gnt_" + "A1b2C3d4E5f6G7h8I9j0",
        "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz012345",
        "AIza" + "SyA-1234567890abcdefghijklmnopqrs",
        "sk-" + "proj-abcdefghijklmnop",
    ],
)
def test_platform_huggingface_and_google_tokens_are_redacted(secret):
    line = f"request failed for {secret} while syncing"
    cleaned = redact(line)
    assert secret not in cleaned and "•••" in cleaned and cleaned.startswith("request failed")
