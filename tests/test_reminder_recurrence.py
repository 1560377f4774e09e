"""Recurring reminders: stored as a rule in the user's zone, each occurrence delivered once by the
timer, the local clock time kept across a DST change, listed with their rule, stopped by cancel."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from shared.app import get_app
from tests.support.chat import say, shown
from tests.support.functions import run_timer
from tests.support.work_queue import run_queued_work

NEW_YORK = "America/New_York"  # clocks go forward on Sunday 14 March 2027, 02:00 -> 03:00


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


async def delivered_at(clock, channel, moment: datetime) -> list[str]:
    """What the timer delivers when run (twice, as overlapping runs would) at `moment`."""
    channel.reset()
    clock.now = moment
    await run_timer()
    await run_timer()
    await run_queued_work(get_app())
    return [shown(r.activity) for r in channel.received]


async def test_every_day_at_9_stays_at_9_local_across_the_dst_change(clock, channel):
    clock.now = utc(2027, 3, 12, 15, 0)  # Friday 10:00 in New York (EST, UTC-5)
    await say(channel, "remind me every day at 9 to stand up", localTimezone=NEW_YORK)

    before = await delivered_at(clock, channel, utc(2027, 3, 13, 13, 59))
    saturday = await delivered_at(clock, channel, utc(2027, 3, 13, 14, 0))  # 09:00 EST
    early = await delivered_at(clock, channel, utc(2027, 3, 14, 12, 59))  # 08:59 EDT
    sunday = await delivered_at(clock, channel, utc(2027, 3, 14, 13, 0))  # 09:00 EDT
    monday = await delivered_at(clock, channel, utc(2027, 3, 15, 13, 0))

    assert before == []
    assert saturday == ["⏰ Reminder: stand up"]
    assert early == []
    assert sunday == ["⏰ Reminder: stand up"]
    assert monday == ["⏰ Reminder: stand up"]


async def test_every_2_hours_counts_elapsed_time_across_the_dst_change(clock, channel):
    clock.now = utc(2027, 3, 14, 5, 0)  # 00:00 EST
    await say(channel, "remind me every 2 hours to drink water", localTimezone=NEW_YORK)

    first = await delivered_at(clock, channel, utc(2027, 3, 14, 7, 0))  # 02:00 EST = 03:00 EDT
    second = await delivered_at(clock, channel, utc(2027, 3, 14, 9, 0))  # 05:00 EDT

    assert first == ["⏰ Reminder: drink water"]
    assert second == ["⏰ Reminder: drink water"]


async def test_the_confirmation_and_the_list_show_the_rule_and_the_next_time(clock, channel):
    clock.now = utc(2027, 3, 12, 15, 0)

    [confirm] = await say(
        channel, "remind me every weekday at 8:30 to check mail", localTimezone=NEW_YORK
    )
    await delivered_at(clock, channel, utc(2027, 3, 15, 12, 30))  # Monday 08:30 EDT
    clock.now = utc(2027, 3, 15, 13, 0)
    [listing] = await say(channel, "list reminders", localTimezone=NEW_YORK)

    assert confirm == (
        "Got it: I'll remind you to check mail every weekday at 08:30, first at 08:30 on "
        "Mon 15 Mar (UTC-04:00), in 2 days 21 hours 30 minutes."
    )
    assert listing == (
        "Your reminders:\n\n1. check mail, every weekday at 08:30, at 08:30 on Tue 16 Mar "
        "(UTC-04:00), in 23 hours 30 minutes"
    )


async def test_cancel_stops_the_series(clock, channel):
    clock.now = utc(2027, 3, 12, 15, 0)
    await say(channel, "remind me every day at 9 to stand up", localTimezone=NEW_YORK)
    first = await delivered_at(clock, channel, utc(2027, 3, 13, 14, 0))

    [cancelled] = await say(channel, "cancel 1")
    later = [await delivered_at(clock, channel, utc(2027, 3, day, 13, 0)) for day in (14, 15, 16)]
    [listing] = await say(channel, "list reminders")

    assert first == ["⏰ Reminder: stand up"]
    assert cancelled == "Cancelled reminder 1: stand up."
    assert later == [[], [], []]
    assert listing.startswith("You have no reminders.")


async def test_overlapping_timer_runs_store_the_next_occurrence_once(clock, channel):
    clock.now = utc(2027, 3, 12, 15, 0)
    await say(channel, "remind me every day at 9 to stand up", localTimezone=NEW_YORK)
    channel.reset()
    clock.now = utc(2027, 3, 13, 14, 0)
    await asyncio.gather(run_timer(), run_timer(), run_timer())
    await run_queued_work(get_app())

    sunday = await delivered_at(clock, channel, utc(2027, 3, 14, 13, 0))
    [listing] = await say(channel, "list reminders")

    assert sunday == ["⏰ Reminder: stand up"]
    assert listing.count("stand up") == 1


async def test_a_daily_time_the_clocks_skip_comes_an_hour_later_that_day(clock, channel):
    clock.now = utc(2027, 3, 13, 12, 0)
    await say(channel, "remind me every day at 2:30am to check the backup", localTimezone=NEW_YORK)

    skipped_day = await delivered_at(clock, channel, utc(2027, 3, 14, 7, 30))  # 03:30 EDT
    next_day = await delivered_at(clock, channel, utc(2027, 3, 15, 6, 30))  # 02:30 EDT

    assert skipped_day == ["⏰ Reminder: check the backup"]
    assert next_day == ["⏰ Reminder: check the backup"]
