"""The reminder conversation: set, list and cancel reminders from chat."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes

from shared.chat.reminders import (
    HELP,
    CancelReminder,
    ListReminders,
    ReminderBook,
    SetReminder,
    describe,
    parse_command,
    parse_reminder,
    reminder_text,
    user_timezone,
)


class ReminderDialog:
    def __init__(self, book: ReminderBook, clock: Callable[[], datetime]) -> None:
        self._book = book
        self._clock = clock

    async def handle(self, turn_context: TurnContext, text: str) -> bool:
        """Answer a reminder command; False when `text` is not one."""
        command = parse_command(text)
        if command is None:
            return False
        activity = turn_context.activity
        if isinstance(command, SetReminder):
            await self._set(turn_context, activity, command.request)
        elif isinstance(command, ListReminders):
            await turn_context.send_activity(await self._list(activity))
        elif isinstance(command, CancelReminder):
            await turn_context.send_activity(await self._cancel(activity, command.number))
        return True

    async def drop_all(self, activity: Activity) -> int:
        """On unsubscribe: the conversation's pending reminders are cancelled (nothing would
        reach it any more); how many there were."""
        return await self._book.cancel_all(activity)

    async def _set(self, turn_context: TurnContext, activity: Activity, request: str) -> None:
        # The long-task pattern: show typing at once, store the work, answer when it is done.
        await turn_context.send_activity(Activity(type=ActivityTypes.typing))
        now = self._clock()
        zone = user_timezone(activity)
        reminder = parse_reminder(request, now, zone)
        if reminder is None:
            await turn_context.send_activity(f"Sorry, I couldn't tell when. {HELP}")
            return
        await self._book.add(activity, reminder, now)
        await turn_context.send_activity(
            f"Got it: I'll remind you to {reminder.what} {describe(reminder.due, zone, now)}."
        )

    async def _list(self, activity: Activity) -> str:
        pending = await self._book.pending(activity)
        if not pending:
            return f"You have no reminders. {HELP}"
        now, zone = self._clock(), user_timezone(activity)
        lines = [
            f"{number}. {reminder_text(n)}, {describe(n.send_at, zone, now)}"
            for number, n in enumerate(pending, start=1)
        ]
        return "Your reminders:\n\n" + "\n\n".join(lines)

    async def _cancel(self, activity: Activity, number: int) -> str:
        cancelled = await self._book.cancel(activity, number)
        if cancelled is None:
            return f'There is no reminder {number}. Say "list reminders" to see yours.'
        return f"Cancelled reminder {number}: {reminder_text(cancelled)}."
