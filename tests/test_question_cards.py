"""A question in Teams is an Adaptive Card with a button per choice: a click is an answer like a
typed reply, and the card itself then says it was answered."""

from __future__ import annotations

import pytest

from shared.app import get_app
from testbed.activities import activity
from tests.support.chat import say
from tests.support.functions import get_status, post_activity, post_notify
from tests.support.references import store_conversations

QUESTION = {"text": "Ship build 142?", "choices": ["Ship it", "Hold"]}
ADAPTIVE = "application/vnd.microsoft.card.adaptive"


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
    card = invoke_body["value"]
    assert "actions" not in card  # the buttons are gone
    return [block["text"] for block in card["body"]]


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

    assert card_lines(second.body)[-1] in (
        "Thanks, I already have your answer.",
        "This question is closed: it was answered, replaced by a newer one, or expired.",
    )
    assert (await get_status(asked)).body["answerCounts"] == {"Ship it": 0, "Hold": 1}


async def test_a_click_on_a_question_replaced_by_a_newer_one_is_closed(asked, channel):
    await post_notify({"text": "Lunch?", "choices": ["Pizza", "Salad"]})

    response = await click(channel, asked, "Hold")

    assert card_lines(response.body) == [
        "",
        "This question is closed: it was answered, replaced by a newer one, or expired.",
    ]
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
    assert card_lines(again.body)[-1] == "Thanks, I already have your answer."
    status = (await get_status(asked)).body
    assert status["answerCounts"] == {"Ship it": 1, "Hold": 2}
    assert sorted((a["userId"], a["choice"]) for a in status["answers"]) == [
        ("29:ann", "Ship it"),
        ("29:bob", "Hold"),
        ("29:cy", "Hold"),
    ]


async def test_where_universal_actions_are_missing_the_submitted_choice_answers(asked, channel):
    submit = activity(
        channel.url, "a:ann", text=None, value={"notification": asked, "choice": "Ship it"}
    )

    response = await post_activity(submit)

    assert response.status == 200
    replies = [r.activity.get("text") for r in channel.received if r.method == "POST"]
    assert replies[-1] == "Thanks! I've recorded your answer: Ship it."
    assert (await get_status(asked)).body["answerCounts"] == {"Ship it": 1, "Hold": 0}


async def test_other_invokes_get_an_empty_200(asked, channel):
    response = await post_activity(
        activity(channel.url, "a:ann", type="invoke", name="task/fetch", value={})
    )

    assert (response.status, response.body) == (200, "")
