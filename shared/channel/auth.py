"""Bot Framework authentication: inbound token checks and the bot's outbound token."""

from __future__ import annotations

import asyncio
import time

import jwt
from botframework.connector.auth import (
    AuthenticationConstants,
    BotFrameworkAuthentication,
    BotFrameworkAuthenticationFactory,
    ClaimsIdentity,
    ManagedIdentityServiceClientCredentialsFactory,
    PasswordServiceClientCredentialFactory,
    ServiceClientCredentialsFactory,
)

from shared.settings import Settings

# Renew a little before expiry so a token never lapses in flight.
TOKEN_RENEW_MARGIN_SECONDS = 300
# For a token whose expiry we cannot read (not a JWT), ask MSAL again after this long.
OPAQUE_TOKEN_LIFETIME_SECONDS = 300


def create_authentication(settings: Settings) -> BotFrameworkAuthentication:
    return BotFrameworkAuthenticationFactory.create(
        credential_factory=_credential_factory(settings),
        **settings.auth_endpoints,
    )


def _credential_factory(settings: Settings) -> ServiceClientCredentialsFactory:
    if settings.app_type == "UserAssignedMSI":
        return ManagedIdentityServiceClientCredentialsFactory(settings.app_id)
    tenant = settings.app_tenant_id if settings.app_type == "SingleTenant" else None
    return PasswordServiceClientCredentialFactory(
        settings.app_id, settings.app_password, tenant_id=tenant
    )


def bot_claims(app_id: str) -> ClaimsIdentity:
    """The identity botbuilder gives a proactive turn (CloudAdapterBase.create_claims_identity)."""
    return ClaimsIdentity(
        {
            AuthenticationConstants.AUDIENCE_CLAIM: app_id,
            AuthenticationConstants.APP_ID_CLAIM: app_id,
        },
        True,
    )


class OutboundTokens:
    """The bot's bearer token for Bot Connector calls, from botbuilder's own credentials.

    The credentials come from the same connector factory botbuilder would use (so cloud and app
    type settings apply unchanged); the token is cached until shortly before it expires and
    fetched by one caller at a time, so a fan-out of thousands asks MSAL once.
    """

    def __init__(self, authentication: BotFrameworkAuthentication, app_id: str) -> None:
        self._authentication = authentication
        self._app_id = app_id
        self._credentials = None
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def authorization(self, service_url: str) -> str | None:
        if not self._app_id:
            return None  # auth off: botbuilder sends no Authorization header either
        if self._token is None or time.monotonic() >= self._renew_at:
            async with self._lock:
                if self._token is None or time.monotonic() >= self._renew_at:
                    await self._renew(service_url)
        return f"Bearer {self._token}"

    async def _renew(self, service_url: str) -> None:
        if self._credentials is None:
            factory = self._authentication.create_connector_factory(bot_claims(self._app_id))
            connector = await factory.create(service_url, None)
            self._credentials = connector.config.credentials
        # MSAL's token call is blocking I/O; keep it off the event loop.
        token = await asyncio.to_thread(self._credentials.get_access_token)
        self._token = token
        self._renew_at = time.monotonic() + _lifetime_seconds(token) - TOKEN_RENEW_MARGIN_SECONDS


def _lifetime_seconds(token: str) -> float:
    try:
        expires = jwt.decode(token, options={"verify_signature": False})["exp"]
        return max(float(expires) - time.time(), 0.0)
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return OPAQUE_TOKEN_LIFETIME_SECONDS + TOKEN_RENEW_MARGIN_SECONDS
