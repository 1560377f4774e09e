"""With an app id, proactive sends carry the bot's token from botbuilder's credentials, cached:
a client secret's (MultiTenant, and SingleTenant from its tenant's authority) or a managed
identity's (UserAssignedMSI, from the endpoint App Service gives the app), all from the loopback
identity server."""

from __future__ import annotations

import jwt
import msal
from botframework.connector.auth.managedidentity_app_credentials import (
    ManagedIdentityAppCredentials,
)

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


# A tenant for the single-tenant bot: its authority is `<login url>/<tenant>`, as Entra's is.
TENANT = "3f6c8a2e-1b4d-4e7a-9c0f-5d2b7e8a1c34"


async def test_a_single_tenant_bot_gets_its_token_from_its_tenants_authority(
    secured_env, app_with, channel, identity_server
):
    identity_server.tenants_asked.clear()
    app = await app_with(
        MicrosoftAppType="SingleTenant",
        MicrosoftAppTenantId=TENANT,
        ToChannelFromBotLoginUrl=identity_server.tenant_login_url(TENANT),
    )
    await store_conversations(app, channel.url, ["c-1"])

    response = await post_notify({"text": "single tenant"})

    assert response.body["sent"] == 1
    token = channel.received[0].headers["Authorization"].split(" ", 1)[1]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["appid"], claims["tid"]) == (APP_ID, TENANT)
    assert identity_server.tenants_asked == [TENANT]


async def test_a_managed_identity_bot_gets_its_token_from_the_identity_endpoint(
    secured_env, app_with, channel, identity_server, monkeypatch
):
    # What App Service and Azure Functions give an app with a managed identity; no password.
    monkeypatch.setenv("IDENTITY_ENDPOINT", identity_server.managed_identity_endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", identity_server.identity_header)
    monkeypatch.setattr(ManagedIdentityAppCredentials, "global_token_cache", msal.TokenCache())
    identity_server.identities_asked.clear()
    app = await app_with(MicrosoftAppType="UserAssignedMSI", MicrosoftAppPassword="")
    await store_conversations(app, channel.url, [f"c-{n}" for n in range(5)])

    response = await post_notify({"text": "managed identity"})

    assert response.body["sent"] == 5
    [authorization] = {r.headers["Authorization"] for r in channel.received}
    claims = jwt.decode(authorization.split(" ", 1)[1], options={"verify_signature": False})
    assert claims["appid"] == APP_ID
    assert identity_server.identities_asked == [APP_ID]  # one token for the whole fan-out


async def test_a_tenant_without_an_app_type_is_a_single_tenant_bot(
    secured_env, app_with, channel, identity_server, monkeypatch
):
    # Azure creates no multi-tenant bots any more: a new bot's settings name its tenant.
    monkeypatch.delenv("MicrosoftAppType")
    identity_server.tenants_asked.clear()
    app = await app_with(
        MicrosoftAppTenantId=TENANT,
        ToChannelFromBotLoginUrl=identity_server.tenant_login_url(TENANT),
    )
    await store_conversations(app, channel.url, ["c-1"])

    response = await post_notify({"text": "new bot"})

    assert response.body["sent"] == 1
    assert app.settings.app_type == "SingleTenant"
    assert identity_server.tenants_asked == [TENANT]
