"""Reminders a user asks the bot for: a small, forgiving parser and the reminder book.

"remind me in 10 minutes to stretch", "remind me at 17:30 to call Bob", "remind me to stretch in
1 hour 30 min", "remind me at 5pm to leave". Times are read in the user's timezone (the activity's
localTimezone, else the offset of its localTimestamp, else UTC). A reminder is a scheduled
notification to the conversation that asked; the timer sends it when due.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botbuilder.schema import Activity

from shared.notifications.lifecycle import State
from shared.notifications.records import Notification, NotificationStore
from shared.storage.keys import conversation_key
from shared.storage.references import activity_conversation_id

REMINDER = "reminder"
MAX_AHEAD = timedelta(days=365)
MAX_TEXT = 500

_UNITS = {
    "m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1,
    "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60,
    "d": 1440, "day": 1440, "days": 1440,
}  # fmt: skip
_AMOUNT = r"(\d+(?:[.,]\d+)?|an?|one)"
_UNIT = r"(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")\b"
_IN = re.compile(rf"in\s+{_AMOUNT}\s*{_UNIT}(?:\s*(?:and\s+)?(\d+)\s*{_UNIT})?", re.I)
_AT = re.compile(r"at\s+(\d{1,2})(?:[:.h](\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?(?=\s|$)", re.I)
_SET = re.compile(r"^\s*remind\s+me\b\s*(.*)$", re.I | re.S)
_LIST = re.compile(r"^\s*(list|show)\s+(my\s+)?reminders\s*[.!?]?\s*$", re.I)
_CANCEL = re.compile(r"^\s*cancel\s+(?:reminder\s+)?#?(\d+)\s*[.!?]?\s*$", re.I)
HELP = (
    'I can set reminders like "remind me in 10 minutes to stretch" or '
    '"remind me at 17:30 to call Bob". Say "list reminders" to see yours, '
    '"cancel 1" to drop one.'
)


@dataclass(frozen=True)
class ParsedReminder:
    due: datetime  # UTC
    what: str
    tomorrow: bool = False


@dataclass(frozen=True)
class SetReminder:
    request: str  # what followed "remind me"


@dataclass(frozen=True)
class ListReminders:
    pass


@dataclass(frozen=True)
class CancelReminder:
    number: int


Command = SetReminder | ListReminders | CancelReminder


def parse_command(text: str) -> Command | None:
    if match := _SET.match(text):
        return SetReminder(match.group(1).strip())
    if _LIST.match(text):
        return ListReminders()
    if match := _CANCEL.match(text):
        return CancelReminder(int(match.group(1)))
    return None


def parse_reminder(request: str, now: datetime, zone: tzinfo) -> ParsedReminder | None:
    """`request` is what follows "remind me"; `now` is aware. None when it makes no sense."""
    for pattern, due_of in ((_IN, _due_in), (_AT, _due_at)):
        match = pattern.search(request)
        if match is None:
            continue
        due = due_of(match, now, zone)
        what = _what(request[: match.start()] + " " + request[match.end() :])
        if due is None or not what:
            return None
        when, tomorrow = due
        if not timedelta(0) < when - now <= MAX_AHEAD:
            return None
        return ParsedReminder(when.astimezone(timezone.utc), what, tomorrow)
    return None


def _due_in(match: re.Match, now: datetime, zone: tzinfo) -> tuple[datetime, bool] | None:
    amount, unit, extra, extra_unit = match.groups()
    amount = 1.0 if amount.lower() in ("a", "an", "one") else float(amount.replace(",", "."))
    minutes = amount * _UNITS[unit.lower()]
    if extra:
        minutes += int(extra) * _UNITS[extra_unit.lower()]
    if minutes <= 0:
        return None
    return now + timedelta(minutes=minutes), False


def _due_at(match: re.Match, now: datetime, zone: tzinfo) -> tuple[datetime, bool] | None:
    hour, minute, meridiem = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem.lower().startswith("p") else 0)
    if hour > 23 or minute > 59:
        return None
    local_now = now.astimezone(zone)
    due = datetime.combine(local_now.date(), time(hour, minute), tzinfo=zone)
    if due <= local_now:
        return datetime.combine(
            local_now.date() + timedelta(days=1), time(hour, minute), zone
        ), True
    return due, False


def _what(rest: str) -> str:
    what = re.sub(r"\s+", " ", rest).strip(" ,.;:!")
    what = re.sub(r"^(to|that|about)\s+", "", what, flags=re.I)
    return what[:MAX_TEXT]


def user_timezone(activity: Activity) -> tzinfo:
    """The user's timezone: localTimezone (IANA name), else localTimestamp's offset, else UTC."""
    name = activity.local_timezone
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    stamp = activity.local_timestamp
    if isinstance(stamp, datetime) and stamp.utcoffset() is not None:
        return timezone(stamp.utcoffset())
    return timezone.utc


def describe(due: datetime, zone: tzinfo, now: datetime) -> str:
    """ "at 17:30 (UTC+01:00), in 2 hours 5 minutes" in the user's timezone."""
    local = due.astimezone(zone)
    day = "" if local.date() == now.astimezone(zone).date() else f" on {local:%a %d %b}"
    offset = local.strftime("%z")
    label = "UTC" if offset in ("+0000", "") else f"UTC{offset[:3]}:{offset[3:]}"
    return f"at {local:%H:%M}{day} ({label}), in {_duration(due - now)}"


def _duration(delta: timedelta) -> str:
    minutes = max(round(delta.total_seconds() / 60), 1)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    return " ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n)


class ReminderBook:
    def __init__(self, notifications: NotificationStore) -> None:
        self._notifications = notifications

    async def add(self, activity: Activity, reminder: ParsedReminder, now: datetime) -> None:
        notification = Notification(
            id=Notification.new_id(),
            state=State.SCHEDULED,
            request={
                "text": f"⏰ Reminder: {reminder.what}",
                "to": {
                    "channelIds": [activity.channel_id],
                    "conversationIds": [activity_conversation_id(activity)],
                },
            },
            created_at=now,
            send_at=reminder.due,
            kind=REMINDER,
            owner=conversation_key(activity.channel_id, activity_conversation_id(activity)),
        )
        await self._notifications.add(notification)

    async def pending(self, activity: Activity) -> list[Notification]:
        owner = conversation_key(activity.channel_id, activity_conversation_id(activity))
        return await self._notifications.scheduled_for(owner, REMINDER)

    async def cancel_all(self, activity: Activity) -> int:
        """Cancel every pending reminder of the conversation; how many were cancelled."""
        pending = await self.pending(activity)
        return sum([await self._notifications.cancel(n) for n in pending])

    async def cancel(self, activity: Activity, number: int) -> Notification | None:
        """Cancel the `number`th pending reminder as listed; None if there is none such."""
        pending = await self.pending(activity)
        if not 1 <= number <= len(pending):
            return None
        chosen = pending[number - 1]
        return chosen if await self._notifications.cancel(chosen) else None


def reminder_text(notification: Notification) -> str:
    return notification.request["text"].removeprefix("⏰ Reminder: ")
