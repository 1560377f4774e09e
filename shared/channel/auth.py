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
    GovernmentConstants,
    ManagedIdentityServiceClientCredentialsFactory,
    MicrosoftAppCredentials,
    PasswordServiceClientCredentialFactory,
    ServiceClientCredentialsFactory,
)
from msal import ConfidentialClientApplication
from msrest.authentication import Authentication

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
    return _PasswordCredentialFactory(settings.app_id, settings.app_password, tenant_id=tenant)


class _PasswordCredentialFactory(PasswordServiceClientCredentialFactory):
    """botbuilder's, except that a private cloud's authority (ToChannelFromBotLoginUrl, which names
    the tenant for a single-tenant bot) is checked with Microsoft only when validate_authority
    asks it, as BotBuilder .NET does: botbuilder-python drops the flag, and MSAL then asks
    login.microsoftonline.com about every host it does not know."""

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        endpoint = (login_endpoint or "").lower()
        known = (
            AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX,
            GovernmentConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX,
        )
        if validate_authority or not self.app_id or not endpoint or endpoint.startswith(known):
            return await super().create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority
            )
        if not await self.is_valid_app_id(app_id):
            raise ValueError("Invalid app_id")
        return PrivateCloudCredentials(app_id, self.password, oauth_scope, login_endpoint)


class PrivateCloudCredentials(MicrosoftAppCredentials):
    """A client secret's credentials at an authority MSAL does not know (a private cloud's, or a
    tenant's there), which it must not ask login.microsoftonline.com about."""

    def __init__(self, app_id: str, password: str, oauth_scope: str, authority: str) -> None:
        super().__init__(app_id, password, oauth_scope=oauth_scope)
        self.oauth_endpoint = authority

    def get_access_token(self, force_refresh: bool = False) -> str:
        if self.app is None:
            # Built on first use, as botbuilder's are: MSAL reads the authority's metadata.
            self.app = ConfidentialClientApplication(
                client_id=self.microsoft_app_id,
                client_credential=self.microsoft_app_password,
                authority=self.oauth_endpoint,
                validate_authority=False,
            )
        return super().get_access_token(force_refresh)


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
        self._renew_at = time.monotonic() + lifetime_seconds(token) - TOKEN_RENEW_MARGIN_SECONDS


def lifetime_seconds(token: str) -> float:
    """How long a bearer token is good for, from its `exp` claim (a default when unreadable)."""
    try:
        expires = jwt.decode(token, options={"verify_signature": False})["exp"]
        return max(float(expires) - time.time(), 0.0)
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return OPAQUE_TOKEN_LIFETIME_SECONDS + TOKEN_RENEW_MARGIN_SECONDS
