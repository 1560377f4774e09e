"""When the scheduled broadcast (NOTIFY_TIMER_TEXT) goes out: once per BROADCAST_SCHEDULE slot.

The timer runs every minute to deliver scheduled notifications; the broadcast keeps its own
six-field NCRONTAB schedule. Each slot is claimed by inserting a row named after it, so however
many timer runs overlap or repeat, one slot sends one broadcast.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from azure.core.exceptions import ResourceExistsError

from shared.settings import SettingsError
from shared.storage.tables import Table, storage_errors

PARTITION = "broadcast-slot"
# A slot missed by more than this (the app was down) is skipped rather than sent late.
LATE_LIMIT = timedelta(minutes=10)


SETTING = "BROADCAST_SCHEDULE"


def _validate(expression: str) -> None:
    """Raise SettingsError unless `expression` is a six-field NCRONTAB schedule."""
    try:
        if len(expression.split()) != 6:
            raise ValueError("must have six fields: second minute hour day month day-of-week")
        _slot_at_or_before(expression, datetime(2026, 1, 1))
    except (ValueError, KeyError) as error:
        raise SettingsError(f"{SETTING} {error}, got {expression!r}") from None


def _slot_at_or_before(expression: str, moment: datetime) -> datetime:
    # Imported here: only apps that set BROADCAST_SCHEDULE pay croniter's import time.
    from croniter import croniter

    # NCRONTAB: seconds come first, and day-of-month and day-of-week must both match.
    schedule = croniter(
        expression, moment + timedelta(microseconds=1), second_at_beginning=True, day_or=False
    )
    return schedule.get_prev(datetime)


class BroadcastSchedule:
    def __init__(self, expression: str, table: Table) -> None:
        """`expression` is the BROADCAST_SCHEDULE setting; a malformed one fails here."""
        if expression:
            _validate(expression)
        self._expression = expression
        self._table = table

    async def claim_due_slot(self, now: datetime) -> datetime | None:
        """The slot this run should broadcast for, claimed; None if none is due or it is taken."""
        if not self._expression:
            return now  # no schedule of its own: every timer run broadcasts, as before
        slot = _slot_at_or_before(self._expression, now)
        if now - slot > LATE_LIMIT:
            return None
        table = await self._table.client()
        with storage_errors():
            try:
                await table.create_entity(
                    {"PartitionKey": PARTITION, "RowKey": slot.strftime("%Y%m%dT%H%M%SZ")}
                )
            except ResourceExistsError:
                return None
        return slot
