"""How every Storage client (tables and queues) talks to the account."""

from __future__ import annotations

from typing import Any
from urllib.request import getproxies

import aiohttp
from azure.core.pipeline.transport import AioHttpTransport

from shared.pooling import POOLED_IDLE_SECONDS


class PooledTransport(AioHttpTransport):
    """azure-core's aiohttp transport, whose pooled connections are dropped once idle for
    POOLED_IDLE_SECONDS (aiohttp's own default is 15 s): a server that closed one first would
    otherwise meet the next request on it with a reset, which for a POST the SDK cannot retry."""

    async def open(self) -> None:
        if not self.session and self._session_owner:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(keepalive_timeout=POOLED_IDLE_SECONDS),
                trust_env=self._use_env_settings,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,  # as azure-core's own: the SDK decodes what it reads
            )
        await super().open()


def client_options() -> dict[str, Any]:
    """Keyword arguments for an azure-data-tables or azure-storage-queue client."""
    connection = {
        # Fail within a Functions run rather than after azure-core's 5-minute defaults, and give
        # up on an unreachable account in about a second and a half.
        "connection_timeout": 10,
        "read_timeout": 30,
        # With env settings on, aiohttp reads ~/.netrc and the proxy variables on a thread for
        # every request: a tenth of a busy instance's time. Only worth it with a proxy set.
        "use_env_settings": bool(getproxies()),
    }
    return {
        **connection,
        "retry_total": 3,
        "retry_backoff_factor": 0.2,
        "transport": PooledTransport(**connection),
    }
