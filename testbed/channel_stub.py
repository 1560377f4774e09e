"""A loopback Bot Connector service: answers /v3/conversations/... and records what it receives."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import unquote

from aiohttp import web

from testbed.loopback_server import LoopbackServer


@dataclass(frozen=True)
class Received:
    method: str
    conversation_id: str
    reply_to_id: str | None
    headers: dict[str, str]
    activity: dict
    raw_path: str
    at: float  # time.monotonic() on arrival
    activity_id: str = ""  # the id a success answer gives the activity


@dataclass
class Answer:
    status: int
    code: str = ""
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = None  # None: every request from now on
    delay_seconds: float = 0.0  # answer this much later
    reset: bool = False  # drop the connection instead of answering


class ChannelStub(LoopbackServer):
    def __init__(self, latency_seconds: float = 0.0) -> None:
        super().__init__()
        self.latency_seconds = latency_seconds
        self._received: list[Received] = []
        self._answers: dict[str, list[Answer]] = {}
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """A serviceUrl pointing here, with a path like Teams' regional ones."""
        return f"http://127.0.0.1:{self.port}/amer/"

    def answer(
        self,
        conversation_id: str,
        status: int,
        code: str = "",
        message: str = "",
        *,
        times: int | None = None,
        headers: dict[str, str] | None = None,
        delay_seconds: float = 0.0,
        reset: bool = False,
    ) -> None:
        """Answer activities sent to this conversation with an error status.

        With `times`, only the next `times` requests get it; answers queue up in call order and
        requests past them succeed. A 200 answer with `delay_seconds` is a slow channel; `reset`
        drops the connection without answering.
        """
        with self._lock:
            self._answers.setdefault(conversation_id, []).append(
                Answer(status, code, message, headers or {}, times, delay_seconds, reset)
            )

    def reset(self) -> None:
        with self._lock:
            self._received.clear()
            self._answers.clear()

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def received_by(self, conversation_id: str) -> list[Received]:
        return [r for r in self.received if r.conversation_id == conversation_id]

    def most_in_any_window(self, key, window_seconds: float = 1.0) -> int:
        """The most activities that arrived for one key (e.g. a conversation) within any window."""
        arrivals: dict[object, list[float]] = {}
        for received in self.received:
            arrivals.setdefault(key(received), []).append(received.at)
        most = 0
        for times in arrivals.values():
            times.sort()
            start = 0
            for end, at in enumerate(times):
                while at - times[start] >= window_seconds:
                    start += 1
                most = max(most, end - start + 1)
        return most

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = self.received
            if len(received) >= count:
                return received
            time.sleep(0.02)
        raise AssertionError(f"expected {count} activities, got {len(self.received)}")

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        # Match on the raw path: an encoded "/" inside a conversation id must stay one segment.
        segments = request.raw_path.split("?")[0].split("/")
        try:
            at = segments.index("v3")
        except ValueError:
            return web.json_response({"error": {"code": "NotFound"}}, status=404)
        parts = [unquote(s) for s in segments[at + 1 :]]
        if request.method != "POST" or len(parts) not in (3, 4) or parts[0] != "conversations":
            return web.json_response({"error": {"code": "BadRequest"}}, status=400)
        if parts[2] != "activities":
            return web.json_response({"error": {"code": "BadRequest"}}, status=400)
        arrived = time.monotonic()
        if self.latency_seconds:
            await asyncio.sleep(self.latency_seconds)
        received = Received(
            method=request.method,
            conversation_id=parts[1],
            reply_to_id=parts[3] if len(parts) == 4 else None,
            headers=dict(request.headers),
            activity=json.loads(await request.read()),
            raw_path=request.raw_path,
            at=arrived,
            activity_id=uuid.uuid4().hex,
        )
        with self._lock:
            self._received.append(received)
            answer = self._next_answer(received.conversation_id)
        if answer is None or answer.status < 400:
            if answer is not None:
                if answer.reset:
                    request.transport.abort()
                    raise ConnectionResetError("stub dropped the connection")
                await asyncio.sleep(answer.delay_seconds)
            return web.json_response({"id": received.activity_id})
        error = {"error": {"code": answer.code, "message": answer.message}}
        return web.json_response(error, status=answer.status, headers=answer.headers)

    def _next_answer(self, conversation_id: str) -> Answer | None:
        queue = self._answers.get(conversation_id)
        if not queue:
            return None
        answer = queue[0]
        if answer.times is not None:
            answer.times -= 1
            if answer.times == 0:
                queue.pop(0)
        return answer
