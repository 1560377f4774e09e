"""A loopback Bot Connector service: answers /v3/... as Teams does and records what it receives.

Besides sending activities it answers the Teams calls the product builds on, shaped as the Teams
platform docs show them:
- a team's or chat's roster, a page at a time (`GET conversations/{id}/pagedmembers`), one member
  by `29:` id or aadObjectId (`GET conversations/{id}/members/{userId}`) and a team's channels
  (`GET teams/{id}/conversations`):
  https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/get-teams-context
- a 1:1 conversation or a new thread in a channel (`POST conversations`):
  https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/send-proactive-messages
  https://learn.microsoft.com/en-us/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference#create-conversation
- updating and deleting what the bot sent (`PUT` / `DELETE conversations/{id}/activities/{id}`):
  https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/update-and-delete-bot-messages
- the error codes: https://learn.microsoft.com/en-us/microsoftteams/platform/bots/build-conversational-capability#status-codes-from-bot-conversational-apis

`answer(key, ...)` refuses (or slows, or drops) the next calls that concern `key`: the conversation
id in the URL for sends, updates, deletes and roster pages; the team id for its channel list; for
`POST conversations`, the user id of a 1:1 (the conversation does not exist yet: a user who blocked
the bot is refused 403 ConversationBlockedByUser) or the channel id of a channel post.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

from aiohttp import web

from testbed.loopback_server import LoopbackServer

# get-teams-context: "Page size less than 50, are treated as 50, and greater than 500, are capped at
# 500"; left out, Teams serves 200.
MIN_PAGE_SIZE, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 200, 500


@dataclass(frozen=True)
class Received:
    method: str  # POST a send (or a channel post), PUT an update, DELETE a delete
    conversation_id: str
    reply_to_id: str | None
    headers: dict[str, str]
    activity: dict  # the body; {} for a DELETE
    raw_path: str
    at: float  # time.monotonic() on arrival
    activity_id: str = ""  # the id a success answer gives the activity, or the one changed
    status: int = 200  # what the stub answered: 200, an error status, 0 for a dropped connection
    client_port: int = 0  # the sender's end of the connection: a new one, a new port


@dataclass(frozen=True)
class Created:
    """One POST /v3/conversations: what was asked, and the conversation it answered with."""

    body: dict
    headers: dict[str, str]
    conversation_id: str  # "" unless it was created
    status: int
    at: float


@dataclass
class Answer:
    status: int
    code: str = ""
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = None  # None: every request from now on
    delay_seconds: float = 0.0  # answer this much later
    reset: bool = False  # drop the connection instead of answering
    empty: bool = False  # a success answered with `status` (200, 201, 204...) and no body

    @property
    def outcome(self) -> int:
        """The status the request ends with: the error, 0 for a dropped connection, else 200."""
        if self.status >= 400:
            return self.status
        return 0 if self.reset else 200


# What Teams answers an update or delete of an activity it doesn't hold (never sent, or deleted).
ACTIVITY_NOT_FOUND = Answer(404, "ActivityNotFoundInConversation", "Conversation not found.")
# How often the stub looks at how late its loop runs (see ChannelStub.most_lag_seconds).
LAG_TICK_SECONDS = 0.01


class Refused(Exception):
    """A call Teams would refuse, whatever was injected."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.answer = Answer(status, code, message)


