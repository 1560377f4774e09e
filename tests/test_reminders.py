"""Reminders: the forgiving parser, and the whole flow through the bot and the timer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from botbuilder.schema import Activity

from shared.app import get_app
from shared.chat.reminders import parse_reminder, user_timezone
from tests.support.chat import say
from tests.support.functions import run_timer
from tests.support.work_queue import run_queued_work

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # a Monday
UTC = timezone.utc


@pytest.mark.parametrize(
    ("request_text", "minutes", "what"),
    [
        ("in 10 minutes to stretch", 10, "stretch"),
        ("to stretch in 10 minutes", 10, "stretch"),
        ("in 1 hour 30 minutes to call mum", 90, "call mum"),
        ("in 1 hour and 5 min to check the oven", 65, "check the oven"),
        ("in an hour to drink water", 60, "drink water"),
        ("in 2h to deploy", 120, "deploy"),
        ("in 90 min to leave", 90, "leave"),
        ("in 1.5 hours to review the PR", 90, "review the PR"),
        ("in 3 days to renew the certificate", 3 * 1440, "renew the certificate"),
        ("In 5 Minutes To Breathe.", 5, "Breathe"),
    ],
)
def test_relative_times_are_understood(request_text, minutes, what):
    reminder = parse_reminder(request_text, NOW, UTC)

    assert reminder.due == NOW + timedelta(minutes=minutes)
    assert reminder.what == what


@pytest.mark.parametrize(
    ("request_text", "due", "tomorrow"),
    [
        ("at 17:30 to call Bob", datetime(2026, 11, 23, 17, 30, tzinfo=UTC), False),
        ("to call Bob at 17:30", datetime(2026, 11, 23, 17, 30, tzinfo=UTC), False),
        ("at 5pm to leave", datetime(2026, 11, 23, 17, 0, tzinfo=UTC), False),
        ("at 5:15 p.m. to leave", datetime(2026, 11, 23, 17, 15, tzinfo=UTC), False),
        ("at 8:00 to open the shop", datetime(2026, 11, 24, 8, 0, tzinfo=UTC), True),
        ("at 12am to sleep", datetime(2026, 11, 24, 0, 0, tzinfo=UTC), True),
        ("at 9 to start", datetime(2026, 11, 24, 9, 0, tzinfo=UTC), True),
    ],
)
def test_clock_times_are_the_next_such_time(request_text, due, tomorrow):
    reminder = parse_reminder(request_text, NOW, UTC)

    assert (reminder.due, reminder.tomorrow) == (due, tomorrow)


def test_clock_times_are_read_in_the_users_timezone():
    reminder = parse_reminder("at 17:30 to call Bob", NOW, ZoneInfo("Europe/Berlin"))

    assert reminder.due == datetime(2026, 11, 23, 16, 30, tzinfo=UTC)  # CET is UTC+1


@pytest.mark.parametrize(
    "request_text",
    [
        "sometime to stretch",
        "in 10 minutes",
        "at 17:30",
        "in 0 minutes to blink",
        "at 25:00 to travel in time",
        "at 13pm to lunch",
        "in 400 days to celebrate",
        "",
    ],
)
def test_requests_that_make_no_sense_are_not_guessed(request_text):
    assert parse_reminder(request_text, NOW, UTC) is None


def test_the_users_timezone_comes_from_local_timezone_then_local_timestamp_then_utc():
    named = Activity(local_timezone="Asia/Tokyo", local_timestamp=None)
    stamped = Activity().deserialize({"localTimestamp": "2026-11-23T04:00:00-05:00"})
    unknown = Activity(local_timezone="Mars/Olympus_Mons")

    assert user_timezone(named) == ZoneInfo("Asia/Tokyo")
    assert user_timezone(stamped).utcoffset(None) == timedelta(hours=-5)
    assert user_timezone(unknown) == UTC
    assert user_timezone(Activity()) == UTC


async def test_a_reminder_is_confirmed_listed_cancelled_and_delivered_by_the_timer(clock, channel):
    await say(channel, "hello", conversation="bystander")

    [confirm_stretch] = await say(channel, "remind me in 10 minutes to stretch")
    typing_first = channel.received[0].activity["type"]
    [confirm_call] = await say(channel, "Remind me at 17:30 to call Bob")
    [listing] = await say(channel, "list reminders")
    [cancelled] = await say(channel, "cancel 1")
    [after_cancel] = await say(channel, "list reminders")
    [no_such] = await say(channel, "cancel 5")
    channel.reset()
    clock.advance(hours=8, minutes=31)  # 17:31
    await run_timer()
    await run_timer()
    await run_queued_work(get_app())

    assert typing_first == "typing"
    assert confirm_stretch == ("Got it: I'll remind you to stretch at 09:10 (UTC), in 10 minutes.")
    assert (
        confirm_call == "Got it: I'll remind you to call Bob at 17:30 (UTC), in 8 hours 30 minutes."
    )
    assert listing.splitlines()[2:] == [
        "1. stretch, at 09:10 (UTC), in 10 minutes",
        "",
        "2. call Bob, at 17:30 (UTC), in 8 hours 30 minutes",
    ]
    assert cancelled == "Cancelled reminder 1: stretch."
    assert "1. call Bob" in after_cancel
    assert "stretch" not in after_cancel
    assert no_such.startswith("There is no reminder 5.")
    [delivered] = channel.received
    assert (delivered.conversation_id, delivered.activity["text"]) == (
        "conv-1",
        "⏰ Reminder: call Bob",
    )


async def test_a_reminder_in_the_users_timezone_is_sent_at_that_local_time(clock, channel):
    [confirm] = await say(channel, "remind me at 17:30 to call Bob", localTimezone="Europe/Berlin")
    channel.reset()
    clock.advance(hours=7, minutes=29)  # 16:29 UTC = 17:29 in Berlin
    await run_timer()
    await run_queued_work(get_app())
    early = list(channel.received)
    clock.advance(minutes=1)
    await run_timer()
    await run_queued_work(get_app())

    assert (
        confirm
        == "Got it: I'll remind you to call Bob at 17:30 (UTC+01:00), in 7 hours 30 minutes."
    )
    assert early == []
    assert [r.activity["text"] for r in channel.received] == ["⏰ Reminder: call Bob"]


async def test_a_reminder_request_the_bot_cannot_read_gets_a_helpful_answer(clock, channel):
    [answer] = await say(channel, "remind me sometime to stretch")

    assert answer.startswith("Sorry, I couldn't tell when.")
    assert "remind me in 10 minutes to stretch" in answer


async def test_with_no_reminders_the_list_says_how_to_make_one(clock, channel):
    [answer] = await say(channel, "list reminders")

    assert answer.startswith("You have no reminders.")


async def test_stop_cancels_pending_reminders_and_says_so(clock, channel):
    await say(channel, "remind me in 10 minutes to stretch")
    await say(channel, "remind me in 20 minutes to drink water")

    [unsubscribed] = await say(channel, "stop")
    await say(channel, "hi again")  # subscribes again
    [listing] = await say(channel, "list reminders")
    channel.reset()
    clock.advance(minutes=30)
    await run_timer()
    await run_queued_work(get_app())

    assert unsubscribed.endswith("I've also cancelled your 2 pending reminders.")
    assert listing.startswith("You have no reminders.")
    assert channel.received == []


async def test_stop_without_reminders_says_nothing_of_them(clock, channel):
    [unsubscribed] = await say(channel, "stop")

    assert "reminder" not in unsubscribed
