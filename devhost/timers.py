"""Timer triggers: six-field NCRONTAB schedules in UTC, run as a singleton like the host.

One task per timer function: it sleeps until the next occurrence, runs the function, and only
then works out the following occurrence, so runs of one timer never overlap. Occurrences that
pass while a run (or an on-demand run) is still busy collapse into one late run with
`past_due=True`, instead of a burst of catch-up runs.

Each run gets the TimerRequest the worker decodes from the host's TimerInfo JSON: `past_due`, the
schedule (`{"AdjustForDST": true}`) and the schedule status (`Last`, `Next`, `LastUpdated`, ISO
8601 strings in UTC), which the host keeps while schedule monitoring is on (the default).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping

from azure.functions.timer import TimerRequest
from croniter import croniter

from devhost.settings import resolve_setting_references

logger = logging.getLogger("devhost.host")

# A run that starts this much after its occurrence, e.g. because the loop was busy, is past due.
PAST_DUE_TOLERANCE = dt.timedelta(milliseconds=500)
# Sleep in slices so long waits follow the wall clock (NCRONTAB is wall-clock UTC).
MAX_SLEEP = 60.0

Invoke = Callable[[TimerRequest, dt.datetime], Awaitable[object]]


class ScheduleError(ValueError):
    """A timer schedule that the host would reject at startup."""


def resolve_schedule(function_name: str, schedule: str | None, environ: Mapping[str, str]) -> str:
    """The schedule with `%SETTING%` references replaced by app settings, checked as NCRONTAB."""
    if not schedule:
        raise ScheduleError(f"Function '{function_name}': timerTrigger has no schedule")
    where = f"Function '{function_name}': schedule"
    expression = resolve_setting_references(schedule, environ, where).strip()
    # croniter takes five fields too, with another meaning: insist on the host's six.
    if len(expression.split()) != 6 or not croniter.is_valid(expression, second_at_beginning=True):
        raise ScheduleError(
            f"Function '{function_name}': {expression!r} is not a six-field NCRONTAB expression "
            "'{second} {minute} {hour} {day} {month} {day-of-week}'"
        )
    return expression


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def next_occurrence(expression: str, after: dt.datetime) -> dt.datetime:
    """The first occurrence strictly after `after`, in UTC."""
    # NCrontab requires both day-of-month and day-of-week to match (not either, as cron does).
    schedule = croniter(expression, after, second_at_beginning=True, day_or=False)
    return schedule.get_next(dt.datetime)


def previous_occurrence(expression: str, before: dt.datetime) -> dt.datetime:
    """The last occurrence strictly before `before`, in UTC."""
    schedule = croniter(expression, before, second_at_beginning=True, day_or=False)
    return schedule.get_prev(dt.datetime)


def timer_request(
    past_due: bool, last: dt.datetime, scheduled: dt.datetime, now: dt.datetime | None = None
) -> TimerRequest:
    """What the worker makes of the host's TimerInfo for the run `scheduled` after `last`."""
    return TimerRequest(
        past_due=past_due,
        schedule={"AdjustForDST": True},
        schedule_status={
            "Last": last.isoformat(),
            "Next": scheduled.isoformat(),
            "LastUpdated": (now or utc_now()).isoformat(),
        },
    )


async def sleep_until(moment: dt.datetime) -> None:
    # Polling on purpose: the wait is for a wall-clock moment, not for an event.
    while (delay := (moment - utc_now()).total_seconds()) > 0:  # noqa: ASYNC110
        await asyncio.sleep(min(delay, MAX_SLEEP))


async def run_timer(
    function_name: str,
    expression: str,
    run_on_startup: bool,
    lock: asyncio.Lock,
    invoke: Invoke,
) -> None:
    """Fire `invoke` on schedule until cancelled. `lock` is shared with on-demand runs."""
    previous = utc_now()
    last = previous_occurrence(expression, previous)
    if run_on_startup:
        async with lock:
            now = utc_now()
            await _invoke_quietly(invoke, timer_request(False, last, now, now), now)
    while True:
        scheduled = next_occurrence(expression, previous)
        missed = scheduled <= utc_now()
        if missed:
            while (following := next_occurrence(expression, scheduled)) <= utc_now():
                scheduled = following
        logger.debug("Function '%s' next runs at %s", function_name, scheduled.isoformat())
        await sleep_until(scheduled)
        async with lock:
            late = utc_now() - scheduled > PAST_DUE_TOLERANCE
            request = timer_request(missed or late, last, scheduled)
            await _invoke_quietly(invoke, request, scheduled)
        previous = last = scheduled


async def _invoke_quietly(invoke: Invoke, request: TimerRequest, fired: dt.datetime) -> None:
    # The invoker has logged the failure; a timer is never retried and keeps its schedule.
    with contextlib.suppress(Exception):
        await invoke(request, fired)