class Rosters:
    """Team and chat members, served a page at a time with continuation tokens."""

    def __init__(self) -> None:
        self._members: dict[str, list[dict]] = {}
        self._tokens: dict[str, tuple[str, int]] = {}  # token -> (conversation, next offset)

    def set(self, conversation_id: str, members: Iterable[Mapping]) -> None:
        self._members[conversation_id] = [dict(member) for member in members]

    def clear(self) -> None:
        self._members.clear()
        self._tokens.clear()

    def page(self, conversation_id: str, page_size: str | None, token: str | None) -> dict:
        members = self._members.get(conversation_id)
        if members is None:
            raise Refused(404, "ConversationNotFound", "Conversation not found.")
        try:
            size = int(page_size) if page_size is not None else DEFAULT_PAGE_SIZE
        except ValueError:
            raise Refused(400, "BadArgument", f"pageSize {page_size!r}") from None
        size = min(max(size, MIN_PAGE_SIZE), MAX_PAGE_SIZE)
        start = 0
        if token is not None:
            if self._tokens.get(token, ("", 0))[0] != conversation_id:
                raise Refused(400, "BadArgument", "Invalid continuation token.")
            start = self._tokens[token][1]
        end = start + size
        page: dict = {"members": members[start:end]}
        if end < len(members):  # the last page has no token
            page["continuationToken"] = self._token(conversation_id, end)
        return page

    def member(self, conversation_id: str, user_id: str) -> dict:
        """One member, by `29:` id or aadObjectId, as GET conversations/{id}/members/{userId}
        answers it."""
        members = self._members.get(conversation_id)
        if members is None:
            raise Refused(404, "ConversationNotFound", "Conversation not found.")
        for member in members:
            if user_id in (member.get("id"), member.get("aadObjectId")):
                return member
        raise Refused(404, "MemberNotFoundInConversation", "The member was not found.")

    def _token(self, conversation_id: str, offset: int) -> str:
        # Opaque base64, as Teams' are; this one always holds "+", "/" and "=", which a client must
        # percent-encode in a query string ("+" would otherwise arrive as a space).
        token = base64.b64encode(b"\xfb\xff" + secrets.token_bytes(15)).decode()
        self._tokens[token] = (conversation_id, offset)
        return token


