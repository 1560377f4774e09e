"""/api/notify as a webhook: HMAC signatures (X-Signature-256, and Standard Webhooks' timestamped
ones), and Idempotency-Key or webhook-id replays that send nothing."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time

import pytest

from shared.app import App, reset_app, use_app
from shared.functions.signature import sign, sign_standard
from shared.notifications.lifecycle import State
from shared.notifications.notification_store import Notification
from shared.settings import Settings
from tests.support.functions import patch_notification, post_notify
from tests.support.references import store_conversations

SECRET = "whsec-test-4f9a1c0b7e"
# A Standard Webhooks secret: "whsec_" and the base64 of the key (here 24 random bytes).
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


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


# Standard Webhooks (standardwebhooks.com): webhook-id, webhook-timestamp, webhook-signature.


@pytest.fixture
async def standard_app(clock, monkeypatch):
    """An app with a whsec_ secret and a clock the test sets."""
    monkeypatch.setenv("NOTIFY_WEBHOOK_SECRET", WHSEC)
    await reset_app()
    app = App.create(Settings.from_env(), clock=clock)
    use_app(app)
    return app


def standard_signed(
    body: dict, clock, webhook_id: str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", seconds_off: int = 0
) -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    timestamp = int(clock().timestamp()) + seconds_off
    return raw, {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_standard(WHSEC, webhook_id, timestamp, raw),
    }


def test_signing_matches_the_standard_webhooks_libraries_own_test_vector():
    signature = sign_standard(
        WHSEC, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    )

    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


async def test_a_request_signed_the_standard_way_is_sent(standard_app, clock, channel):
    await store_conversations(standard_app, channel.url, ["c-1"])
    raw, headers = standard_signed({"text": "signed"}, clock)

    response = await post_notify(raw, headers)

    assert response.status == 200
    assert response.body["sent"] == 1


async def test_without_whsec_the_key_is_the_secrets_utf8_bytes(app_with, channel):
    app = await app_with(NOTIFY_WEBHOOK_SECRET=SECRET)
    await store_conversations(app, channel.url, ["c-1"])
    raw, timestamp = b'{"text": "plain secret"}', int(time.time())
    digest = hmac.new(SECRET.encode(), f"m-1.{timestamp}.".encode() + raw, hashlib.sha256)
    signature = "v1," + base64.b64encode(digest.digest()).decode()

    response = await post_notify(
        raw,
        {"webhook-id": "m-1", "webhook-timestamp": str(timestamp), "webhook-signature": signature},
    )

    assert response.status == 200


async def test_any_one_valid_entry_of_the_signature_list_passes(standard_app, clock, channel):
    await store_conversations(standard_app, channel.url, ["c-1"])
    raw, headers = standard_signed({"text": "rotated"}, clock)
    old_key = "v1," + base64.b64encode(b"\0" * 32).decode()
    headers["webhook-signature"] = f"{old_key} v1a,c2lnbmF0dXJl junk {headers['webhook-signature']}"

    response = await post_notify(raw, headers)

    assert response.status == 200


def _signature(headers: dict, value: str) -> dict:
    return {**headers, "webhook-signature": value}


BAD_STANDARD_SIGNATURES = {
    "no-id": lambda raw, h: (raw, {k: v for k, v in h.items() if k != "webhook-id"}),
    "no-timestamp": lambda raw, h: (raw, {k: v for k, v in h.items() if k != "webhook-timestamp"}),
    "empty-signature": lambda raw, h: (raw, _signature(h, "")),
    "float-timestamp": lambda raw, h: (
        raw,
        {**h, "webhook-timestamp": h["webhook-timestamp"] + ".0"},
    ),
    "exponent-timestamp": lambda raw, h: (raw, {**h, "webhook-timestamp": "1.7e9"}),
    "negative-timestamp": lambda raw, h: (raw, {**h, "webhook-timestamp": "-1"}),
    "other-id": lambda raw, h: (raw, {**h, "webhook-id": "msg_other"}),
    "body-changed": lambda raw, h: (raw.replace(b"signed", b"forged"), h),
    "utf8-of-whsec": lambda raw, h: (raw, _signature(h, _utf8_keyed(raw, h))),
    "only-v1a": lambda raw, h: (raw, _signature(h, "v1a" + h["webhook-signature"][2:])),
    "no-version": lambda raw, h: (raw, _signature(h, h["webhook-signature"][3:])),
    "not-base64": lambda raw, h: (raw, _signature(h, "v1,@@@@")),
    "non-ascii": lambda raw, h: (raw, _signature(h, "v1,é" + h["webhook-signature"][4:])),
    "non-ascii-id": lambda raw, h: (raw, {**h, "webhook-id": "msg_é"}),
}


def _utf8_keyed(raw: bytes, headers: dict) -> str:
    """Signed with the whsec_ text itself as the key: wrong, the key is its base64 rest."""
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + raw
    return (
        "v1,"
        + base64.b64encode(hmac.new(WHSEC.encode(), content, hashlib.sha256).digest()).decode()
    )


@pytest.mark.parametrize(
    "mangle", BAD_STANDARD_SIGNATURES.values(), ids=BAD_STANDARD_SIGNATURES.keys()
)
async def test_a_missing_or_wrong_standard_signature_is_a_401_and_nothing_is_sent(
    standard_app, clock, channel, mangle
):
    await store_conversations(standard_app, channel.url, ["c-1"])
    raw, headers = mangle(*standard_signed({"text": "signed"}, clock))

    response = await post_notify(raw, headers)

    assert response.status == 401
    assert response.body["error"].startswith("missing or invalid webhook-")
    assert channel.received == []


@pytest.mark.parametrize("seconds_off", [-301, 301, -86_400])
async def test_a_timestamp_more_than_5_minutes_from_now_is_a_401(
    standard_app, clock, channel, seconds_off
):
    await store_conversations(standard_app, channel.url, ["c-1"])

    response = await post_notify(*standard_signed({"text": "t"}, clock, seconds_off=seconds_off))

    assert response.status == 401
    assert response.body["error"] == "webhook-timestamp is more than 5 minutes from now"
    assert channel.received == []


@pytest.mark.parametrize("seconds_off", [-300, 300])
async def test_a_timestamp_5_minutes_from_now_is_still_accepted(
    standard_app, clock, channel, seconds_off
):
    await store_conversations(standard_app, channel.url, ["c-1"])

    response = await post_notify(*standard_signed({"text": "t"}, clock, seconds_off=seconds_off))

    assert response.status == 200


async def test_a_captured_request_replayed_within_5_minutes_sends_nothing_again(
    standard_app, clock, channel
):
    await store_conversations(standard_app, channel.url, ["c-1", "c-2"])
    raw, headers = standard_signed({"text": "once"}, clock)
    first = await post_notify(raw, headers)

    clock.advance(minutes=4)
    again = await post_notify(raw, headers)

    assert again.status == first.status == 200
    assert again.body == first.body
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(channel.received) == 2


async def test_a_captured_request_replayed_after_5_minutes_is_a_401(standard_app, clock, channel):
    await store_conversations(standard_app, channel.url, ["c-1"])
    raw, headers = standard_signed({"text": "once"}, clock)
    await post_notify(raw, headers)

    clock.advance(minutes=5, seconds=1)
    again = await post_notify(raw, headers)

    assert again.status == 401
    assert len(channel.received) == 1


async def test_a_senders_retry_with_a_new_timestamp_gets_the_first_answer(
    standard_app, clock, channel
):
    await store_conversations(standard_app, channel.url, ["c-1"])
    first = await post_notify(*standard_signed({"text": "once"}, clock, webhook_id="msg_1"))

    clock.advance(hours=23)  # the sender retried all day: each try is signed anew
    again = await post_notify(*standard_signed({"text": "once"}, clock, webhook_id="msg_1"))

    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.body == first.body
    assert len(channel.received) == 1


async def test_webhook_id_is_the_key_when_an_idempotency_key_comes_too(
    standard_app, clock, channel
):
    """Idempotency-Key is not signed: a replay could change it, the webhook-id it cannot."""
    await store_conversations(standard_app, channel.url, ["c-1"])
    raw, headers = standard_signed({"text": "once"}, clock)
    await post_notify(raw, {**headers, "Idempotency-Key": "first"})

    again = await post_notify(raw, {**headers, "Idempotency-Key": "fresh"})

    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(channel.received) == 1


async def test_a_stale_standard_signature_is_refused_even_beside_a_valid_x_signature(
    standard_app, clock, channel
):
    await store_conversations(standard_app, channel.url, ["c-1"])
    raw, headers = standard_signed({"text": "t"}, clock, seconds_off=-3600)

    response = await post_notify(raw, {**headers, "X-Signature-256": sign(WHSEC, raw)})

    assert response.status == 401
    assert channel.received == []


async def test_an_x_signature_still_passes_with_a_whsec_secret(standard_app, clock, channel):
    """X-Signature-256 keeps its key: the secret's UTF-8 bytes, whatever its prefix."""
    await store_conversations(standard_app, channel.url, ["c-1"])
    raw = b'{"text": "old scheme"}'

    response = await post_notify(raw, {"X-Signature-256": sign(WHSEC, raw)})

    assert response.status == 200


