"""The body of POST /api/notify, validated: what to send, and to whom."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botbuilder.schema import Attachment
from msrest.exceptions import DeserializationError

from shared.audience import Audience
from shared.http import RequestError, field_error
from shared.messages import OutboundMessage

MAX_ATTACHMENTS = 10  # Teams' limit for one message
FIELDS = frozenset({"text", "attachments", "to"})
AUDIENCE_FIELDS = {
    "conversationIds": "conversation_ids",
    "userIds": "user_ids",
    "channelIds": "channel_ids",
    "tenantIds": "tenant_ids",
}


@dataclass(frozen=True)
class NotifyRequest:
    message: OutboundMessage
    audience: Audience


def parse_notify_request(payload: dict[str, Any]) -> NotifyRequest:
    # Unknown fields are refused: a typo such as "To" must not turn into a broadcast to everyone.
    unknown = sorted(set(payload) - FIELDS)
    if unknown:
        raise RequestError(400, f"unknown field {unknown[0]}", {"field": unknown[0]})
    text = _text(payload.get("text"))
    attachments = _attachments(payload.get("attachments"))
    if not text and not attachments:
        raise RequestError(400, "text or attachments is required", {"field": "text"})
    return NotifyRequest(OutboundMessage(text, attachments), _audience(payload.get("to")))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise field_error("text", "must be a string")
    if not _is_unicode_text(value):
        raise field_error("text", "must be valid Unicode text")
    return value if value.strip() else None


def _attachments(value: Any) -> tuple[dict, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise field_error("attachments", "must be a list of Bot Framework attachments")
    if len(value) > MAX_ATTACHMENTS:
        raise field_error("attachments", f"may hold at most {MAX_ATTACHMENTS} items")
    for index, item in enumerate(value):
        field = f"attachments[{index}]"
        if not isinstance(item, dict):
            raise field_error(field, "must be an object")
        content_type = item.get("contentType")
        if not isinstance(content_type, str) or not content_type.strip():
            raise field_error(f"{field}.contentType", "must be a non-empty string")
        try:
            Attachment().deserialize(item)
        except (DeserializationError, ValueError, TypeError, AttributeError):
            raise field_error(field, "is not a valid attachment") from None
    return tuple(value)


def _audience(value: Any) -> Audience:
    if value is None:
        return Audience()
    if not isinstance(value, dict):
        raise field_error("to", "must be an object")
    unknown = sorted(set(value) - set(AUDIENCE_FIELDS))
    if unknown:
        raise RequestError(400, f"unknown field to.{unknown[0]}", {"field": f"to.{unknown[0]}"})
    filters = {}
    for name, attribute in AUDIENCE_FIELDS.items():
        if name not in value:
            continue
        items = value[name]
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise field_error(f"to.{name}", "must be a list of non-empty strings")
        filters[attribute] = frozenset(items)
    return Audience(**filters)


def _is_unicode_text(value: str) -> bool:
    # JSON can carry lone surrogates ("\ud800"), which no channel can display or store.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