class ChannelStub(LoopbackServer):
    def __init__(self, latency_seconds: float = 0.0) -> None:
        super().__init__()
        self.latency_seconds = latency_seconds
        self._received: list[Received] = []
        self._created: list[Created] = []
        self._looked_up: list[tuple[str, str]] = []  # (team or chat id, user id) per member lookup
        self._answers: dict[str, list[Answer]] = {}
        self._rosters = Rosters()
        self._channels: dict[str, list[dict]] = {}
        # Teams' message ids are milliseconds since the epoch; these are unique as well.
        self._message_ids = itertools.count(int(time.time() * 1000))
        self._lock = threading.Lock()
        self._most_lag = 0.0

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
        empty: bool = False,
    ) -> None:
        """Answer requests concerning this conversation (see the module's docstring for the key of
        each call) with an error status.

        With `times`, only the next `times` requests get it; answers queue up in call order and
        requests past them succeed. A 200 answer with `delay_seconds` is a slow channel; `reset`
        drops the connection without answering; `empty` takes the request but answers `status`
        (a 2xx) without a body, as some local channels do: the sender learns no activity id.
        """
        with self._lock:
            self._answers.setdefault(conversation_id, []).append(
                Answer(status, code, message, headers or {}, times, delay_seconds, reset, empty)
            )

    def set_roster(self, conversation_id: str, members: Iterable[Mapping]) -> None:
        """The members a team (by team id) or chat has, in the order pages give them."""
        with self._lock:
            self._rosters.set(conversation_id, members)

    def set_channels(self, team_id: str, others: Mapping[str, str] | None = None) -> None:
        """A team's channels: General first (its id is the team id and its name null, as Teams
        sends it), then the others, id -> name."""
        channels = [{"id": team_id, "name": None}]
        channels += [{"id": id_, "name": name} for id_, name in (others or {}).items()]
        with self._lock:
            self._channels[team_id] = channels

    def reset(self) -> None:
        with self._lock:
            self._received.clear()
            self._created.clear()
            self._looked_up.clear()
            self._answers.clear()
            self._rosters.clear()
            self._channels.clear()
            self._most_lag = 0.0

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    @property
    def created(self) -> list[Created]:
        with self._lock:
            return list(self._created)

    @property
    def looked_up(self) -> list[tuple[str, str]]:
        """Each `GET conversations/{id}/members/{userId}` asked: (team or chat id, user id)."""
        with self._lock:
            return list(self._looked_up)

    def received_by(self, conversation_id: str) -> list[Received]:
        return [r for r in self.received if r.conversation_id == conversation_id]

    def current_activity(self, conversation_id: str, activity_id: str) -> dict | None:
        """The activity as the conversation now shows it: as sent or last updated; None once
        deleted, or if the stub never took it."""
        with self._lock:
            return self._shown(conversation_id, activity_id)

    @property
    def most_lag_seconds(self) -> float:
        """The longest this stub's loop was kept from running since the last reset: an arrival's
        time (taken when its handler runs) is at most this late, so two arrivals a window apart
        may be recorded as little as this much closer."""
        with self._lock:
            return self._most_lag

    async def _watch_lag(self, app: web.Application):
        async def watch() -> None:
            while True:
                started = time.monotonic()
                await asyncio.sleep(LAG_TICK_SECONDS)
                lag = time.monotonic() - started - LAG_TICK_SECONDS
                with self._lock:
                    self._most_lag = max(self._most_lag, lag)

        watcher = asyncio.create_task(watch())
        yield
        watcher.cancel()

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
        app.cleanup_ctx.append(self._watch_lag)

    async def _handle(self, request: web.Request) -> web.Response:
        # Match on the raw path: an encoded "/" inside a conversation id must stay one segment.
        segments = request.raw_path.split("?")[0].split("/")
        try:
            at = segments.index("v3")
        except ValueError:
            return web.json_response({"error": {"code": "NotFound"}}, status=404)
        parts = [unquote(s) for s in segments[at + 1 :]]
        handler = self._route(request.method, parts)
        if handler is None:
            return web.json_response({"error": {"code": "BadRequest"}}, status=400)
        arrived = time.monotonic()
        if self.latency_seconds:
            await asyncio.sleep(self.latency_seconds)
        try:
            return await handler(request, parts, arrived)
        except Refused as refused:
            return _error(refused.answer)

    def _route(self, method: str, parts: list[str]):
        if parts[:1] == ["teams"] and len(parts) == 3 and parts[2] == "conversations":
            return self._team_channels if method == "GET" else None
        if parts[:1] != ["conversations"]:
            return None
        if len(parts) == 1:
            return self._create_conversation if method == "POST" else None
        if len(parts) == 3 and parts[2] == "pagedmembers":
            return self._roster_page if method == "GET" else None
        if len(parts) == 4 and parts[2] == "members":
            return self._one_member if method == "GET" else None
        if len(parts) not in (3, 4) or parts[2] != "activities":
            return None
        if method == "POST":
            return self._send
        if len(parts) == 4 and method in ("PUT", "DELETE"):
            return self._change
        return None

    async def _send(self, request: web.Request, parts: list[str], arrived: float):
        activity = json.loads(await request.read())
        headers = dict(request.headers)
        activity_id = str(next(self._message_ids))  # as Teams numbers messages
        with self._lock:
            answer = self._next_answer(parts[1])
            reply_to_id = parts[3] if len(parts) == 4 else None
            self._received.append(
                _receipt(
                    request, headers, parts[1], activity, arrived, activity_id, answer, reply_to_id
                )
            )
        return await _respond(request, answer, {"id": activity_id})

    async def _change(self, request: web.Request, parts: list[str], arrived: float):
        """PUT (update) or DELETE an activity the stub took; 404 for one it never did or deleted."""
        conversation_id, activity_id = parts[1], parts[3]
        activity = json.loads(await request.read()) if request.method == "PUT" else {}
        headers = dict(request.headers)
        with self._lock:
            answer = self._next_answer(conversation_id)
            if _outcome(answer) == 200 and self._shown(conversation_id, activity_id) is None:
                answer = ACTIVITY_NOT_FOUND
            self._received.append(
                _receipt(request, headers, conversation_id, activity, arrived, activity_id, answer)
            )
        return await _respond(
            request, answer, {"id": activity_id} if request.method == "PUT" else None
        )

    async def _create_conversation(self, request: web.Request, parts: list[str], arrived: float):
        body = json.loads(await request.read())
        headers = dict(request.headers)
        try:
            key = _creation_key(body)
        except Refused as refused:
            with self._lock:
                self._created.append(Created(body, headers, "", refused.answer.status, arrived))
            raise
        with self._lock:
            answer = self._next_answer(key)
            status = _outcome(answer)
            if body.get("isGroup"):
                # A new thread in the channel, opened by the activity: recorded as received there.
                activity_id = str(next(self._message_ids))
                conversation_id = f"{key};messageid={activity_id}"
                success = {"id": conversation_id, "activityId": activity_id}
                self._received.append(
                    _receipt(request, headers, key, body["activity"], arrived, activity_id, answer)
                )
            else:
                conversation_id = personal_conversation_id(_tenant_of(body), key)
                success = {"id": conversation_id}
            created = conversation_id if status == 200 else ""
            self._created.append(Created(body, headers, created, status, arrived))
        return await _respond(request, answer, success)

    async def _roster_page(self, request: web.Request, parts: list[str], arrived: float):
        with self._lock:
            answer = self._next_answer(parts[1])
            page = None
            if _outcome(answer) == 200:
                query = request.query
                page = self._rosters.page(
                    parts[1], query.get("pageSize"), query.get("continuationToken")
                )
        return await _respond(request, answer, page)

    async def _one_member(self, request: web.Request, parts: list[str], arrived: float):
        with self._lock:
            self._looked_up.append((parts[1], parts[3]))
            answer = self._next_answer(parts[1])
            found = self._rosters.member(parts[1], parts[3]) if _outcome(answer) == 200 else None
        return await _respond(request, answer, found)

    async def _team_channels(self, request: web.Request, parts: list[str], arrived: float):
        with self._lock:
            answer = self._next_answer(parts[1])
            channels = self._channels.get(parts[1])
        if channels is None and _outcome(answer) == 200:
            raise Refused(404, "ConversationNotFound", "Conversation not found.")
        return await _respond(request, answer, {"conversations": channels})

    def _shown(self, conversation_id: str, activity_id: str) -> dict | None:
        # The last accepted send, update or delete of the activity decides; a thread's activities
        # are the channel's (a post's thread id is "<channel>;messageid=<id>").
        channel = _channel_of(conversation_id)
        for received in reversed(self._received):
            if (
                received.activity_id == activity_id
                and received.status == 200
                and _channel_of(received.conversation_id) == channel
            ):
                return None if received.method == "DELETE" else received.activity
        return None

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


