"""A question in Teams is an Adaptive Card with a button per choice: a click is an answer like a
typed reply, and the card itself then says it was answered, on that click and every later one."""

from __future__ import annotations

import pytest

from shared.app import get_app
from testbed.activities import activity
from tests.support.chat import say
from tests.support.functions import get_status, post_activity, post_notify
from tests.support.references import store_conversations

QUESTION = {"text": "Ship build 142?", "choices": ["Ship it", "Hold"]}
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
ALREADY = "Thanks, I already have your answer."
CLOSED = "This question is closed: it was answered, replaced by a newer one, or expired."


@pytest.fixture
async def asked(clock, channel) -> str:
    await store_conversations(get_app(), channel.url, ["a:ann"])
    response = await post_notify(QUESTION)
    assert response.body["sent"] == 1
    return response.body["id"]


def click(channel, notification_id: str, choice: str, conversation: str = "a:ann", **extra):
    """An Action.Execute click as Teams sends it: an adaptiveCard/action invoke."""
    value = {
        "action": {
            "type": "Action.Execute",
            "verb": "answer",
            "data": {"notification": notification_id, "choice": choice},
        },
        "trigger": "manual",
    }
    return post_activity(
        activity(
            channel.url,
            conversation,
            type="invoke",
            name="adaptiveCard/action",
            value=value,
            **extra,
        )
    )


def card_lines(invoke_body: dict) -> list[str]:
    assert (invoke_body["statusCode"], invoke_body["type"]) == (200, ADAPTIVE)
    return lines_of(invoke_body["value"])


def lines_of(card: dict) -> list[str]:
    assert "actions" not in card  # the buttons are gone
    lines = [block["text"] for block in card["body"]]
    assert all(lines)  # an empty TextBlock reads as a broken card
    return lines


async def test_in_teams_the_question_is_a_card_with_a_universal_action_per_choice(asked, channel):
    [sent] = channel.received

    assert "text" not in sent.activity
    assert "suggestedActions" not in sent.activity
    [attachment] = sent.activity["attachments"]
    assert attachment["contentType"] == ADAPTIVE
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.5")
    assert card["body"][0]["text"] == QUESTION["text"]
    assert [(a["type"], a["title"], a["verb"], a["data"]) for a in card["actions"]] == [
        ("Action.Execute", "Ship it", "answer", {"notification": asked, "choice": "Ship it"}),
        ("Action.Execute", "Hold", "answer", {"notification": asked, "choice": "Hold"}),
    ]
    assert {a["fallback"]["type"] for a in card["actions"]} == {"Action.Submit"}


async def test_a_click_is_recorded_and_answered_with_the_card_as_answered(asked, channel):
    response = await click(channel, asked, "Hold")

    assert response.status == 200
    assert card_lines(response.body) == [QUESTION["text"], "✅ Ada answered: Hold"]
    status = (await get_status(asked)).body
    assert status["answerCounts"] == {"Ship it": 0, "Hold": 1}
    assert [(a["conversationId"], a["choice"]) for a in status["answers"]] == [("a:ann", "Hold")]


async def test_only_the_first_click_counts(asked, channel):
    await click(channel, asked, "Hold")

    second = await click(channel, asked, "Ship it")

    assert card_lines(second.body)[1] == "✅ Ada answered: Hold"
    assert (await get_status(asked)).body["answerCounts"] == {"Ship it": 0, "Hold": 1}


async def test_every_later_click_keeps_the_question_and_its_answer(asked, channel):
    await click(channel, asked, "Hold")

    later = [await click(channel, asked, choice) for choice in ("Hold", "Ship it", "Hold")]

    for response in later:
        assert response.status == 200
        assert card_lines(response.body) == [QUESTION["text"], "✅ Ada answered: Hold", ALREADY]


async def test_a_click_after_a_typed_answer_shows_the_typed_answer(asked, channel):
    await say(channel, "ship it", conversation="a:ann")

    response = await click(channel, asked, "Hold")

    assert card_lines(response.body) == [QUESTION["text"], "✅ Ada answered: Ship it", ALREADY]
    assert (await get_status(asked)).body["answerCounts"] == {"Ship it": 1, "Hold": 0}


async def test_an_answered_card_keeps_its_answer_after_a_newer_question(asked, channel):
    await click(channel, asked, "Ship it")
    await post_notify({"text": "Lunch?", "choices": ["Pizza", "Salad"]})

    response = await click(channel, asked, "Ship it")

    assert card_lines(response.body) == [QUESTION["text"], "✅ Ada answered: Ship it", ALREADY]


