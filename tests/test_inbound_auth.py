"""With an app id, /api/messages accepts only activities carrying a valid channel token."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from testbed.activities import activity
from tests.support.credentials import APP_ID
from tests.support.functions import post_activity
from tests.support.references import stored_references

NOW = int(time.time())
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


async def test_an_activity_with_a_valid_token_is_processed_and_answered(
    secured_app, channel, identity_server
):
    body = activity(channel.url, "conv-1")
    token = identity_server.channel_token(channel.url)

    response = await post_activity(body, {"Authorization": f"Bearer {token}"})

    assert response.status == 200
    assert await secured_app.store.get("msteams", "conv-1") is not None
    [reply] = channel.received
    assert reply.headers["Authorization"].startswith("Bearer ")


BAD_TOKENS = {
    "bad-signature": {"_key": OTHER_KEY},
    "expired": {"iat": NOW - 7200, "nbf": NOW - 7200, "exp": NOW - 3600},
    "not-yet-valid": {"nbf": NOW + 3600, "iat": NOW + 3600, "exp": NOW + 7200},
    "wrong-audience": {"aud": "someone-elses-app-id"},
    "no-audience": {"aud": None},
    "wrong-issuer": {"iss": "https://issuer.invalid"},
    "unknown-key-id": {"_kid": "no-such-key"},
    "service-url-mismatch": {"serviceurl": "https://smba.trafficmanager.net/amer/"},
    "no-service-url": {"serviceurl": None},
}


@pytest.mark.parametrize("claims", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
async def test_a_bad_token_is_a_401_and_nothing_is_stored_or_sent(
    secured_app, channel, identity_server, claims
):
    token = identity_server.channel_token(channel.url, **claims)

    response = await post_activity(
        activity(channel.url, "conv-1"), {"Authorization": f"Bearer {token}"}
    )

    assert response.status == 401
    assert response.body == {"error": "unauthorized"}
    assert await stored_references(secured_app) == []
    assert channel.received == []


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "Bearer a b", "bearer x"],
    ids=["none", "scheme-only", "empty-token", "basic", "garbage", "three-parts", "lowercase"],
)
async def test_a_missing_or_malformed_authorization_header_is_a_401(secured_app, channel, header):
    headers = {"Authorization": header} if header else {}

    response = await post_activity(activity(channel.url, "conv-1"), headers)

    assert response.status == 401
    assert await stored_references(secured_app) == []


async def test_a_token_for_another_app_cannot_be_replayed_here(
    secured_app, channel, identity_server
):
    token = identity_server.channel_token(channel.url, aud=APP_ID.replace("0", "1"))

    response = await post_activity(
        activity(channel.url, "conv-1"), {"Authorization": f"Bearer {token}"}
    )

    assert response.status == 401
