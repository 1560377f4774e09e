"""How every Storage client (tables and queues) talks to the account."""

from __future__ import annotations

from typing import Any
from urllib.request import getproxies


def client_options() -> dict[str, Any]:
    """Keyword arguments for an azure-data-tables or azure-storage-queue client."""
    return {
        # Fail within a Functions run rather than after azure-core's 5-minute defaults, and give
        # up on an unreachable account in about a second and a half.
        "connection_timeout": 10,
        "read_timeout": 30,
        "retry_total": 3,
        "retry_backoff_factor": 0.2,
        # With env settings on, aiohttp reads ~/.netrc and the proxy variables on a thread for
        # every request: a tenth of a busy instance's time. Only worth it with a proxy set.
        "use_env_settings": bool(getproxies()),
    }
