"""The reminder book: reminders stored as scheduled notifications to the conversation that asked,
and how a reminder's time reads in the user's timezone and language.

Times are read in the user's timezone (the activity's localTimezone, else the offset of its
localTimestamp, else UTC). The timer sends a reminder when it is due.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botbuilder.schema import Activity

from shared.notifications.lifecycle import State
from shared.notifications.notification_store import Notification, NotificationStore
from shared.storage.keys import conversation_key
from shared.storage.references import activity_conversation_id

if TYPE_CHECKING:
    from shared.chat.reminders.language import Language

REMINDER = "reminder"
SNOOZE = timedelta(minutes=10)  # what "Snooze 10 minutes" puts off a delivered reminder by
# "⏰ Reminder: call Bob", "⏰ Erinnerung: den Tee": the task is what follows the label.
_LABEL = re.compile(r"^⏰ [^:：]*[:：]\s*")


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


def describe(due: datetime, zone: tzinfo, now: datetime, language: Language) -> str:
    """ "at 17:30 (UTC+01:00), in 2 hours 5 minutes" in the user's timezone and language."""
    words = language.answers
    local = due.astimezone(zone)
    when = words["at"].format(time=f"{local:%H:%M}")
    if local.date() != now.astimezone(zone).date():
        when += " " + words["on"].format(date=local.strftime(words["date"]))
    offset = local.strftime("%z")
    label = "UTC" if offset in ("+0000", "") else f"UTC{offset[:3]}:{offset[3:]}"
    return f"{when} ({label}), " + words["in"].format(duration=duration(due - now, language))


def describe_rule(rule: str, language: Language) -> str:
    """ "every weekday at 08:30", "every 2 hours" in the user's language."""
    words = language.answers
    parts = dict(part.split("=", 1) for part in rule.split(";"))
    at = f"{int(parts.get('BYHOUR', 0)):02d}:{int(parts.get('BYMINUTE', 0)):02d}"
    if parts["FREQ"] == "HOURLY":
        return words["every_hours"].format(n=parts.get("INTERVAL", "1"))
    if parts["FREQ"] == "MINUTELY":
        return words["every_minutes"].format(n=parts.get("INTERVAL", "1"))
    if parts["FREQ"] == "DAILY":
        return words["every_day"].format(time=at)
    days = parts.get("BYDAY", "").split(",")
    if days == ["MO", "TU", "WE", "TH", "FR"]:
        return words["every_weekday"].format(time=at)
    names = dict(
        zip(("MO", "TU", "WE", "TH", "FR", "SA", "SU"), words["weekdays"].split(), strict=True)
    )
    return words["every_week"].format(day=", ".join(names[d] for d in days), time=at)


def duration(delta: timedelta, language: Language) -> str:
    minutes = max(round(delta.total_seconds() / 60), 1)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    words = language.answers
    return " ".join(words[unit if n == 1 else unit + "s"].format(n=n) for n, unit in parts if n)


class ReminderBook:
    def __init__(self, notifications: NotificationStore) -> None:
        self._notifications = notifications

    async def add(
        self,
        activity: Activity,
        due: datetime,
        text: str,
        now: datetime,
        choices: tuple[str, ...] = (),
        rule: str = "",
        zone: tzinfo = timezone.utc,
    ) -> Notification:
        """Store a reminder to the conversation of `activity`: `text` at `due` with `choices`
        ("Done", "Snooze 10 minutes") to answer it by, and again at each time `rule` (an RRULE
        body read in `zone`) names after that."""
        notification = Notification(
            id=Notification.new_id(),
            state=State.SCHEDULED,
            request={
                "text": text,
                **({"choices": list(choices)} if choices else {}),
                "to": {
                    "channelIds": [activity.channel_id],
                    "conversationIds": [activity_conversation_id(activity)],
                },
            },
            created_at=now,
            send_at=due,
            kind=REMINDER,
            owner=conversation_key(activity.channel_id, activity_conversation_id(activity)),
            rule=rule,
            zone=zone_name(zone) if rule else "",
        )
        return await self._notifications.add(notification)

    async def pending(self, activity: Activity) -> list[Notification]:
        owner = conversation_key(activity.channel_id, activity_conversation_id(activity))
        return await self._notifications.scheduled_for(owner, REMINDER)

    async def get(self, notification_id: str) -> Notification | None:
        return await self._notifications.get(notification_id)

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
    """The task of a stored reminder, without its "⏰ Reminder:" label in whichever language."""
    return _LABEL.sub("", notification.request["text"], count=1)


def next_reminder(notification: Notification) -> Notification | None:
    """A recurring reminder's next occurrence after this one, as a record of its own whose id
    derives from this one's (stored once however often it is made)."""
    if not notification.rule or notification.send_at is None:
        return None
    # Imported here: the timer needs it only when a series comes due (see dialog).
    from shared.chat.reminders import phrases

    zone = zone_from_name(notification.zone)
    due = phrases.next_rule_time(
        notification.rule, notification.send_at, zone, start=notification.send_at
    )
    if due is None:
        return None
    return replace(
        notification,
        id=hashlib.sha256(f"{notification.id}/next".encode()).hexdigest()[:32],
        state=State.SCHEDULED,
        send_at=due,
        claimed_at=None,
        etag="",
    )


def zone_name(zone: tzinfo) -> str:
    """An IANA name ("Europe/Berlin"), or a fixed offset in minutes ("+60")."""
    if isinstance(zone, ZoneInfo):
        return zone.key
    offset = zone.utcoffset(None) or timedelta(0)
    return f"{round(offset.total_seconds() / 60):+d}"


def zone_from_name(name: str) -> tzinfo:
    if name[:1] in "+-" and name[1:].isdigit():
        return timezone(timedelta(minutes=int(name)))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc
