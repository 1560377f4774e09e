"""notify_timer: the scheduled broadcast through the timer function's real entry point."""

from __future__ import annotations

import logging

from testbed.activities import activity
from tests.support.functions import post_activity, run_timer


async def test_the_timer_sends_the_configured_text_to_every_conversation(app, channel):
    for conversation in ("conv-1", "conv-2"):
        await post_activity(activity(channel.url, conversation))
    channel.reset()

    await run_timer()

    assert sorted(r.conversation_id for r in channel.received) == ["conv-1", "conv-2"]
    assert {r.activity["text"] for r in channel.received} == {"Daily reminder: stand-up at 10:00."}


async def test_a_past_due_timer_still_sends_and_says_so(app, channel, caplog):
    await post_activity(activity(channel.url, "conv-1"))
    channel.reset()

    with caplog.at_level(logging.INFO):
        await run_timer(past_due=True)

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


async def test_the_timer_prunes_conversations_the_channel_says_are_gone(app, channel, caplog):
    await post_activity(activity(channel.url, "conv-gone"))
    channel.reset()
    channel.answer("conv-gone", 404, "ConversationNotFound")

    with caplog.at_level(logging.INFO):
        await run_timer()

    assert await app.store.get("msteams", "conv-gone") is None
    assert "'removed': 1" in caplog.text
