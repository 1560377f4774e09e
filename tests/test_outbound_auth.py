"""With an app id, proactive sends carry the bot's token from botbuilder's credentials, cached."""

from __future__ import annotations

import jwt

from tests.support.credentials import APP_ID
from tests.support.functions import post_notify
from tests.support.references import store_conversations


async def test_proactive_sends_carry_the_bots_bearer_token(secured_app, channel, identity_server):
    await store_conversations(secured_app, channel.url, ["c-1"])

    response = await post_notify({"text": "signed"})

    assert response.body["sent"] == 1
    [sent] = channel.received
    scheme, token = sent.headers["Authorization"].split(" ", 1)
    assert scheme == "Bearer"
    assert jwt.decode(token, options={"verify_signature": False})["appid"] == APP_ID


async def test_one_token_serves_a_whole_fan_out_and_later_ones(
    secured_app, channel, identity_server
):
    await store_conversations(secured_app, channel.url, [f"c-{n}" for n in range(40)])

    first = await post_notify({"text": "one"})
    second = await post_notify({"text": "two"})

    assert first.body["sent"] == second.body["sent"] == 40
    assert identity_server.token_requests == 1
    assert len({r.headers["Authorization"] for r in channel.received}) == 1


async def test_a_token_near_its_expiry_is_renewed(
    secured_app, identity_server, channel, monkeypatch
):
    # Lifetimes under the five-minute renewal margin: every send needs a fresh token.
    monkeypatch.setattr(identity_server, "token_lifetime_seconds", 120)
    await store_conversations(secured_app, channel.url, ["c-1"])
    await post_notify({"text": "one"})
    await post_notify({"text": "two"})

    assert identity_server.token_requests == 2
