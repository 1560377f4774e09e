"""The Bot Connector REST calls, over one pooled aiohttp session: delivering an activity, and the
Teams calls around it (a team's roster, 1:1 conversations, channel posts, updates and deletes).

botbuilder's ConnectorClient builds msrest clients per call and sends through `requests` in a small
thread pool; sending the same request body to the same URL over a shared session is what lets a
fan-out run at network speed. Each call answers what the channel said or raises ChannelError.
Payloads as the Teams platform docs show them:
https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/get-teams-context
https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/send-proactive-messages
https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/update-and-delete-bot-messages
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from shared.channel.auth import OutboundTokens
from shared.channel.error_codes import Verdict, verdict
from shared.pooling import POOLED_IDLE_SECONDS
from shared.telemetry.current import telemetry
from shared.telemetry.names import CONNECTOR

USER_AGENT = "proactive-bot-functions (BotBuilder Python/4.17.1)"

# The routes called, ids left out: client spans are named by them.
ACTIVITIES = "/v3/conversations/{conversationId}/activities"
ACTIVITY = "/v3/conversations/{conversationId}/activities/{activityId}"
PAGED_MEMBERS = "/v3/conversations/{conversationId}/pagedmembers"
MEMBER = "/v3/conversations/{conversationId}/members/{memberId}"
CONVERSATIONS = "/v3/conversations"
TEAM_CHANNELS = "/v3/teams/{teamId}/conversations"


@dataclass(frozen=True)
class Sent:
    """The channel took the activity: its id and the conversation it is in (to update or delete
    it later), and the status. Any 2xx is taken; a channel that answers without an `id` (an
    empty 200/201/204, as some local channels do) leaves `activity_id` "": such a message cannot
    be addressed later."""

    activity_id: str
    status: int
    conversation_id: str = ""


class ChannelError(Exception):
    """The channel refused or could not take the activity."""

    def __init__(
        self, status: int | None, code: str, message: str, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{status or 'no answer'} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    @property
    def verdict(self) -> Verdict:
        return verdict(self.status, self.code)


def activity_url(activity: dict[str, Any]) -> str:
    """The URL ConnectorClient posts to: reply_to_activity when replyToId is set, else send."""
    segments = ["conversations", activity["conversation"]["id"], "activities"]
    if activity.get("replyToId"):
        segments.append(activity["replyToId"])
    return _connector_url(activity["serviceUrl"], *segments)


def _connector_url(service_url: str, *segments: str, **query: object) -> str:
    """serviceUrl + /v3/ + the segments, each percent-encoded whole: an id holding "/" or ";"
    stays one segment, and a query value keeps its "+" (continuation tokens are base64)."""
    url = service_url.rstrip("/") + "/v3/" + "/".join(quote(s, safe="") for s in segments)
    if query:
        url += "?" + urlencode(query, quote_via=quote, safe="")
    return url


class BotConnector:
    def __init__(self, tokens: OutboundTokens, timeout_seconds: float = 30.0) -> None:
        self._tokens = tokens
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def send(self, activity: dict[str, Any]) -> Sent:
        """POST the activity (wire JSON); what the channel answered, or raises ChannelError."""
        template = ACTIVITY if activity.get("replyToId") else ACTIVITIES
        status, payload = await self._request(
            "POST", activity_url(activity), activity["serviceUrl"], template, activity
        )
        return Sent(_resource_id(payload), status, activity["conversation"]["id"])

    async def paged_members(
        self,
        service_url: str,
        conversation_id: str,
        page_size: int = 500,
        continuation: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a team's (by team id) or chat's members, and the token for the next page:
        None after the last. Teams serves a pageSize under 50 as 50 and caps it at 500."""
        query: dict[str, object] = {"pageSize": page_size}
        if continuation:
            query["continuationToken"] = continuation
        url = _connector_url(service_url, "conversations", conversation_id, "pagedmembers", **query)
        page = await self._json_call("GET", url, service_url, PAGED_MEMBERS)
        return list(page.get("members") or []), page.get("continuationToken") or None

    async def member(self, service_url: str, conversation_id: str, user_id: str) -> dict[str, Any]:
        """One member of a team (by team id) or chat, by `29:` id or aadObjectId; a user who is
        not one is ChannelError 404 MemberNotFoundInConversation."""
        url = _connector_url(service_url, "conversations", conversation_id, "members", user_id)
        return await self._json_call("GET", url, service_url, MEMBER)

    async def create_personal_conversation(
        self, service_url: str, bot: Mapping[str, Any], user_id: str, tenant_id: str
    ) -> str:
        """The id of the 1:1 conversation between the bot (its ChannelAccount, `{"id": "28:..."}`)
        and a user (`29:...`); Teams answers the same id for the same user every time."""
        body = {
            "isGroup": False,
            "bot": dict(bot),
            "members": [{"id": user_id}],
            "tenantId": tenant_id,
            "channelData": {"tenant": {"id": tenant_id}},
        }
        url = _connector_url(service_url, "conversations")
        answer = await self._json_call("POST", url, service_url, CONVERSATIONS, body)
        return str(answer.get("id") or "")

    async def post_to_channel(
        self, service_url: str, teams_channel_id: str, tenant_id: str, activity: dict[str, Any]
    ) -> tuple[str, str]:
        """Start a new thread in a channel (a team's General channel has the team's id) with this
        activity: the thread's conversation id (`<channel>;messageid=<id>`) and the activity's."""
        body = {
            "isGroup": True,
            "channelData": {"channel": {"id": teams_channel_id}},
            "activity": activity,
            "tenantId": tenant_id,
        }
        url = _connector_url(service_url, "conversations")
        thread = await self._json_call("POST", url, service_url, CONVERSATIONS, body)
        return str(thread.get("id") or ""), str(thread.get("activityId") or "")

    async def team_channels(self, service_url: str, team_id: str) -> list[dict[str, Any]]:
        """The team's channels, `{"id": "19:...", "name": ...}`; General's name is None."""
        url = _connector_url(service_url, "teams", team_id, "conversations")
        answer = await self._json_call("GET", url, service_url, TEAM_CHANNELS)
        return list(answer.get("conversations") or [])

    async def update_activity(
        self,
        service_url: str,
        conversation_id: str,
        activity_id: str,
        activity: dict[str, Any],
    ) -> None:
        """Replace what a sent activity shows with this one (404 ActivityNotFoundInConversation:
        it is gone)."""
        url = _connector_url(
            service_url, "conversations", conversation_id, "activities", activity_id
        )
        await self._request("PUT", url, service_url, ACTIVITY, activity)

    async def delete_activity(
        self, service_url: str, conversation_id: str, activity_id: str
    ) -> None:
        """Delete (recall) a sent activity (404 ActivityNotFoundInConversation: it is gone)."""
        url = _connector_url(
            service_url, "conversations", conversation_id, "activities", activity_id
        )
        await self._request("DELETE", url, service_url, ACTIVITY)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _json_call(
        self, method: str, url: str, service_url: str, template: str, body: Any = None
    ) -> dict[str, Any]:
        return _json_object((await self._request(method, url, service_url, template, body))[1])

    async def _request(
        self, method: str, url: str, service_url: str, template: str, body: Any = None
    ) -> tuple[int, bytes]:
        """One call: the channel's status and body, or ChannelError for a refusal or no answer.
        `template` is its route with the ids left out, as its span is named."""
        with telemetry().client_call(method, template, CONNECTOR, service_url) as call:
            try:
                status, payload = await self._answer(method, url, service_url, body)
            except ChannelError as error:
                if error.status is None:
                    call.fail(error.code)
                else:
                    call.answered(error.status)
                raise
            call.answered(status)
            return status, payload

    async def _answer(
        self, method: str, url: str, service_url: str, body: Any
    ) -> tuple[int, bytes]:
        headers = {"User-Agent": USER_AGENT}
        if body is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        authorization = await self._tokens.authorization(service_url)
        if authorization:
            headers["Authorization"] = authorization
        data = None if body is None else json.dumps(body)
        try:
            async with self._get_session().request(
                method, url, data=data, headers=headers
            ) as response:
                payload = await response.read()
                if response.status >= 400:
                    raise _channel_error(response.status, payload, response.headers)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise ChannelError(None, type(error).__name__, "no answer from the channel") from error
        return response.status, payload

    def _get_session(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running loop the session will live on.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                # Not reused after the channel's server may have closed it (see pooling).
                connector=aiohttp.TCPConnector(keepalive_timeout=POOLED_IDLE_SECONDS),
            )
        return self._session


def _channel_error(status: int, payload: bytes, headers: Mapping[str, str]) -> ChannelError:
    code, message = "HttpError", payload[:200].decode("utf-8", "replace")
    try:
        error = json.loads(payload)["error"]
        code = str(error.get("code") or code)
        message = str(error.get("message") or message)
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    return ChannelError(status, code, message, _retry_after_seconds(headers.get("Retry-After")))


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)


def _resource_id(payload: bytes) -> str:
    return str(_json_object(payload).get("id") or "")


def _json_object(payload: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(payload)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
