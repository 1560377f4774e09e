"""A counting reverse proxy on loopback: passes every request through to one upstream unchanged
(e.g. Azurite's table endpoint) and records it, so a run's storage operations can be counted.

Point a connection string's endpoint at `url` instead of the service's own. Paths, query strings
and bodies go through byte for byte, so shared-key signatures still match upstream. A Table
Storage transaction ($batch) is one request, as it is one operation for the service.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from urllib.parse import unquote, unquote_plus

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from testbed.loopback_server import LoopbackServer

# Per-connection headers: each hop has its own. Content-Length is recomputed for the body sent.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
_ROW_KEY = re.compile(r"RowKey='((?:[^']|'')*)'")


@dataclass(frozen=True)
class Forwarded:
    method: str
    path: str  # percent-decoded, without the query string
    query: str  # percent-decoded
    row_key: str | None  # from the path's entity key, else from a JSON body's RowKey
    status: int
    at: float  # time.monotonic() on arrival
    seconds: float  # until upstream's answer was read

    @property
    def resource(self) -> str:
        """The path's last segment without its key: a table name, `Tables` or `$batch`."""
        return self.path.rstrip("/").rsplit("/", 1)[-1].split("(", 1)[0]


class CountingProxy(LoopbackServer):
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        super().__init__()
        self.upstream = f"http://{upstream_host}:{upstream_port}"
        self._session: aiohttp.ClientSession | None = None
        self._forwarded: list[Forwarded] = []
        self._lock = threading.Lock()

    @property
    def forwarded(self) -> list[Forwarded]:
        with self._lock:
            return list(self._forwarded)

    def reset(self) -> None:
        with self._lock:
            self._forwarded.clear()

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._forward)
        app.on_cleanup.append(self._close_session)

    async def _close_session(self, _app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        if self._session is None:
            # No limit on connections: the proxy must not queue what the clients send at once.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0), auto_decompress=False
            )
        # The raw stream: request.read() would refuse bodies over client_max_size (1 MiB).
        body = await request.content.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        async with self._session.request(
            request.method,
            URL(self.upstream + request.raw_path, encoded=True),
            data=body or None,
            headers=headers,
            allow_redirects=False,
        ) as answer:
            payload = await answer.read()
            kept = CIMultiDict(
                (k, v) for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP
            )
            response = web.Response(
                status=answer.status, reason=answer.reason, body=payload, headers=kept
            )
        path, _, query = request.raw_path.partition("?")
        record = Forwarded(
            request.method,
            unquote(path),
            unquote_plus(query),  # a query string may encode spaces as +
            _row_key(unquote(path), request.content_type, body),
            answer.status,
            arrived,
            time.monotonic() - arrived,
        )
        with self._lock:
            self._forwarded.append(record)
        return response


def _row_key(path: str, content_type: str, body: bytes) -> str | None:
    if found := _ROW_KEY.search(path):
        return found[1].replace("''", "'")
    if content_type == "application/json" and body:
        try:
            entity = json.loads(body)
        except ValueError:
            return None
        if isinstance(entity, dict) and isinstance(entity.get("RowKey"), str):
            return entity["RowKey"]
    return None