async def test_webhook_id_is_an_idempotency_key_without_a_secret_too(app, channel):
    await store_conversations(app, channel.url, ["c-1"])

    await post_notify({"text": "once"}, {"webhook-id": "msg_1"})
    again = await post_notify({"text": "once"}, {"webhook-id": "msg_1"})

    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(channel.received) == 1


@pytest.mark.parametrize("webhook_id", ["", "x" * 256, "tab\there"])
async def test_an_unusable_webhook_id_is_a_400_naming_it(app, channel, webhook_id):
    response = await post_notify({"text": "x"}, {"webhook-id": webhook_id})

    assert response.status == 400
    assert response.body["detail"] == {"field": "webhook-id"}
    assert channel.received == []


@pytest.mark.parametrize("secret", ["whsec_", "whsec_not base64!", "whsec_abcde"])
async def test_a_whsec_secret_that_is_not_base64_is_a_bad_setting(app_env, monkeypatch, secret):
    monkeypatch.setenv("NOTIFY_WEBHOOK_SECRET", secret)
    await reset_app()
    try:
        response = await post_notify({"text": "hello"})
    finally:
        await reset_app()

    assert response.status == 500
    assert response.body["setting"] == "NOTIFY_WEBHOOK_SECRET"
    assert response.body["detail"] == "starts with whsec_, so the rest must be base64 of the key"