async def test_a_click_on_a_question_replaced_by_a_newer_one_is_closed(asked, channel):
    await post_notify({"text": "Lunch?", "choices": ["Pizza", "Salad"]})

    response = await click(channel, asked, "Hold")

    assert card_lines(response.body) == [QUESTION["text"], CLOSED]
    assert (await get_status(asked)).body["answerCounts"] == {"Ship it": 0, "Hold": 0}


async def test_a_click_on_an_expired_question_is_closed(asked, channel, clock):
    clock.advance(hours=169)  # PROMPT_EXPIRY_HOURS: 168

    response = await click(channel, asked, "Hold")

    assert card_lines(response.body) == [QUESTION["text"], CLOSED]
    assert (await get_status(asked)).body["answerCounts"] == {"Ship it": 0, "Hold": 0}


@pytest.mark.parametrize(
    "notification_id",
    ["0123456789abcdef0123456789abcdef", "not-an-id", "../x#?", "a\x00b", ""],
    ids=["unknown", "malformed", "key-characters", "control-character", "empty"],
)
async def test_a_click_naming_no_known_notification_is_a_readable_closed_card(
    asked, channel, notification_id
):
    response = await click(channel, notification_id, "Hold")

    assert response.status == 200
    assert card_lines(response.body) == [CLOSED]
    assert (await get_status(asked)).body["answerCounts"] == {"Ship it": 0, "Hold": 0}


async def test_a_click_naming_no_choice_of_the_open_question_keeps_its_buttons(asked, channel):
    response = await click(channel, asked, "Maybe")

    card = response.body["value"]
    assert card["body"][0]["text"] == QUESTION["text"]
    assert [a["title"] for a in card["actions"]] == QUESTION["choices"]
    assert (await get_status(asked)).body["answerCounts"] == {"Ship it": 0, "Hold": 0}


async def test_clicks_and_typed_replies_are_counted_together_per_person_in_a_group_chat(
    clock, channel
):
    group = "19:group-chat@thread.v2"
    await say(channel, "hi", conversation=group, conversation_type="groupChat")
    asked = (await post_notify(QUESTION)).body["id"]

    await click(channel, asked, "Ship it", group, conversation_type="groupChat", user_id="29:ann")
    await click(channel, asked, "Hold", group, conversation_type="groupChat", user_id="29:bob")
    typed = await say(
        channel, "hold", conversation=group, conversation_type="groupChat", user_id="29:cy"
    )
    again = await click(
        channel, asked, "Hold", group, conversation_type="groupChat", user_id="29:ann"
    )

    assert typed == ["Thanks! I've recorded your answer: Hold."]
    assert card_lines(again.body) == [QUESTION["text"], "✅ Ada answered: Ship it", ALREADY]
    status = (await get_status(asked)).body
    assert status["answerCounts"] == {"Ship it": 1, "Hold": 2}
    assert sorted((a["userId"], a["choice"]) for a in status["answers"]) == [
        ("29:ann", "Ship it"),
        ("29:bob", "Hold"),
        ("29:cy", "Hold"),
    ]


def submit(channel, notification_id: str, choice: str, conversation: str = "a:ann", **extra):
    """An Action.Submit click (the fallback where Universal Actions are missing): a message with
    the button's data as its value, in reply to the card's message."""
    value = {"notification": notification_id, "choice": choice}
    return post_activity(activity(channel.url, conversation, text=None, value=value, **extra))


def card_shown(channel, conversation: str, activity_id: str) -> list[str]:
    [attachment] = channel.current_activity(conversation, activity_id)["attachments"]
    assert attachment["contentType"] == ADAPTIVE
    return lines_of(attachment["content"])


async def test_where_universal_actions_are_missing_the_submitted_choice_answers_on_the_card(
    asked, channel
):
    [card] = channel.received

    response = await submit(channel, asked, "Ship it", replyToId=card.activity_id)

    assert response.status == 200
    [update] = [r for r in channel.received if r.method == "PUT"]
    assert (update.conversation_id, update.activity_id, update.status) == (
        "a:ann",
        card.activity_id,
        200,
    )
    assert card_shown(channel, "a:ann", card.activity_id) == [
        QUESTION["text"],
        "✅ Ada answered: Ship it",
    ]
    assert [r for r in channel.received if r.method == "POST"] == [card]  # no other message
    assert (await get_status(asked)).body["answerCounts"] == {"Ship it": 1, "Hold": 0}


