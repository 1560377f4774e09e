"""notify_timer: the scheduled broadcast through the timer function's real entry point.

The timer only queues: the queue-triggered function does the sending, so a run takes seconds
whatever the audience.
"""

from __future__ import annotations

import logging

from testbed.activities import activity
from tests.support.functions import post_activity, run_timer
from tests.support.work_queue import queued_messages, run_queued_work


async def test_the_timer_queues_the_broadcast_and_the_queue_sends_it_to_everyone(app, channel):
    for conversation in ("conv-1", "conv-2"):
        await post_activity(activity(channel.url, conversation))
    channel.reset()

    await run_timer()

    assert channel.received == []
    assert await queued_messages(app) == 1
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

    with caplog.at_level(logging.INFO):
        await run_timer()

    assert channel.received == []
    assert "NOTIFY_TIMER_TEXT is empty" in caplog.text


async def test_the_timer_prunes_conversations_the_channel_says_are_gone(app, channel):
    await post_activity(activity(channel.url, "conv-gone"))
    channel.reset()
    channel.answer("conv-gone", 404, "ConversationNotFound")

    await run_timer()
    await run_queued_work(app)

    assert await app.store.get("msteams", "conv-gone") is None