# PATCH /api/notify/{id} is signed, and answered once per key, like POST /api/notify.


async def done_notification(app, clock) -> str:
    notification = await app.notifications.add(
        Notification(
            id=Notification.new_id(), state=State.DONE, request={"text": "v1"}, created_at=clock()
        )
    )
    return notification.id


async def test_a_change_signed_the_standard_way_is_made_once(standard_app, clock, channel):
    notification_id = await done_notification(standard_app, clock)
    raw, headers = standard_signed({"text": "v2"}, clock)

    first = await patch_notification(notification_id, raw, headers)
    clock.advance(minutes=1)
    again = await patch_notification(notification_id, raw, headers)

    assert first.status == again.status == 202
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.headers["Location"] == first.headers["Location"]
    revisions = (await standard_app.notifications.get(notification_id)).revisions
    assert list(revisions) == [first.body["id"]]


async def test_a_stale_signed_change_is_a_401_and_changes_nothing(standard_app, clock, channel):
    notification_id = await done_notification(standard_app, clock)

    response = await patch_notification(
        notification_id, *standard_signed({"text": "v2"}, clock, seconds_off=-301)
    )

    assert response.status == 401
    assert not (await standard_app.notifications.get(notification_id)).revisions


async def test_a_changes_keys_are_its_own_not_those_of_posts(app, channel):
    await store_conversations(app, channel.url, ["c-1"])
    sent = await post_notify({"text": "v2"}, {"Idempotency-Key": "k-1"})

    change = await patch_notification(sent.body["id"], {"text": "v2"}, {"Idempotency-Key": "k-1"})

    assert change.status == 202
    assert "Idempotent-Replayed" not in change.headers
    assert change.body["action"] == "update"
