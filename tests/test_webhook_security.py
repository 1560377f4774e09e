"""/api/notify as a webhook: HMAC signatures, and Idempotency-Key replays that send nothing."""

from __future__ import annotations

import asyncio
import json

import pytest

from shared.functions.signature import sign
from tests.support.functions import post_notify
from tests.support.references import store_conversations

SECRET = "whsec-test-4f9a1c0b7e"


@pytest.fixture
async def signed_app(app_with):
    return await app_with(NOTIFY_WEBHOOK_SECRET=SECRET)


def signed(body: dict, header: str = "X-Signature-256") -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    return raw, {header: sign(SECRET, raw)}


@pytest.mark.parametrize("header", ["X-Signature-256", "X-Hub-Signature-256"])
async def test_a_correctly_signed_request_is_sent(signed_app, channel, header):
    await store_conversations(signed_app, channel.url, ["c-1"])
    raw, headers = signed({"text": "signed"}, header)

    response = await post_notify(raw, headers)

    assert response.status == 200
    assert response.body["sent"] == 1


def _tampered(raw: bytes, headers: dict) -> tuple[bytes, dict]:
    return raw.replace(b"signed", b"forged"), headers


BAD_SIGNATURES = {
    "missing": lambda raw, headers: (raw, {}),
    "empty": lambda raw, headers: (raw, {"X-Signature-256": ""}),
    "no-prefix": lambda raw, headers: (raw, {"X-Signature-256": headers["X-Signature-256"][7:]}),
    "sha1": lambda raw, headers: (raw, {"X-Signature-256": "sha1=" + "0" * 40}),
    "wrong-secret": lambda raw, headers: (raw, {"X-Signature-256": sign("other", raw)}),
    "body-changed": _tampered,
    "truncated": lambda raw, headers: (raw, {"X-Signature-256": headers["X-Signature-256"][:-2]}),
    "non-ascii": lambda raw, headers: (raw, {"X-Signature-256": "sha256=é" + "0" * 63}),
}


@pytest.mark.parametrize("mangle", BAD_SIGNATURES.values(), ids=BAD_SIGNATURES.keys())
async def test_a_missing_or_wrong_signature_is_a_401_and_nothing_is_sent(
    signed_app, channel, mangle
):
    await store_conversations(signed_app, channel.url, ["c-1"])
    raw, headers = mangle(*signed({"text": "signed"}))

    response = await post_notify(raw, headers)

    assert response.status == 401
    assert response.body["error"] == "missing or invalid X-Signature-256"
    assert channel.received == []


async def test_without_a_secret_no_signature_is_needed(app, channel):
    await store_conversations(app, channel.url, ["c-1"])

    response = await post_notify({"text": "open"})

    assert response.status == 200


async def test_a_repeated_idempotency_key_returns_the_first_report_and_sends_nothing(app, channel):
    await store_conversations(app, channel.url, ["c-1", "c-2"])
    headers = {"Idempotency-Key": "deploy-142"}

    first = await post_notify({"text": "once"}, headers)
    again = await post_notify({"text": "once"}, headers)

    assert first.status == again.status == 200
    assert again.body == first.body
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(channel.received) == 2


async def test_the_idempotency_record_holds_across_instances(app_with, channel):
    app = await app_with()
    await store_conversations(app, channel.url, ["c-1"])
    await post_notify({"text": "once"}, {"Idempotency-Key": "k-1"})

    await app_with()  # a new process: no memory of the first request but the table
    again = await post_notify({"text": "once"}, {"Idempotency-Key": "k-1"})

    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(channel.received) == 1


async def test_concurrent_requests_with_one_key_send_once(app, channel):
    await store_conversations(app, channel.url, [f"c-{n}" for n in range(5)])
    headers = {"Idempotency-Key": "race"}

    responses = await asyncio.gather(*(post_notify({"text": "race"}, headers) for _ in range(8)))

    assert len(channel.received) == 5
    assert sorted({r.status for r in responses}) in ([200], [200, 409])
    assert (
        sum(1 for r in responses if r.status == 200 and "Idempotent-Replayed" not in r.headers) == 1
    )


async def test_different_keys_send_independently(app, channel):
    await store_conversations(app, channel.url, ["c-1"])

    await post_notify({"text": "a"}, {"Idempotency-Key": "k-a"})
    await post_notify({"text": "b"}, {"Idempotency-Key": "k-b"})

    assert [r.activity["text"] for r in channel.received] == ["a", "b"]


async def test_a_key_reused_with_another_body_is_a_422(app, channel):
    await store_conversations(app, channel.url, ["c-1"])
    await post_notify({"text": "first"}, {"Idempotency-Key": "k-1"})

    response = await post_notify({"text": "second"}, {"Idempotency-Key": "k-1"})

    assert response.status == 422
    assert len(channel.received) == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "tab\there"])
async def test_an_unusable_idempotency_key_is_a_400(app, channel, key):
    response = await post_notify({"text": "x"}, {"Idempotency-Key": key})

    assert response.status == 400
    assert response.body["detail"] == {"field": "Idempotency-Key"}
