"""A counting reverse proxy on loopback: passes every request through to one upstream unchanged
(e.g. Azurite's table endpoint) and records it, so a run's storage operations can be counted.
On cue (`fail`) it is a faulty network or service instead: it drops the connection of a chosen
request before passing it on, or after (the write lands, its answer is lost), or answers 503.

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
# An entity key in a path or a $batch's part URL, or a JSON body's PartitionKey.
_PARTITION_KEY = re.compile(rb"""PartitionKey(?:='|"\s*:\s*")([^'"]*)""")


@dataclass(frozen=True)
class Forwarded:
    method: str
    path: str  # percent-decoded, without the query string
    query: str  # percent-decoded
    row_key: str | None  # from the path's entity key, else from a JSON body's RowKey
    status: int
    at: float  # time.monotonic() on arrival
    seconds: float  # until upstream's answer was read
    client_port: int = 0  # the client's end of the connection: a new one, a new port
    partition_key: str | None = None  # the first one the path or the body names

    @property
    def resource(self) -> str:
        """The path's last segment without its key: a table name, `Tables` or `$batch`."""
        return self.path.rstrip("/").rsplit("/", 1)[-1].split("(", 1)[0]


@dataclass
class Fault:
    """What the next `times` requests to `resource` (a table name, `$batch`, ...) meet, or every
    request to it for `seconds` from the first one that meets it (an outage)."""

    resource: str
    times: int
    drop: str = "after"  # "before" or "after" passing it on; "" answers `status` instead
    status: int = 503
    seconds: float = 0.0
    since: float | None = None

    def meets(self, now: float) -> bool:
        if self.seconds:
            self.since = now if self.since is None else self.since
            return now - self.since < self.seconds
        if self.times > 0:
            self.times -= 1
            return True
        return False


class CountingProxy(LoopbackServer):
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        super().__init__()
        self.upstream = f"http://{upstream_host}:{upstream_port}"
        self._session: aiohttp.ClientSession | None = None
        self._forwarded: list[Forwarded] = []
        self._faults: list[Fault] = []
        self.faults_met = 0
        self._lock = threading.Lock()

    def fail(
        self,
        resource: str,
        times: int = 1,
        drop: str = "after",
        status: int = 503,
        seconds: float = 0.0,
    ) -> None:
        """Let the next `times` requests to `resource` fail, or all of them for `seconds` from
        the first (see Fault)."""
        with self._lock:
            self._faults.append(Fault(resource, times, drop, status, seconds))

    @property
    def forwarded(self) -> list[Forwarded]:
        with self._lock:
            return list(self._forwarded)

    def reset(self) -> None:
        with self._lock:
            self._forwarded.clear()
            self._faults.clear()
            self.faults_met = 0

    def _fault_for(self, path: str) -> Fault | None:
        resource = unquote(path).rstrip("/").rsplit("/", 1)[-1].split("(", 1)[0]
        with self._lock:
            for fault in self._faults:
                if fault.resource == resource and fault.meets(time.monotonic()):
                    self.faults_met += 1
                    return fault
        return None

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
        fault = self._fault_for(request.raw_path.partition("?")[0])
        if fault is not None and not fault.drop:
            return web.Response(status=fault.status, body=b'{"odata.error": {}}')
        if fault is not None and fault.drop == "before":
            return _dropped(request)
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
            _client_port(request),
            _partition_key(unquote(path).encode(), body),
        )
        with self._lock:
            self._forwarded.append(record)
        if fault is not None:
            return _dropped(request)  # upstream took it; its answer never comes back
        return response


def _client_port(request: web.Request) -> int:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return peer[1] if peer else 0


def _dropped(request: web.Request) -> web.Response:
    """Close the client's connection without an answer, as a reset does."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=500)  # never reaches the client


def _partition_key(path: bytes, body: bytes) -> str | None:
    found = _PARTITION_KEY.search(path) or _PARTITION_KEY.search(body or b"")
    return found[1].decode("utf-8", "replace") if found else None


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
