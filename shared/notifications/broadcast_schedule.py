"""When the scheduled broadcast (NOTIFY_TIMER_TEXT) goes out: once per BROADCAST_SCHEDULE slot.

The timer runs every minute to deliver scheduled notifications; the broadcast keeps its own
six-field NCRONTAB schedule. Each slot is claimed by inserting a row named after it, so however
many timer runs overlap or repeat, one slot sends one broadcast.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.storage.tables import RowExistsError, Table

PARTITION = "broadcast-slot"
# A slot missed by more than this (the app was down) is skipped rather than sent late.
LATE_LIMIT = timedelta(minutes=10)


def _slots(expression: str, start: datetime):  # a croniter, imported lazily
    # Imported here: only apps that set BROADCAST_SCHEDULE pay croniter's import time.
    from croniter import croniter

    # NCRONTAB: seconds come first, and day-of-month and day-of-week must both match.
    return croniter(expression, start, second_at_beginning=True, day_or=False)


def _slot_at_or_before(expression: str, moment: datetime) -> datetime:
    return _slots(expression, moment + timedelta(microseconds=1)).get_prev(datetime)


def _slot_after(expression: str, moment: datetime) -> datetime:
    return _slots(expression, moment).get_next(datetime)


class BroadcastSchedule:
    def __init__(self, expression: str, table: Table) -> None:
        """`expression` is the BROADCAST_SCHEDULE setting, checked by Settings."""
        self._expression = expression
        self._table = table

    def slots_around(self, now: datetime) -> tuple[datetime | None, datetime]:
        """With a BROADCAST_SCHEDULE: the slot a run at `now` broadcasts for (None when the last
        one is more than LATE_LIMIT ago), and the first slot after `now`, for the timer's log."""
        return self._due_slot(now), _slot_after(self._expression, now)

    def _due_slot(self, now: datetime) -> datetime | None:
        slot = _slot_at_or_before(self._expression, now)
        return None if now - slot > LATE_LIMIT else slot

    async def claim_due_slot(self, now: datetime) -> datetime | None:
        """The slot this run should broadcast for, claimed; None if none is due or it is taken."""
        if not self._expression:
            return now  # no schedule of its own: every timer run broadcasts, as before
        slot = self._due_slot(now)
        if slot is None:
            return None
        try:
            await self._table.insert(
                {"PartitionKey": PARTITION, "RowKey": slot.strftime("%Y%m%dT%H%M%SZ")}
            )
        except RowExistsError:
            return None
        return slot