async def test_a_later_submitted_click_keeps_the_question_and_its_answer_on_the_card(
    asked, channel
):
    [card] = channel.received
    await submit(channel, asked, "Ship it", replyToId=card.activity_id)

    await submit(channel, asked, "Hold", replyToId=card.activity_id)

    assert len([r for r in channel.received if r.method == "PUT"]) == 2
    assert card_shown(channel, "a:ann", card.activity_id) == [
        QUESTION["text"],
        "✅ Ada answered: Ship it",
        ALREADY,
    ]
    assert (await get_status(asked)).body["answerCounts"] == {"Ship it": 1, "Hold": 0}


async def test_a_submitted_click_whose_card_cannot_be_updated_is_answered_in_a_reply(
    asked, channel
):
    response = await submit(channel, asked, "Hold", replyToId="no-such-message")

    assert response.status == 200
    [refused] = [r for r in channel.received if r.method == "PUT"]
    assert refused.status == 404
    reply = channel.received[-1]
    assert (reply.method, reply.activity["text"]) == ("POST", "✅ Ada answered: Hold")
    assert (await get_status(asked)).body["answerCounts"] == {"Ship it": 0, "Hold": 1}


async def test_a_submitted_click_without_the_card_it_came_from_is_answered_in_a_reply(
    asked, channel
):
    await submit(channel, asked, "Hold")

    assert [r.method for r in channel.received] == ["POST", "POST"]
    assert channel.received[-1].activity["text"] == "✅ Ada answered: Hold"


async def test_in_a_group_chat_a_submitted_click_leaves_the_card_open_for_the_others(
    clock, channel
):
    group = "19:group-chat@thread.v2"
    await say(channel, "hi", conversation=group, conversation_type="groupChat")
    channel.reset()
    asked = (await post_notify(QUESTION)).body["id"]
    [card] = channel.received

    await submit(
        channel, asked, "Hold", group, conversation_type="groupChat", replyToId=card.activity_id
    )

    assert [r.method for r in channel.received] == ["POST", "POST"]  # no PUT
    assert channel.received[-1].activity["text"] == "✅ Ada answered: Hold"
    [attachment] = channel.current_activity(group, card.activity_id)["attachments"]
    assert [a["title"] for a in attachment["content"]["actions"]] == QUESTION["choices"]


async def test_an_action_with_a_verb_the_bot_does_not_own_is_a_universal_actions_error(
    asked, channel
):
    value = {"action": {"type": "Action.Execute", "verb": "approveExpense", "data": {"id": 7}}}

    response = await post_activity(
        activity(channel.url, "a:ann", type="invoke", name="adaptiveCard/action", value=value)
    )

    assert response.status == 400
    assert response.body == {
        "statusCode": 400,
        "type": "application/vnd.microsoft.error",
        "value": {
            "code": "NotSupported",
            "message": "The verb 'approveExpense' is not supported by this bot.",
        },
    }
    assert (await get_status(asked)).body["answerCounts"] == {"Ship it": 0, "Hold": 0}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "The invoke's value has no action."),
        ({"trigger": "manual"}, "The invoke's value has no action."),
        ({"action": "answer"}, "The invoke's value has no action."),
        (
            {"action": {"type": "Action.Execute", "verb": "answer", "data": {"choice": "Hold"}}},
            "The answer does not name its notification and choice.",
        ),
        (
            {"action": {"type": "Action.Execute", "verb": "answer", "data": "Hold"}},
            "The answer does not name its notification and choice.",
        ),
    ],
    ids=["no-value", "no-action", "action-not-an-object", "no-notification", "data-not-an-object"],
)
async def test_a_malformed_card_action_is_a_universal_actions_bad_request(
    asked, channel, value, message
):
    response = await post_activity(
        activity(channel.url, "a:ann", type="invoke", name="adaptiveCard/action", value=value)
    )

    assert response.status == 400
    assert response.body == {
        "statusCode": 400,
        "type": "application/vnd.microsoft.error",
        "value": {"code": "BadRequest", "message": message},
    }
    assert (await get_status(asked)).body["answerCounts"] == {"Ship it": 0, "Hold": 0}


async def test_other_invokes_get_an_empty_200(asked, channel):
    response = await post_activity(
        activity(channel.url, "a:ann", type="invoke", name="task/fetch", value={})
    )

    assert (response.status, response.body) == (200, "")
