"""POST /api/messages: validate, authenticate and run one Bot Framework activity."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

import requests
from botbuilder.core import Bot, CloudAdapterBase
from botbuilder.schema import Activity
from botframework.connector.auth import BotFrameworkAuthentication
from msrest.exceptions import DeserializationError

from shared.channel.service_urls import ServiceUrlPolicy
from shared.http import (
    STORAGE_UNAVAILABLE,
    HttpResult,
    check_content_type,
    error_result,
    parse_json_object,
)
from shared.request_errors import RequestError, field_error, has_control_characters
from shared.storage.keys import InvalidKeyError, encode_key
from shared.storage.references import InvalidReferenceError
from shared.storage.tables import StorageUnavailableError

logger = logging.getLogger(__name__)


class ActivitiesEndpoint:
    def __init__(
        self,
        adapter: CloudAdapterBase,
        authentication: BotFrameworkAuthentication,
        bot: Bot,
        service_urls: ServiceUrlPolicy,
        bot_id: str = "",
    ) -> None:
        self._adapter = adapter
        self._authentication = authentication
        self._bot = bot
        self._service_urls = service_urls
        self._bot_id = bot_id  # MicrosoftAppId: who an activity without a recipient is for

    async def handle(self, body: bytes, headers: Mapping[str, str]) -> HttpResult:
        try:
            # Channels always send application/json; BotBuilder's own HTTP adapters answer
            # anything else 415, and so does this.
            check_content_type(headers)
            activity = parse_activity(parse_json_object(body), self._bot_id)
        except RequestError as error:
            return error_result(error)

        try:
            authenticated = await self._authentication.authenticate_request(
                activity, headers.get("Authorization") or ""
            )
        except requests.RequestException as error:
            # The signing keys could not be fetched: our side's problem, so the channel retries.
            logger.error("Could not check the token of %s: %s", activity.id, type(error).__name__)
            return HttpResult(503, {"error": "authentication metadata unavailable, retry later"})
        except Exception as error:
            # botbuilder signals a bad token with PermissionError, PyJWT errors, and for an
            # unknown key id or a missing endorsement, IndexError or a bare Exception.
            logger.warning("Rejected activity %s: %s", activity.id, type(error).__name__)
            return HttpResult(401, {"error": "unauthorized"})

        # Replies go to serviceUrl, so an unlisted one is refused before anything is sent there.
        if not self._service_urls.allows(activity.service_url):
            logger.warning("Refused activity %s: serviceUrl not allowed", activity.id)
            return error_result(
                field_error("serviceUrl", "is not an allowed Bot Framework service URL")
            )

        try:
            invoke_response = await self._adapter.process_activity(
                authenticated, activity, self._bot.on_turn
            )
        except StorageUnavailableError as error:
            logger.error("Activity %s not processed: %s", activity.id, error)
            return STORAGE_UNAVAILABLE
        except InvalidReferenceError as error:
            return error_result(RequestError(400, str(error)))

        if invoke_response is not None:
            return HttpResult(invoke_response.status, invoke_response.body)
        return HttpResult(200)


def parse_activity(payload: dict[str, Any], bot_id: str = "") -> Activity:
    """The fields every activity we act on must carry, checked before the SDK sees it.

    Local Direct Line emulators may leave `recipient` (the bot) out, as BotBuilder allows: it is
    then the bot named by `bot_id` (MicrosoftAppId), or, with none set, left out of the stored
    reference too."""
    for field in ("type", "serviceUrl", "channelId"):
        value = payload.get(field)
        if not isinstance(value, str) or not value.strip():
            raise field_error(field, "is required and must be a non-empty string")
    conversation = payload.get("conversation")
    if not isinstance(conversation, dict):
        raise field_error("conversation", "is required and must be an object")
    conversation_id = conversation.get("id")
    if not isinstance(conversation_id, str) or not conversation_id:
        raise field_error("conversation.id", "is required and must be a non-empty string")
    for field, value in (("channelId", payload["channelId"]), ("conversation.id", conversation_id)):
        try:
            encode_key(value)
        except InvalidKeyError as error:
            raise field_error(field, f"cannot be stored: {error}") from None
    if payload.get("recipient") is None:
        payload = {k: v for k, v in payload.items() if k != "recipient"}
        if bot_id:
            payload["recipient"] = {"id": bot_id}
    # A reference addresses the user (from) on behalf of the bot (recipient): the user must be
    # named, and the bot too where the activity names one at all.
    for field in ("from", "recipient") if "recipient" in payload else ("from",):
        account = payload.get(field)
        if not isinstance(account, dict):
            required = "is required and " if field == "from" else ""
            raise field_error(field, f"{required}must be an object")
        if not isinstance(account.get("id"), str) or not account["id"]:
            raise field_error(f"{field}.id", "is required and must be a non-empty string")
    for field, value in _ids(payload):
        if isinstance(value, str) and has_control_characters(value):
            raise field_error(field, "must not contain control characters")
    try:
        return Activity().deserialize(payload)
    except (DeserializationError, ValueError, TypeError, AttributeError, RecursionError) as error:
        raise RequestError(400, "activity does not match the Bot Framework schema") from error


def _ids(payload: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The ids a stored reference, its sends and our logs carry, by field name."""
    yield "channelId", payload["channelId"]
    yield "conversation.id", payload["conversation"]["id"]
    yield "from.id", payload["from"]["id"]
    if "recipient" in payload:
        yield "recipient.id", payload["recipient"]["id"]
    channel_data = payload.get("channelData")
    if isinstance(channel_data, dict):
        for name in ("channel", "team"):
            part = channel_data.get(name)
            if isinstance(part, dict):
                yield f"channelData.{name}.id", part.get("id")
