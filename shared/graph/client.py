"""Microsoft Graph's REST calls for people audiences, on one pooled aiohttp session.

Why not msgraph-sdk: measured side by side (msgraph-sdk 1.65 with kiota, httpx and
azure-identity; a fresh process importing it and building the request builders these calls use),
0.42-0.89 s and 62 MB of RSS, against 0.23 s and 34 MB for aiohttp alone, which every function
of the app imports anyway; and 392 MB more in the deployment package. The calls here are five
documented shapes (a page of group members, a user, $batch, an app installation and its chat),
read as plain JSON.

Every request waits its turn in the tenant's Graph budget (GRAPH_MAX_RPS_PER_TENANT, shared by
the instances like the Teams one). A 429 or 503 pauses the tenant for its Retry-After, here and on
the other instances, and the request is tried again, a few times; then GraphBusyError, and the
work item runs again later. Any other refusal is a GraphError with Graph's own error code.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import aiohttp

from shared.delivery.rate_limits import RateLimits, Ticket
from shared.graph.tokens import GraphTokens
from shared.pooling import POOLED_IDLE_SECONDS
from shared.telemetry.current import telemetry
from shared.telemetry.names import GRAPH

logger = logging.getLogger(__name__)

VERSION = "v1.0"
# Graph's $batch takes at most 20 requests (json-batching docs).
MAX_BATCH_REQUESTS = 20
# Throttled or unavailable: wait Retry-After, then try again; Graph's own advice.
RETRY_STATUSES = (429, 503, 504)
MAX_ATTEMPTS = 4
# A path segment that names a resource kind (`users`, `$batch`, `microsoft.graph.group`), not one
# resource: the rest are ids and addresses, left out of span names.
_WORD = re.compile(r"[A-Za-z$][A-Za-z.$]*")
DEFAULT_RETRY_AFTER_SECONDS = 2.0
MAX_RETRY_AFTER_SECONDS = 60.0
TIMEOUT_SECONDS = 30
# Graph budgets are kept apart from the Teams ones in the shared table: the tenant key is this
# prefix and the tenant id.
BUDGET_PREFIX = "graph:"


class GraphError(Exception):
    """Graph refused the request: its HTTP status and error code (`Request_ResourceNotFound`,
    `Forbidden`, ...)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class GraphBusyError(GraphError):
    """Graph stayed throttled or unavailable through every try: run the work again later."""


