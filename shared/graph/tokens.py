"""The bot's own token for Microsoft Graph, in a given tenant.

Graph answers for one directory at a time, so a token is asked of that tenant's authority (a
multi-tenant bot reaches each organisation that consented to it). The credentials are
botbuilder's own, from the same factory as the Bot Connector's (client secret, or the app's
user-assigned managed identity), with Graph's scope instead of the Bot Framework's.
"""

from __future__ import annotations

import asyncio
import time

from botframework.connector.auth import AuthenticationConstants, ServiceClientCredentialsFactory
from msrest.authentication import Authentication

from shared.channel.auth import TOKEN_RENEW_MARGIN_SECONDS, lifetime_seconds


class GraphTokens:
    def __init__(
        self, credentials: ServiceClientCredentialsFactory, app_id: str, graph_endpoint: str
    ) -> None:
        self._factory = credentials
        self._app_id = app_id
        self._scope = f"{graph_endpoint}/.default"
        self._credentials: dict[str, Authentication] = {}
        self._tokens: dict[str, tuple[str, float]] = {}  # tenant -> token, when to renew
        self._locks: dict[str, asyncio.Lock] = {}

    async def authorization(self, tenant_id: str) -> str | None:
        """The Authorization header for a Graph call about the tenant's directory; None with
        auth off (no app id: local runs and tests, which call a loopback Graph)."""
        if not self._app_id:
            return None
        token, renew_at = self._tokens.get(tenant_id, ("", 0.0))
        if not token or time.monotonic() >= renew_at:
            async with self._locks.setdefault(tenant_id, asyncio.Lock()):
                token, renew_at = self._tokens.get(tenant_id, ("", 0.0))
                if not token or time.monotonic() >= renew_at:
                    token = await self._renew(tenant_id)
        return f"Bearer {token}"

    async def _renew(self, tenant_id: str) -> str:
        credentials = self._credentials.get(tenant_id)
        if credentials is None:
            authority = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX + tenant_id
            credentials = await self._factory.create_credentials(
                self._app_id, self._scope, authority, True
            )
            self._credentials[tenant_id] = credentials
        # MSAL's token call is blocking I/O; keep it off the event loop.
        token = await asyncio.to_thread(credentials.get_access_token)
        renew_at = time.monotonic() + lifetime_seconds(token) - TOKEN_RENEW_MARGIN_SECONDS
        self._tokens[tenant_id] = (token, renew_at)
        return token
