"""Dialog-aware proactive messages: a question with choices, and replies understood as answers."""

from __future__ import annotations

import pytest
from botbuilder.schema import Activity

from shared.app import get_app
from shared.storage.references import StoredReference
from testbed.activities import BOT_ID, BOT_NAME, activity
from tests.support.chat import say
from tests.support.functions import get_status, post_notify
from tests.support.references import store_conversations

QUESTION = {"text": "Is the new build working for you?", "choices": ["Yes", "No"]}


def answered(status: dict) -> dict[str, str]:
    """The answers of a status, by conversation."""
    return {a["conversationId"]: a["choice"] for a in status["answers"]}


@pytest.fixture
async def asked(clock, channel) -> str:
    await store_conversations(get_app(), channel.url, ["conv-a", "conv-b"])
    response = await post_notify(QUESTION)
    assert response.body["sent"] == 2
    return response.body["id"]


async def test_the_question_goes_out_with_its_choices_as_buttons(clock, channel):
    webchat = Activity().deserialize(activity(channel.url, "conv-w", channel_id="webchat"))
    await get_app().store.save(StoredReference.from_activity(webchat, clock()))

    await post_notify(QUESTION)

    [sent] = channel.received
    assert sent.activity["text"] == QUESTION["text"]
    assert sent.activity["suggestedActions"]["actions"] == [
        {"type": "imBack", "title": "Yes", "value": "Yes"},
        {"type": "imBack", "title": "No", "value": "No"},
    ]


async def test_a_reply_matching_a_choice_is_recorded_and_acknowledged(asked, channel):
    replies = await say(channel, "  yES ", conversation="conv-a")

    assert replies == ["Thanks! I've recorded your answer: Yes."]
    status = (await get_status(asked)).body
    assert answered(status) == {"conv-a": "Yes"}
    assert status["answerCounts"] == {"Yes": 1, "No": 0}


async def test_answers_from_several_conversations_are_counted_per_choice(asked, channel):
    await say(channel, "no", conversation="conv-a")
    await say(channel, "No", conversation="conv-b")

    status = (await get_status(asked)).body

    assert status["state"] == "done"
    assert answered(status) == {"conv-a": "No", "conv-b": "No"}
    assert status["answerCounts"] == {"Yes": 0, "No": 2}
    assert status["counts"]["sent"] == 2


async def test_a_reply_matching_nothing_is_prompted_again_once(asked, channel):
    [again] = await say(channel, "maybe?", conversation="conv-a")
    [recorded] = await say(channel, "yes", conversation="conv-a")

    assert again == f"Sorry, I didn't catch that. {QUESTION['text']}"
    assert channel.received[0].activity["type"] == "message"
    assert recorded == "Thanks! I've recorded your answer: Yes."


async def test_after_two_replies_matching_nothing_the_conversation_goes_back_to_normal(
    asked, channel
):
    await say(channel, "maybe", conversation="conv-a")
    [normal] = await say(channel, "what is this?", conversation="conv-a")
    [later] = await say(channel, "yes", conversation="conv-a")

    assert "subscribed" in normal
    assert "subscribed" in later
    assert answered((await get_status(asked)).body) == {}


async def test_only_the_first_reply_counts(asked, channel):
    await say(channel, "yes", conversation="conv-a")
    [second] = await say(channel, "no", conversation="conv-a")

    assert "subscribed" in second
    assert (await get_status(asked)).body["answerCounts"] == {"Yes": 1, "No": 0}


async def test_a_reply_with_an_at_mention_of_the_bot_still_matches(asked, channel):
    mention = f"<at>{BOT_NAME}</at>"
    entities = [{"type": "mention", "mentioned": {"id": BOT_ID, "name": BOT_NAME}, "text": mention}]

    replies = await say(channel, f"{mention} No", conversation="conv-b", entities=entities)

    assert replies == ["Thanks! I've recorded your answer: No."]


async def test_a_newer_prompt_takes_over_the_conversation(asked, clock, channel):
    newer = await post_notify({"text": "Lunch today?", "choices": ["Pizza", "Salad"]})

    await say(channel, "salad", conversation="conv-a")

    assert answered((await get_status(newer.body["id"])).body) == {"conv-a": "Salad"}
    assert answered((await get_status(asked)).body) == {}


@pytest.mark.parametrize("reply", ["yes!", "  Yes. ", "¡YES!", "“yes”"])
async def test_punctuation_around_a_reply_still_matches(asked, channel, reply):
    replies = await say(channel, reply, conversation="conv-a")

    assert replies == ["Thanks! I've recorded your answer: Yes."]


@pytest.mark.parametrize("choice", ["Stop", "List reminders", "remind me in 10 minutes"])
async def test_an_awaited_answer_wins_over_a_command_of_the_same_words(clock, channel, choice):
    await store_conversations(get_app(), channel.url, ["conv-a"])
    asked = await post_notify({"text": "Next?", "choices": ["Continue", choice]})

    replies = await say(channel, choice, conversation="conv-a")

    assert replies == [f"Thanks! I've recorded your answer: {choice}."]
    assert answered((await get_status(asked.body["id"])).body) == {"conv-a": choice}
    assert await get_app().store.get("msteams", "conv-a") is not None  # still subscribed


async def test_a_question_left_unanswered_expires_after_the_setting(clock, channel):
    await store_conversations(get_app(), channel.url, ["conv-a"])
    asked = await post_notify(QUESTION)
    clock.advance(hours=get_app().settings.prompt_expiry_hours, minutes=1)

    [reply] = await say(channel, "yes", conversation="conv-a")

    assert "subscribed" in reply
    assert answered((await get_status(asked.body["id"])).body) == {}


@pytest.mark.parametrize(
    "body",
    [
        {"text": "Q?", "choices": "Yes"},
        {"text": "Q?", "choices": []},
        {"text": "Q?", "choices": ["Yes", "yes"]},
        {"text": "Q?", "choices": ["Yes", "Yes!"]},
        {"text": "Q?", "choices": ["Yes", "?!"]},
        {"text": "Q?", "choices": ["Yes", ""]},
        {"text": "Q?", "choices": [1, 2]},
        {"text": "Q?", "choices": [str(n) for n in range(11)]},
        {"text": "Q?", "choices": ["x" * 101]},
        {"attachments": [{"contentType": "text/plain", "content": "hi"}], "choices": ["A"]},
    ],
    ids=[
        "string",
        "empty",
        "duplicate",
        "duplicate-but-punctuation",
        "only-punctuation",
        "blank",
        "numbers",
        "too-many",
        "too-long",
        "no-text",
    ],
)
async def test_invalid_choices_are_a_400(clock, channel, body):
    response = await post_notify(body)

    assert response.status == 400
    assert response.body["detail"]["field"] in ("choices", "text")
    assert channel.received == []