def _receipt(
    request: web.Request,
    headers: dict[str, str],
    conversation_id: str,
    activity: dict,
    arrived: float,
    activity_id: str,
    answer: Answer | None,
    reply_to_id: str | None = None,
) -> Received:
    """What the stub records of a request that concerns one activity."""
    return Received(
        method=request.method,
        conversation_id=conversation_id,
        reply_to_id=reply_to_id,
        headers=headers,
        activity=activity,
        raw_path=request.raw_path,
        at=arrived,
        activity_id=activity_id,
        status=_outcome(answer),
        client_port=_client_port(request),
    )


def _client_port(request: web.Request) -> int:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return peer[1] if peer else 0


def _outcome(answer: Answer | None) -> int:
    return 200 if answer is None else answer.outcome


async def _respond(request: web.Request, answer: Answer | None, success: dict | None):
    """What an injected answer calls for; else `success` (an empty 200 when None)."""
    if answer is not None:
        if answer.status >= 400:
            return _error(answer)
        if answer.reset:
            request.transport.abort()
            raise ConnectionResetError("stub dropped the connection")
        await asyncio.sleep(answer.delay_seconds)
        if answer.empty:
            return web.Response(status=answer.status)
    return web.Response() if success is None else web.json_response(success)


def _error(answer: Answer) -> web.Response:
    error = {"error": {"code": answer.code, "message": answer.message}}
    return web.json_response(error, status=answer.status, headers=answer.headers)


def _creation_key(body: dict) -> str:
    """What a POST /v3/conversations is keyed by: the channel of a post, the user of a 1:1.

    Refuses what Teams can't create: a group chat, a channel post without its activity, a 1:1 with
    other than one member or without the bot or the tenant.
    """
    if body.get("isGroup"):
        channel_id = ((body.get("channelData") or {}).get("channel") or {}).get("id")
        if not channel_id:
            raise Refused(400, "BadArgument", "Bots can't create group chats.")
        if not body.get("activity"):
            raise Refused(400, "BadArgument", "A channel post needs its activity.")
        return channel_id
    members = body.get("members") or []
    if len(members) != 1 or not members[0].get("id"):
        raise Refused(400, "BadArgument", "A 1:1 conversation has exactly one member.")
    if not (body.get("bot") or {}).get("id"):
        raise Refused(400, "BadArgument", "The bot is required.")
    if not _tenant_of(body):
        raise Refused(400, "BadArgument", "The tenant id is required.")
    return members[0]["id"]


def _tenant_of(body: dict) -> str | None:
    return body.get("tenantId") or ((body.get("channelData") or {}).get("tenant") or {}).get("id")


def personal_conversation_id(tenant_id: str | None, user_id: str) -> str:
    # Teams gives the same 1:1 conversation back for the same user, however often it is asked.
    digest = hashlib.sha256(f"{tenant_id}\n{user_id}".encode()).digest()
    return "a:1" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _channel_of(conversation_id: str) -> str:
    return conversation_id.split(";messageid=", 1)[0]
