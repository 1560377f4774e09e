"""A caller's callback endpoint on loopback: checks each event's Standard Webhooks signature,
records what it got, and answers as told, in turn (500, then 429, then 2xx, ...)."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass

from aiohttp import web

import shared.standard_webhooks as standard_webhooks
from testbed.loopback_server import LoopbackServer


@dataclass(frozen=True)
class Delivery:
    webhook_id: str
    timestamp: str
    signed: bool  # the webhook-signature header checks out against the secret
    body: dict
    answered: int


class CallbackReceiver(LoopbackServer):
    def __init__(self, secret: str) -> None:
        super().__init__()
        self._key = standard_webhooks.key_of(secret, "CALLBACK_SECRET")
        self._answers: deque[tuple[int, dict[str, str]]] = deque()
        self._got: list[Delivery] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/teams"

    def answer(self, status: int, headers: dict[str, str] | None = None) -> None:
        """The next delivery gets this status; with none queued, 204."""
        with self._lock:
            self._answers.append((status, headers or {}))

    def reset(self) -> None:
        with self._lock:
            self._answers.clear()
            self._got.clear()

    @property
    def got(self) -> list[Delivery]:
        with self._lock:
            return list(self._got)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/hooks/teams", self._receive)

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        webhook_id = request.headers.get(standard_webhooks.WEBHOOK_ID, "")
        timestamp = request.headers.get(standard_webhooks.WEBHOOK_TIMESTAMP, "")
        expected = standard_webhooks.signature(self._key, webhook_id, int(timestamp or 0), body)
        signed = request.headers.get(standard_webhooks.WEBHOOK_SIGNATURE) == expected
        with self._lock:
            status, headers = self._answers.popleft() if self._answers else (204, {})
            self._got.append(Delivery(webhook_id, timestamp, signed, json.loads(body), status))
        return web.Response(status=status, headers=headers)
