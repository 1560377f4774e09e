"""The Bot Connector REST call that delivers one activity, over one pooled aiohttp session.

botbuilder's ConnectorClient builds msrest clients per call and sends through `requests` in a small
thread pool; sending the same request body to the same URL over a shared session is what lets a
fan-out run at network speed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import aiohttp

from shared.channel.auth import OutboundTokens
from shared.channel.error_codes import Verdict, verdict

USER_AGENT = "proactive-bot-functions (BotBuilder Python/4.17.1)"


@dataclass(frozen=True)
class Sent:
    """The channel took the activity: its id (to update or delete it later) and the status."""

    activity_id: str
    status: int


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
    base = activity["serviceUrl"].rstrip("/")
    conversation_id = quote(activity["conversation"]["id"], safe="")
    url = f"{base}/v3/conversations/{conversation_id}/activities"
    if activity.get("replyToId"):
        url += f"/{quote(activity['replyToId'], safe='')}"
    return url


class BotConnector:
    def __init__(self, tokens: OutboundTokens, timeout_seconds: float = 30.0) -> None:
        self._tokens = tokens
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def send(self, activity: dict[str, Any]) -> Sent:
        """POST the activity (wire JSON); what the channel answered, or raises ChannelError."""
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
        authorization = await self._tokens.authorization(activity["serviceUrl"])
        if authorization:
            headers["Authorization"] = authorization
        body = json.dumps(activity)
        try:
            async with self._get_session().post(
                activity_url(activity), data=body, headers=headers
            ) as response:
                payload = await response.read()
                if response.status >= 400:
                    raise _channel_error(response.status, payload, response.headers)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise ChannelError(None, type(error).__name__, "no answer from the channel") from error
        return Sent(_resource_id(payload), response.status)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running loop the session will live on.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
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
    try:
        return str(json.loads(payload).get("id") or "")
    except (ValueError, AttributeError):
        return ""