class GraphClient:
    def __init__(self, endpoint: str, tokens: GraphTokens, budget: RateLimits) -> None:
        """`budget`: requests per second per tenant; its tenants are BUDGET_PREFIX + tenant id,
        and its per-"conversation" limit, keyed the same, is the tenant's too."""
        self._root = f"{endpoint}/{VERSION}"
        self._tokens = tokens
        self._budget = budget
        self._session: aiohttp.ClientSession | None = None

    async def get(
        self, tenant_id: str, path: str, params: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        return await self._call(tenant_id, "GET", self._url(path, params))

    async def post(self, tenant_id: str, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self._call(tenant_id, "POST", self._url(path), body)

    async def page(
        self,
        tenant_id: str,
        path: str,
        params: Mapping[str, str] | None = None,
        next_link: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a collection, from its start or from a page's `@odata.nextLink`; the
        items and the next page's link (None after the last)."""
        if next_link is not None and not next_link.startswith(self._root + "/"):
            # A link elsewhere would take the bot's token there.
            raise GraphError(400, "UnexpectedNextLink", "the next page is not on GRAPH_ENDPOINT")
        url = next_link or self._url(path, params)
        answer = await self._call(tenant_id, "GET", url)
        items = [v for v in answer.get("value", []) if isinstance(v, dict)]
        following = answer.get("@odata.nextLink")
        return items, following if isinstance(following, str) else None

    async def batch(
        self, tenant_id: str, requests: Sequence[tuple[str, str]]
    ) -> dict[str, tuple[int, dict[str, Any]]]:
        """GETs of (id, relative url) in one $batch (at most MAX_BATCH_REQUESTS): each id's
        status and body. A request Graph throttled within the batch is tried again."""
        pending = {request_id: url for request_id, url in requests}
        answers: dict[str, tuple[int, dict[str, Any]]] = {}
        for attempt in range(MAX_ATTEMPTS):
            body = {
                "requests": [
                    {"id": request_id, "method": "GET", "url": url}
                    for request_id, url in pending.items()
                ]
            }
            answer = await self._call(tenant_id, "POST", self._url("$batch"), body)
            retry_after = 0.0
            for response in answer.get("responses", []):
                request_id, status = str(response.get("id")), int(response.get("status", 0))
                if request_id not in pending:
                    continue
                if status in RETRY_STATUSES and attempt < MAX_ATTEMPTS - 1:
                    retry_after = max(retry_after, _retry_after(response.get("headers") or {}))
                    continue
                body_of = response.get("body")
                answers[request_id] = (status, body_of if isinstance(body_of, dict) else {})
                del pending[request_id]
            if not pending:
                return answers
            await self._pause(tenant_id, retry_after)
        raise GraphBusyError(429, "TooManyRequests", f"{len(pending)} batched request(s) throttled")

    async def close(self) -> None:
        """Close the session and leave the shared budget."""
        if self._session is not None:
            await self._session.close()
        await self._budget.close()

    def _url(self, path: str, params: Mapping[str, str] | None = None) -> str:
        query = f"?{urlencode(params, safe='$,/()=')}" if params else ""
        return f"{self._root}/{path.lstrip('/')}{query}"

    async def _call(
        self, tenant_id: str, method: str, url: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        session = self._session_ready()
        for attempt in range(MAX_ATTEMPTS):
            headers = {"Accept": "application/json"}
            authorization = await self._tokens.authorization(tenant_id)
            if authorization is not None:
                headers["Authorization"] = authorization
            ticket = await self._turn(tenant_id)
            try:
                with telemetry().client_call(method, self._template(url), GRAPH, url) as call:
                    async with session.request(
                        method, url, json=body, headers=headers, allow_redirects=False
                    ) as response:
                        status = response.status
                        text = await response.text()
                        retry_after = _retry_after(response.headers)
                        call.answered(status)
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                if attempt == MAX_ATTEMPTS - 1:
                    raise GraphBusyError(0, type(error).__name__, "no answer from Graph") from None
                await asyncio.sleep(DEFAULT_RETRY_AFTER_SECONDS)
                continue
            finally:
                # Counted in the tenant's window from its answer, as sends are: requests that
                # took long to arrive never crowd one second at Graph's end.
                self._budget.done(ticket)
            if status == 429:
                telemetry().count_throttled(tenant_id, GRAPH)
            if status in RETRY_STATUSES and attempt < MAX_ATTEMPTS - 1:
                logger.warning("Graph answered %d; waiting %.1f s", status, retry_after)
                await self._pause(tenant_id, retry_after)
                continue
            answer = _json(text)
            if status >= 400:
                error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
                kind = GraphBusyError if status in RETRY_STATUSES else GraphError
                raise kind(status, str(error.get("code", "")), str(error.get("message", "")))
            return answer
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def _template(self, url: str) -> str:
        """The URL's path with its ids left out, as its span is named: `/v1.0/users/{id}`."""
        path = url[len(self._root) :].split("?", 1)[0]
        kept = (s if _WORD.fullmatch(s) else "{id}" for s in path.split("/")[1:])
        return "/".join((f"/{VERSION}", *kept))

    async def _turn(self, tenant_id: str) -> Ticket:
        key = _budget_key(tenant_id)
        while True:
            await self._budget.until_free(key, key)
            if (ticket := self._budget.try_take(key, key)) is not None:
                return ticket

    async def _pause(self, tenant_id: str, seconds: float) -> None:
        """Wait out Graph's Retry-After; the tenant's other requests, here and on the other
        instances, wait too."""
        await self._budget.pause_tenant(_budget_key(tenant_id), seconds)
        await asyncio.sleep(seconds)

    def _session_ready(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(keepalive_timeout=POOLED_IDLE_SECONDS),
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
            )
        return self._session


def _budget_key(tenant_id: str) -> str:
    return BUDGET_PREFIX + tenant_id


def _retry_after(headers: Mapping[str, str]) -> float:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        seconds = float(value) if value is not None else DEFAULT_RETRY_AFTER_SECONDS
    except ValueError:
        seconds = DEFAULT_RETRY_AFTER_SECONDS
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
