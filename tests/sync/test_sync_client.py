"""The platform client against the real server: problem+json errors become clear messages."""

from __future__ import annotations

import asyncio

import pytest

from app.sync.client import PlatformClient
from app.sync.errors import (
    NotAuthorized,
    NotFound,
    PlatformOffline,
    PlatformRejected,
)


def call(url: str, token: str | None, method: str, path: str, **kwargs):
    async def go():
        async with PlatformClient(url, token, timeout=5.0) as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


def test_validation_errors_name_the_field(platform):
    with pytest.raises(PlatformRejected) as info:
        call(platform.url, platform.tokens["author"], "POST", "/v1/submissions", json_body={})
    assert info.value.status == 422 and "bounty_id" in info.value.message
    assert "Traceback" not in str(info.value)


def test_unknown_things_and_bad_tokens_are_explained(platform):
    with pytest.raises(NotFound) as info:
        call(platform.url, platform.tokens["author"], "GET", "/v1/submissions/s_nope")
    assert "sync to refresh" in info.value.hint
    with pytest.raises(NotAuthorized) as info:
        call(platform.url, "gst_forged", "GET", "/v1/me")
    assert "Log in again" in info.value.hint


def test_reusing_an_idempotency_key_for_another_request_is_refused(platform):
    token = platform.tokens["author"]
    open_ids = [
        b["id"]
        for b in call(platform.url, token, "GET", "/v1/bounties", params={"status": "open"}).data[
            "items"
        ]
    ]
    first = call(
        platform.url,
        token,
        "POST",
        "/v1/submissions",
        json_body={"bounty_id": open_ids[0]},
        idempotency_key="key-1",
    )
    again = call(
        platform.url,
        token,
        "POST",
        "/v1/submissions",
        json_body={"bounty_id": open_ids[0]},
        idempotency_key="key-1",
    )
    assert again.data["id"] == first.data["id"]  # a replay answers with the first result
    assert again.headers.get("Idempotency-Replayed") == "true"
    with pytest.raises(PlatformRejected) as info:
        call(
            platform.url,
            token,
            "POST",
            "/v1/submissions",
            json_body={"bounty_id": open_ids[1]},
            idempotency_key="key-1",
        )
    assert info.value.status == 422


def test_an_unreachable_server_is_offline_not_a_crash():
    with pytest.raises(PlatformOffline) as info:
        call("http://127.0.0.1:9", None, "GET", "/v1/health")
    assert info.value.transient and "offline" in info.value.hint
