"""Reminders through the bot and the timer: set, list, cancel, ask back, delivery.

What each phrase means is the phrase table's (testbed/reminder_phrases.py); recurrence,
languages and snooze have their own files.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from botbuilder.schema import Activity

from shared.app import get_app
from shared.chat.bot import SUBSCRIBED
from shared.chat.reminders.book import user_timezone
from tests.support.chat import say, shown
from tests.support.functions import run_timer
from tests.support.work_queue import run_queued_work

UTC = timezone.utc
ROOT = Path(__file__).resolve().parent.parent


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
    assert (delivered.conversation_id, shown(delivered.activity)) == (
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
    assert [shown(r.activity) for r in channel.received] == ["⏰ Reminder: call Bob"]


async def test_a_request_without_a_time_is_asked_back_and_the_answer_completes_it(clock, channel):
    [question] = await say(channel, "remind me to water the plants")
    [confirm] = await say(channel, "in 2 hours")
    [listing] = await say(channel, "list reminders")

    assert question == "When should I remind you about water the plants?"
    assert confirm == ("Got it: I'll remind you to water the plants at 11:00 (UTC), in 2 hours.")
    assert "1. water the plants, at 11:00" in listing


async def test_the_answer_is_read_with_the_day_the_request_named(clock, channel):
    [question] = await say(channel, "remind me on Friday to submit the report")
    [confirm] = await say(channel, "at 3pm")

    assert question == "When should I remind you about submit the report?"
    assert confirm.startswith(
        "Got it: I'll remind you to submit the report at 15:00 on Fri 27 Nov (UTC), in 4 days"
    )


async def test_an_absurd_time_is_asked_back_not_an_error(clock, channel):
    [question] = await say(channel, "remind me in 99999999999999999999 minutes to x")
    [listing] = await say(channel, "list reminders")

    assert question == "When should I remind you about x?"
    assert listing.startswith("You have no reminders.")


async def test_a_time_in_the_past_is_asked_back(clock, channel):
    [question] = await say(channel, "remind me yesterday at 9 to vote")

    assert question == "When should I remind you about vote?"


async def test_a_request_without_a_task_asks_what(clock, channel):
    [question] = await say(channel, "remind me in 10 minutes")
    [confirm] = await say(channel, "to stretch")

    assert question == "What should I remind you about?"
    assert confirm == "Got it: I'll remind you to stretch at 09:10 (UTC), in 10 minutes."


async def test_an_answer_that_settles_nothing_is_asked_once_more_then_explained(clock, channel):
    await say(channel, "remind me to water the plants")

    [again] = await say(channel, "whenever")
    [explained] = await say(channel, "no idea")
    [chat] = await say(channel, "hello")
    [listing] = await say(channel, "list reminders")

    assert again == "When should I remind you about water the plants?"
    assert explained.startswith("I can set reminders like")
    assert chat == SUBSCRIBED
    assert listing.startswith("You have no reminders.")


async def test_a_command_while_a_question_waits_is_a_command(clock, channel):
    await say(channel, "remind me to water the plants")

    [listing] = await say(channel, "list reminders")
    [confirm] = await say(channel, "in 5 minutes")

    assert listing.startswith("You have no reminders.")
    assert confirm == "Got it: I'll remind you to water the plants at 09:05 (UTC), in 5 minutes."


async def test_the_question_is_the_conversations_own(clock, channel):
    await say(channel, "remind me to water the plants")

    [elsewhere] = await say(channel, "in 5 minutes", conversation="conv-2")

    assert elsewhere == SUBSCRIBED


async def test_an_unanswered_question_lapses_after_an_hour(clock, channel):
    await say(channel, "remind me to water the plants")
    clock.advance(hours=1, minutes=1)

    [late] = await say(channel, "in 5 minutes")

    assert late == SUBSCRIBED


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


async def test_a_request_too_long_to_be_a_reminder_is_asked_about_not_read(clock, channel):
    started = time.monotonic()
    [question] = await say(channel, "erinnere mich " + "um 9 " * 40000)

    assert question == "What should I remind you about?"
    assert time.monotonic() - started < 5  # read whole, it took minutes


# Never a guess: a time the bot is not sure of is asked about, and nothing is stored until the
# answer settles it.


async def test_a_number_that_could_be_a_duration_or_a_clock_time_is_asked_about(clock, channel):
    [question] = await say(channel, "remind me in 2:30 to call Bob")
    [listing] = await say(channel, "list reminders")
    [confirm] = await say(channel, "in 2 hours 30 minutes")

    assert question == "When should I remind you about call Bob?"
    assert listing.startswith("You have no reminders.")
    assert confirm == "Got it: I'll remind you to call Bob at 11:30 (UTC), in 2 hours 30 minutes."


async def test_a_korean_clock_time_with_after_is_asked_about_not_read_as_that_hour(clock, channel):
    [question] = await say(channel, "2시 후에 회의 알려줘", locale="ko-KR")
    [listing] = await say(channel, "알림 목록", locale="ko-KR")
    [confirm] = await say(channel, "오후 3시", locale="ko-KR")

    assert question == "회의, 언제 알려 드릴까요?"
    assert listing.startswith("알림이 없어요.")
    assert confirm.startswith("알겠어요: 15:00 (UTC)")


async def test_a_part_of_the_day_that_holds_no_reading_of_the_hour_is_asked_about(clock, channel):
    [question] = await say(channel, "remind me tonight at 1 to take the bread out")
    [listing] = await say(channel, "list reminders")
    [confirm] = await say(channel, "at 11")

    assert question == "When should I remind you about take the bread out?"
    assert listing.startswith("You have no reminders.")
    assert confirm.startswith("Got it: I'll remind you to take the bread out at 23:00 (UTC)")


async def test_a_part_of_the_day_without_a_clock_time_is_kept_for_the_answer(clock, channel):
    [question] = await say(channel, "remind me tomorrow evening to call Bob")
    [confirm] = await say(channel, "at 7")

    assert question == "When should I remind you about call Bob?"
    assert confirm.startswith("Got it: I'll remind you to call Bob at 19:00 on Tue 24 Nov (UTC)")


async def test_a_word_that_may_be_a_short_day_name_is_asked_about(clock, channel):
    [question] = await say(channel, "remind me at 9 to study for the sat exam")
    [listing] = await say(channel, "list reminders")

    assert question == "When should I remind you about study for the sat exam?"
    assert listing.startswith("You have no reminders.")


def test_no_function_imports_the_phrase_reader_or_dateparser_at_start():
    """Cold start: the reminder patterns and dateparser load with the first reminder request."""
    script = (
        "import json, sys\n"
        "from shared.app import App\n"
        "from shared.settings import Settings\n"
        "App.create(Settings.from_env({'AzureWebJobsStorage': 'UseDevelopmentStorage=true'}))\n"
        "import messages, notify_http, notify_timer, notify_queue\n"
        "loaded = [m for m in sys.modules if m.startswith('dateparser')\n"
        "          or m.startswith('shared.chat.reminders.')\n"
        "          and m.split('.')[3] in ('phrases', 'clock', 'recognizer', 'languages')]\n"
        "print(json.dumps(sorted(loaded)))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert json.loads(run.stdout.strip().splitlines()[-1]) == []
