"""A Teams channel is one audience member, whichever of its threads talks to the bot."""

from __future__ import annotations

from shared.app import get_app
from shared.storage.audience import Audience
from tests.support.chat import say
from tests.support.functions import get_status, post_notify

CHANNEL = "19:general0123@thread.tacv2"
THREADS = [CHANNEL, *(f"{CHANNEL};messageid=17000000000{n}" for n in range(3))]


async def talk_in_every_thread(channel) -> None:
    for conversation in THREADS:
        await say(channel, "hi", conversation=conversation, conversation_type="channel")


async def test_messages_in_a_channel_and_its_threads_store_one_reference(app, channel):
    await talk_in_every_thread(channel)

    stored = [r async for r in app.store.find(Audience())]

    assert [(r.conversation_id, r.conversation_type) for r in stored] == [(CHANNEL, "channel")]
    # The reference itself is the last thread's, exactly as the activity gave it.
    assert stored[0].reference_json["conversation"]["id"] == THREADS[-1]


async def test_a_notification_posts_once_to_the_channel_not_into_a_thread(app, channel):
    await talk_in_every_thread(channel)
    channel.reset()

    response = await post_notify({"text": "Deploy at 17:00"})

    assert response.body["sent"] == 1
    [post] = channel.received
    assert post.conversation_id == CHANNEL
    assert post.activity["conversation"]["id"] == CHANNEL


async def test_an_answer_given_in_a_thread_is_the_channels_answer(clock, channel):
    await talk_in_every_thread(channel)
    asked = await post_notify({"text": "Ship it?", "choices": ["Yes", "No"]})
    # Replies to the post come in the thread Teams started for it.
    question_thread = f"{CHANNEL};messageid={channel.received[-1].activity_id}"

    replies = await say(channel, "Yes", conversation=question_thread, conversation_type="channel")

    assert replies == ["Thanks! I've recorded your answer: Yes."]
    [answer] = (await get_status(asked.body["id"])).body["answers"]
    assert (answer["conversationId"], answer["choice"]) == (CHANNEL, "Yes")


async def test_stop_in_a_thread_unsubscribes_the_channel(app, channel):
    await talk_in_every_thread(channel)

    await say(channel, "stop", conversation=THREADS[2], conversation_type="channel")

    assert await get_app().store.get("msteams", CHANNEL) is None
