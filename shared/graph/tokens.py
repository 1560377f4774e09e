"""The bot's own token for Microsoft Graph, in a given tenant.

Graph answers for one directory at a time, so a token is asked of that tenant's authority (a
multi-tenant bot reaches each organisation that consented to it). The credentials are
botbuilder's own classes for the bot's identity: its client secret (MicrosoftAppCredentials, for
`{GRAPH_ENDPOINT}/.default` from the tenant's authority), or its user-assigned managed identity
(ManagedIdentityAppCredentials, for Graph as the resource: a managed identity lives in one
tenant, the bot's own).
"""

from __future__ import annotations

import asyncio
import time

from botframework.connector.auth import (
    AppCredentials,
    ManagedIdentityAppCredentials,
    MicrosoftAppCredentials,
)

from shared.channel.auth import (
    TOKEN_RENEW_MARGIN_SECONDS,
    PrivateCloudCredentials,
    lifetime_seconds,
)
from shared.settings import Settings


class GraphTokens:
    def __init__(self, settings: Settings) -> None:
        self._app_id = settings.app_id
        self._password = settings.app_password
        self._managed_identity = settings.app_type == "UserAssignedMSI"
        self._graph = settings.graph_endpoint
        # A private cloud's (or the tests' loopback) login host: tenants' authorities are there.
        login_url = settings.auth_endpoints.get("to_channel_from_bot_login_url", "")
        self._private_login = "/".join(login_url.split("/")[:3]) if login_url else ""
        self._credentials: dict[str, AppCredentials] = {}
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
            credentials = self._credentials[tenant_id] = self._credentials_for(tenant_id)
        # MSAL's token call is blocking I/O; keep it off the event loop.
        token = await asyncio.to_thread(credentials.get_access_token)
        renew_at = time.monotonic() + lifetime_seconds(token) - TOKEN_RENEW_MARGIN_SECONDS
        self._tokens[tenant_id] = (token, renew_at)
        return token

    def _credentials_for(self, tenant_id: str) -> AppCredentials:
        if self._managed_identity:
            return ManagedIdentityAppCredentials(self._app_id, oauth_scope=self._graph)
        scope = f"{self._graph}/.default"
        if self._private_login:
            authority = f"{self._private_login}/{tenant_id}"
            return PrivateCloudCredentials(self._app_id, self._password, scope, authority)
        return MicrosoftAppCredentials(
            self._app_id,
            self._password,
            channel_auth_tenant=tenant_id,
            oauth_scope=scope,
        )
