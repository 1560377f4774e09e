"""`make run` with the bot's identity set, as when real Teams reaches it through a dev tunnel: the
local runner checks each activity's channel token as Azure does, and signs its replies.

The tokens are shaped like the channel's (issuer, audience, serviceurl claim, a key from the
OpenID metadata) and come from the loopback identity server, which the runner is pointed at with
BotBuilder's own endpoint settings in place of Microsoft's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from testbed.activities import activity
from tests.support.app_settings import emulator_settings
from tests.support.devhost_process import start_devhost

APP_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def secured_runner(azurite, channel_stub, identity_server, tmp_path_factory) -> Iterator[str]:
    """The real app served by `python -m devhost`, with an app id and the loopback identity."""
    env = {
        **os.environ,
        **emulator_settings(azurite.connection_string),
        "MicrosoftAppId": identity_server.app_id,
        "MicrosoftAppPassword": identity_server.app_password,
        "MicrosoftAppType": "SingleTenant",
        "MicrosoftAppTenantId": "3f6c8a2e-1b4d-4e7a-9c0f-5d2b7e8a1c34",
        "ToChannelFromBotLoginUrl": identity_server.login_url,
        "ToChannelFromBotOAuthScope": "https://api.botframework.com",
        "ToBotFromChannelTokenIssuer": "https://api.botframework.com",
        "ToBotFromChannelOpenIdMetadataUrl": identity_server.openid_metadata_url,
        "ToBotFromEmulatorOpenIdMetadataUrl": identity_server.openid_metadata_url,
        "ALLOWED_SERVICE_URLS": "127.0.0.1",
        "REQUESTS_CA_BUNDLE": str(identity_server.cert_path),
        "SSL_CERT_FILE": str(identity_server.cert_path),
        "NOTIFY_SCHEDULE": "0 0 0 1 1 *",
    }
    log = tmp_path_factory.mktemp("secured-runner") / "runner.log"
    process, url = start_devhost(APP_ROOT, env, log)
    yield url
    process.terminate()
    process.wait(10)


async def post_activity(url: str, body: dict, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/api/messages", json=body, headers=headers) as response,
    ):
        return response.status


async def test_an_activity_with_the_channels_token_is_answered_with_the_bots(
    secured_runner, channel, identity_server
):
    body = activity(channel.url, "local-teams-1", text="hello from Teams")

    status = await post_activity(secured_runner, body, identity_server.channel_token(channel.url))

    assert status == 200
    [reply] = channel.wait_for(1)
    assert reply.conversation_id == "local-teams-1"
    assert reply.headers["Authorization"].startswith("Bearer ")


@pytest.mark.parametrize(
    "token",
    [None, "not-a-jwt", "wrong audience", "wrong service url"],
    ids=["none", "garbage", "audience", "service-url"],
)
async def test_an_activity_without_a_valid_channel_token_is_refused(
    secured_runner, channel, identity_server, token
):
    body = activity(channel.url, "local-teams-2")
    if token == "wrong audience":
        token = identity_server.channel_token(channel.url, aud="someone-else")
    elif token == "wrong service url":
        token = identity_server.channel_token("https://elsewhere.example.com/")

    status = await post_activity(secured_runner, body, token)

    assert status == 401
    assert channel.received == []
