"""The body of POST /api/notify, validated: what to send, and to whom."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from botbuilder.schema import Attachment
from msrest.exceptions import DeserializationError

from shared.delivery.outbound import OutboundMessage
from shared.notifications.callback import Callback, parse_callback
from shared.notifications.people import PeopleAudience, is_people_audience, parse_people
from shared.notifications.reply_text import normalized
from shared.request_errors import RequestError, field_error, has_control_characters
from shared.storage.audience import Audience
from shared.teams import CHANNEL_CHOICES

if TYPE_CHECKING:
    from shared.cards.templates import CardMessage

MAX_ATTACHMENTS = 10  # Teams' limit for one message
MAX_CHOICES = 10
MAX_CHOICE_LENGTH = 100
MAX_SCHEDULE_AHEAD = timedelta(days=366)
# A sendAt this little in the past is a clock difference or a slow request: sent at once. More is
# a mistake (a wrong date or offset) that would otherwise go out now, unannounced.
MAX_SCHEDULE_BEHIND = timedelta(minutes=5)
FIELDS = frozenset(
    {"text", "attachments", "card", "data", "to", "sendAt", "choices", "importance", "callback"}
)
# "urgent" raises a notification in the Teams activity feed; "normal" is every other message.
IMPORTANCE = ("normal", "urgent")
AUDIENCE_FIELDS = {
    "conversationIds": "conversation_ids",
    "userIds": "user_ids",
    "channelIds": "channel_ids",
    "tenantIds": "tenant_ids",
}
# Audiences of whole teams: each stands alone in `to`, since a team's members or channels are
# found only while the notification is sent, not among the stored references the fields above
# filter.
TEAM_MEMBERS, TEAM_CHANNELS = "teamMembersOf", "teamChannels"
MAX_TEAMS = 100  # teams one notification names: each is at least one Bot Connector call


@dataclass(frozen=True)
class TeamAudience:
    """Every member of these teams, one to one (`channels` None), or a new post in each team's
    General channel ("general") or in every channel the bot can post in ("all")."""

    team_ids: tuple[str, ...]
    channels: str | None = None


@dataclass(frozen=True)
class NotifyRequest:
    message: OutboundMessage
    audience: Audience
    send_at: datetime | None = None
    # Set for a team audience, whose `audience` is then nobody among the stored references.
    teams: TeamAudience | None = None
    # Set for an audience of a directory's people (see people), whose `audience` is nobody too.
    people: PeopleAudience | None = None
    callback: Callback | None = None
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
    card = _card(payload)
    if not text and not attachments and card is None:
        raise RequestError(400, "text, attachments or card is required", {"field": "text"})
    choices = _choices(payload.get("choices"))
    if choices and not text:
        raise RequestError(400, "text (the question) is required with choices", {"field": "text"})
    teams = _teams(payload.get("to"))
    to = payload.get("to")
    people = parse_people(to) if teams is None and is_people_audience(to) else None
    message = OutboundMessage(text, attachments, choices, _urgent(payload.get("importance")), card)
    if card is not None:
        _check_card(message)
    return NotifyRequest(
        message,
        NOBODY if teams is not None or people is not None else _audience(to),
        _send_at(payload.get("sendAt"), now),
        teams,
        people,
        parse_callback(payload.get("callback")),
        payload,
    )


def _card(payload: dict[str, Any]) -> CardMessage | None:
    if "card" not in payload:
        if "data" in payload:
            raise field_error("data", "fills a card: give card too")
        return None
    if "attachments" in payload:
        raise field_error("card", "is the message's card: leave attachments out")
    # Imported for cards only: most notifications have none, and every cold start would pay.
    from shared.cards.templates import CardError, card_message

    try:
        return card_message(payload["card"], payload.get("data"))
    except CardError as error:
        field = "data" if str(error).startswith("data") else "card"
        raise field_error(field, str(error)) from None


def _check_card(message: OutboundMessage) -> None:
    """The card as a recipient would get it (each recipient's details filled in blank): an
    Adaptive Card Teams renders, with nothing left unresolved, in a message Teams takes."""
    from shared.cards.templates import CardError
    from shared.cards.validation import check_card, check_message_size

    assert message.card is not None
    try:
        activity = message.to_activity().serialize()
        check_card(activity["attachments"][0]["content"])
        check_message_size(activity)
    except CardError as error:
        raise field_error("card", str(error)) from None


# What a team audience matches among stored references, should any path read them for it.
NOBODY = Audience(conversation_ids=frozenset())


def _teams(value: Any) -> TeamAudience | None:
    if not isinstance(value, dict) or not ({TEAM_MEMBERS, TEAM_CHANNELS} & set(value)):
        return None
    name = TEAM_MEMBERS if TEAM_MEMBERS in value else TEAM_CHANNELS
    others = sorted(set(value) - {name})
    if others:
        raise field_error(
            f"to.{others[0]}", f"cannot be combined with to.{name}, which stands alone"
        )
    if name == TEAM_MEMBERS:
        return TeamAudience(_team_ids(value[name], f"to.{name}"))
    channels = value[name]
    if not isinstance(channels, dict):
        raise field_error(f"to.{name}", 'must be an object: {"teamIds": [...], "channels": ...}')
    unknown = sorted(set(channels) - {"teamIds", "channels"})
    if unknown:
        raise RequestError(
            400, f"unknown field to.{name}.{unknown[0]}", {"field": f"to.{name}.{unknown[0]}"}
        )
    if channels.get("channels") not in CHANNEL_CHOICES:
        raise field_error(f"to.{name}.channels", f"must be one of {', '.join(CHANNEL_CHOICES)}")
    return TeamAudience(
        _team_ids(channels.get("teamIds"), f"to.{name}.teamIds"), channels["channels"]
    )


def _team_ids(value: Any, name: str) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= MAX_TEAMS
        or not all(_is_team_id(i) for i in value)
    ):
        raise field_error(name, f"must be a list of 1-{MAX_TEAMS} team ids (non-empty strings)")
    return tuple(dict.fromkeys(value))  # a team named twice is reached once


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


def _is_team_id(value: Any) -> bool:
    return (
        isinstance(value, str)
        and bool(value.strip())
        and _is_unicode_text(value)
        and not has_control_characters(value)
    )


def _is_unicode_text(value: str) -> bool:
    # JSON can carry lone surrogates ("\ud800"), which no channel can display or store.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# What PATCH /api/notify/{id} may change: the message, never whom it went to or when.
MESSAGE_FIELDS = ("text", "attachments", "card", "data")


def changed_request(request: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """A stored notify body with its message changed: each of `text` and `attachments` given
    replaces the one sent, null removes it (a JSON merge patch); the rest stays."""
    unknown = sorted(set(change) - set(MESSAGE_FIELDS))
    if unknown:
        raise RequestError(
            400,
            f"{unknown[0]} cannot change: only {', '.join(MESSAGE_FIELDS)} can",
            {"field": unknown[0]},
        )
    if not change:
        raise RequestError(400, "text, attachments, card or data is required", {"field": "text"})
    changed = {k: v for k, v in {**request, **change}.items() if v is not None}
    parse_notify_request(changed)  # the checks the first body passed
    return changed
