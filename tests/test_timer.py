"""notify_timer: the scheduled broadcast through the timer function's real entry point.

The timer only queues: the queue-triggered function does the sending, so a run takes seconds
whatever the audience.
"""

from __future__ import annotations

import logging
import re

from testbed.activities import activity
from tests.support.chat import say
from tests.support.functions import post_activity, post_notify, run_timer
from tests.support.work_queue import queued_messages, run_queued_work


async def test_the_timer_queues_the_broadcast_and_the_queue_sends_it_to_everyone(app, channel):
    for conversation in ("conv-1", "conv-2"):
        await post_activity(activity(channel.url, conversation))
    channel.reset()

    await run_timer()

    assert channel.received == []
    assert await queued_messages(app) == 2  # its one chunk, and the wake for this instance
    await run_queued_work(app)
    assert sorted(r.conversation_id for r in channel.received) == ["conv-1", "conv-2"]
    assert {r.activity["text"] for r in channel.received} == {"Daily reminder: stand-up at 10:00."}


async def test_a_past_due_timer_still_sends_and_says_so(app, channel, caplog):
    await post_activity(activity(channel.url, "conv-1"))
    channel.reset()

    with caplog.at_level(logging.INFO):
        await run_timer(past_due=True)
        await run_queued_work(app)

    assert [r.conversation_id for r in channel.received] == ["conv-1"]
    assert "past due" in caplog.text


async def test_with_no_timer_text_the_timer_sends_nothing_and_logs_why(app_with, channel, caplog):
    await app_with(NOTIFY_TIMER_TEXT="")
    await post_activity(activity(channel.url, "conv-1"))
    channel.reset()

    lines = await logged_timer_run(caplog)

    assert channel.received == []
    assert lines == [
        "Timer run: queued 0 due notification(s)/reminder(s); "
        "no NOTIFY_TIMER_TEXT set: no broadcast"
    ]


async def test_the_timer_prunes_conversations_the_channel_says_are_gone(app, channel):
    await post_activity(activity(channel.url, "conv-gone"))
    channel.reset()
    channel.answer("conv-gone", 403, "BotNotInConversationRoster")

    await run_timer()
    await run_queued_work(app)

    assert await app.store.get("msteams", "conv-gone") is None


def timer_lines(caplog) -> list[str]:
    """What the timer logged (INFO and up), one line per run."""
    return [r.getMessage() for r in caplog.records if r.name == "shared.functions.timer"]


async def logged_timer_run(caplog) -> list[str]:
    """Run the timer once; what it logged."""
    with caplog.at_level(logging.INFO):
        await run_timer()
    return timer_lines(caplog)


# With the `clock` fixture the broadcast's own schedule is daily at noon UTC, and it is 09:00.


async def test_a_run_before_the_broadcast_slot_names_the_next_slot(clock, channel, caplog):
    assert await logged_timer_run(caplog) == [
        "Timer run: queued 0 due notification(s)/reminder(s); "
        "broadcast not due: next slot at 2026-11-23T12:00:00Z"
    ]


async def test_a_run_in_the_broadcast_slot_names_the_slot_and_the_queued_broadcast(
    clock, channel, caplog
):
    clock.advance(hours=3, seconds=20)

    [line] = await logged_timer_run(caplog)
    queued = re.fullmatch(
        r"Timer run: queued 0 due notification\(s\)/reminder\(s\); "
        r"broadcast queued as (\w+) for slot 2026-11-23T12:00:00Z",
        line,
    )
    assert queued is not None, line
    assert f"Queued notification {queued[1]}" in caplog.text


async def test_a_second_run_in_the_same_slot_says_the_broadcast_already_went(
    clock, channel, caplog
):
    clock.advance(hours=3)
    await run_timer()
    clock.advance(minutes=1)

    assert await logged_timer_run(caplog) == [
        "Timer run: queued 0 due notification(s)/reminder(s); "
        "broadcast already sent for slot 2026-11-23T12:00:00Z"
    ]


async def test_a_slot_missed_by_more_than_ten_minutes_is_not_due_and_the_next_is_named(
    clock, channel, caplog
):
    clock.advance(hours=3, minutes=11)

    assert await logged_timer_run(caplog) == [
        "Timer run: queued 0 due notification(s)/reminder(s); "
        "broadcast not due: next slot at 2026-11-24T12:00:00Z"
    ]


async def test_the_run_counts_the_notifications_and_reminders_that_came_due(clock, channel, caplog):
    await say(channel, "remind me in 10 minutes to stretch")
    response = await post_notify({"text": "Stand-up", "sendAt": "2026-11-23T09:05:00Z"})
    assert response.status == 202
    clock.advance(minutes=10)

    assert await logged_timer_run(caplog) == [
        "Timer run: queued 2 due notification(s)/reminder(s); "
        "broadcast not due: next slot at 2026-11-23T12:00:00Z"
    ]
