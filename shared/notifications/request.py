"""The body of POST /api/notify, validated: what to send, and to whom."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from botbuilder.schema import Attachment
from msrest.exceptions import DeserializationError

from shared.delivery.outbound import OutboundMessage
from shared.http import RequestError, field_error
from shared.notifications.reply_text import normalized
from shared.storage.audience import Audience

MAX_ATTACHMENTS = 10  # Teams' limit for one message
MAX_CHOICES = 10
MAX_CHOICE_LENGTH = 100
MAX_SCHEDULE_AHEAD = timedelta(days=366)
# A sendAt this little in the past is a clock difference or a slow request: sent at once. More is
# a mistake (a wrong date or offset) that would otherwise go out now, unannounced.
MAX_SCHEDULE_BEHIND = timedelta(minutes=5)
FIELDS = frozenset({"text", "attachments", "to", "sendAt", "choices", "importance"})
# "urgent" raises a notification in the Teams activity feed; "normal" is every other message.
IMPORTANCE = ("normal", "urgent")
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
    send_at: datetime | None = None
    # The validated body, kept to store a scheduled notification and parse it again when due.
    payload: dict[str, Any] = field(default_factory=dict, compare=False)


def parse_notify_request(payload: dict[str, Any], now: datetime | None = None) -> NotifyRequest:
    """Validate a notify body; `now` (aware) also checks `sendAt` is not too far ahead."""
    # Unknown fields are refused: a typo such as "To" must not turn into a broadcast to everyone.
    unknown = sorted(set(payload) - FIELDS)
    if unknown:
        raise RequestError(400, f"unknown field {unknown[0]}", {"field": unknown[0]})
    text = _text(payload.get("text"))
    attachments = _attachments(payload.get("attachments"))
    if not text and not attachments:
        raise RequestError(400, "text or attachments is required", {"field": "text"})
    choices = _choices(payload.get("choices"))
    if choices and not text:
        raise RequestError(400, "text (the question) is required with choices", {"field": "text"})
    return NotifyRequest(
        OutboundMessage(text, attachments, choices, _urgent(payload.get("importance"))),
        _audience(payload.get("to")),
        _send_at(payload.get("sendAt"), now),
        payload,
    )


def _urgent(value: Any) -> bool:
    if value is None:
        return False
    if value not in IMPORTANCE:
        raise field_error("importance", f"must be one of {', '.join(IMPORTANCE)}")
    return value == "urgent"


def _choices(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_CHOICES:
        raise field_error("choices", f"must be a list of 1-{MAX_CHOICES} strings")
    for choice in value:
        if (
            not isinstance(choice, str)
            or not choice.strip()
            or len(choice) > MAX_CHOICE_LENGTH
            or not _is_unicode_text(choice)
        ):
            raise field_error(
                "choices", f"must hold non-empty strings of at most {MAX_CHOICE_LENGTH} characters"
            )
    # Replies are matched ignoring case and surrounding punctuation, so choices must differ so.
    folded = [normalized(c) for c in value]
    if not all(folded):
        raise field_error("choices", "must each hold a letter or digit, not only punctuation")
    if len(set(folded)) != len(folded):
        raise field_error("choices", "must differ from each other (ignoring case and punctuation)")
    return tuple(c.strip() for c in value)


def _send_at(value: Any, now: datetime | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise field_error("sendAt", "must be an ISO-8601 date and time with a UTC offset")
    try:
        # Python 3.10 reads no "Z" (nor RFC 3339's lower-case "z"); it means +00:00.
        utc = value.endswith(("Z", "z"))
        when = datetime.fromisoformat(value[:-1] + "+00:00" if utc else value)
    except ValueError:
        raise field_error("sendAt", "must be an ISO-8601 date and time with a UTC offset") from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise field_error("sendAt", "must include a UTC offset (e.g. 2026-12-01T09:00:00+01:00)")
    when = when.astimezone(timezone.utc)
    if now is not None and when - now > MAX_SCHEDULE_AHEAD:
        raise field_error("sendAt", "may be at most a year ahead")
    if now is not None and now - when > MAX_SCHEDULE_BEHIND:
        raise field_error(
            "sendAt", "is in the past; leave it out to send now, or give a time to come"
        )
    return when


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
    if not filters:
        # An empty list already means nobody; an empty object must not quietly mean everybody.
        raise field_error(
            "to",
            f"must name at least one of {', '.join(AUDIENCE_FIELDS)}; leave it out to send "
            "to everyone",
        )
    return Audience(**filters)


def _is_unicode_text(value: str) -> bool:
    # JSON can carry lone surrogates ("\ud800"), which no channel can display or store.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
