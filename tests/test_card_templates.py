"""Adaptive Card templates: expanded as Microsoft's templating SDK expands them, filled from a
webhook's data (and each recipient's own details), and checked before anything is sent."""

from __future__ import annotations

import copy
import json

import pytest

from shared.cards.templates import CARDS_FOLDER
from shared.cards.templating import expand
from tests.support.card_sdk import expand_with_sdk
from tests.support.functions import get_status, patch_notification, post_notify
from tests.support.references import reference, store_conversations
from tests.support.work_queue import run_queued_work

EMPLOYEE = {
    "employee": {
        "name": "Matt",
        "manager": {"name": "Thomas"},
        "peers": [{"name": "Andrew"}, {"name": "Lei"}, {"name": "Mary Anne"}, {"name": "Adam"}],
    },
    "price": 35,
    "firstName": "Matt",
    "lastName": "Hidinger",
}
# The templating language's documented examples (learn.microsoft.com/adaptive-cards/templating/
# language), each as a template for the EMPLOYEE data above.
DOCUMENTED = {
    "binding": {"type": "TextBlock", "text": "${firstName}"},
    "dot notation": {"type": "TextBlock", "text": "${employee.manager.name}"},
    "indexer": {"type": "TextBlock", "text": "${employee.peers[0].name}"},
    "string interpolation": {"type": "TextBlock", "text": "Hi ${firstName} ${lastName}!"},
    "$data scope": {
        "type": "Container",
        "$data": "${employee.manager}",
        "items": [{"type": "TextBlock", "text": "${name} manages ${$root.employee.name}"}],
    },
    "repeating items": {
        "type": "Container",
        "items": [{"type": "TextBlock", "$data": "${employee.peers}", "text": "${name}"}],
    },
    "$index": {
        "type": "Container",
        "items": [
            {"type": "TextBlock", "$data": "${employee.peers}", "text": "${$index}. ${name}"}
        ],
    },
    "$when true": {
        "type": "Container",
        "items": [{"type": "TextBlock", "$when": "${price > 30}", "text": "This thing pricy!"}],
    },
    "$when false": {
        "type": "Container",
        "items": [{"type": "TextBlock", "$when": "${price < 30}", "text": "Dang, cheap!"}],
    },
    "if function": {"type": "TextBlock", "text": "${if(price >= 30, 'High', 'Low')}"},
    "typed value": {"type": "FactSet", "$data": "${employee}", "count": "${count(peers)}"},
    "functions": {
        "type": "TextBlock",
        "text": "${toUpper(employee.name)}: ${join(createArray('a', 'b'), ', ')}, "
        "${formatNumber(price, 2)}, ${concat(firstName, '-', lastName)}",
    },
    "missing data stays as written": {"type": "TextBlock", "text": "Hi ${employee.nickname}"},
    "whole AdaptiveCard": {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {"type": "TextBlock", "text": "${employee.name}'s peers", "weight": "Bolder"},
            {
                "type": "FactSet",
                "facts": [{"$data": "${employee.peers}", "title": "${$index}", "value": "${name}"}],
            },
        ],
    },
}


def test_every_documented_example_expands_as_the_sdk_expands_it():
    names = list(DOCUMENTED)
    sdk = expand_with_sdk([(DOCUMENTED[n], EMPLOYEE) for n in names])

    ours = {n: expand(copy.deepcopy(DOCUMENTED[n]), EMPLOYEE) for n in names}

    assert ours == {n: result["card"] for n, result in zip(names, sdk, strict=True)}


def test_the_shipped_incident_template_expands_as_the_sdk_expands_it():
    template = json.loads((CARDS_FOLDER / "incident.json").read_text(encoding="utf-8"))
    data = {
        "title": "INC-7: checkout is down",
        "state": "investigating",
        "service": "payments",
        "facts": [{"name": "Severity", "value": "1"}, {"name": "Since", "value": "10:42"}],
        "url": "https://status.example.com/INC-7",
        "recipient": {"name": "Ann"},
    }

    [sdk] = expand_with_sdk([(template, data)])

    assert expand(template, data) == sdk["card"]


INCIDENT = {
    "title": "INC-7: checkout is down",
    "state": "investigating",
    "service": "payments",
    "facts": [{"name": "Severity", "value": "1"}],
    "url": "https://status.example.com/INC-7",
}


def cards_sent(channel) -> dict[str, dict]:
    return {
        r.conversation_id: r.activity["attachments"][0]["content"]
        for r in channel.received
        if r.method == "POST"
    }


def texts(card: dict) -> list[str]:
    return [block["text"] for block in card["body"] if block.get("type") == "TextBlock"]


async def test_a_named_template_is_filled_with_the_data_and_each_recipient_s_name(app, channel):
    for conversation, name in (("a:ann", "Ann"), ("a:bob", "Bob")):
        stored = reference(channel.url, conversation)
        stored.reference_json["user"]["name"] = name
        await app.store.save(stored)

    response = await post_notify({"card": "incident", "data": INCIDENT})

    assert (response.status, response.body["sent"]) == (200, 2)
    cards = cards_sent(channel)
    assert texts(cards["a:ann"]) == [
        "INC-7: checkout is down",
        "🔥 INVESTIGATING",
        "Hi Ann, you are on call for payments.",
    ]
    assert texts(cards["a:bob"])[2] == "Hi Bob, you are on call for payments."
    assert cards["a:ann"]["body"][3]["facts"] == [{"title": "Severity", "value": "1"}]
    [post] = [r for r in channel.received if r.conversation_id == "a:ann"]
    assert (
        post.activity["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    )


async def test_an_inline_template_is_expanded_once_for_everyone(app, channel):
    await store_conversations(app, channel.url, ["a:1", "a:2"])
    card = {
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [{"type": "TextBlock", "$data": "${builds}", "text": "${name}: ${status}"}],
    }

    response = await post_notify(
        {"card": card, "data": {"builds": [{"name": "api", "status": "green"}]}}
    )

    assert response.status == 200
    assert {c: texts(card) for c, card in cards_sent(channel).items()} == {
        "a:1": ["api: green"],
        "a:2": ["api: green"],
    }


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"card": "no-such-card", "data": {}}, "card", "no card template named"),
        ({"card": "../host", "data": {}}, "card", "no card template named"),
        ({"card": "incident", "data": {"title": "t"}}, "card", "unresolved"),
        ({"card": {"type": "Container", "items": []}}, "card", "not an Adaptive Card"),
        ({"card": {"type": "AdaptiveCard", "version": "1.6", "body": []}}, "card", "up to 1.5"),
        ({"card": {"type": "AdaptiveCard", "body": []}}, "card", "version"),
        (
            {"card": {"type": "AdaptiveCard", "version": "1.5", "body": "${if(}"}},
            "card",
            "expanded",
        ),
        (
            {"card": {"type": "AdaptiveCard", "version": "1.5", "x": "${nope(1)}"}},
            "card",
            "unknown",
        ),
        ({"card": "incident", "data": [1, 2]}, "data", "must be an object"),
        ({"card": "incident", "data": {**INCIDENT, "recipient": {}}}, "data", "recipient"),
        ({"data": INCIDENT, "text": "hi"}, "data", "give card too"),
        ({"card": "incident", "data": INCIDENT, "attachments": []}, "card", "attachments"),
        ({"card": 42}, "card", "template"),
    ],
)
async def test_a_card_that_cannot_be_sent_is_a_400_before_anything_is_sent(
    app, channel, body, field, says
):
    await store_conversations(app, channel.url, ["a:1"])

    response = await post_notify(body)

    assert response.status == 400
    assert response.body["detail"]["field"] == field
    assert says in response.body["error"]
    assert channel.received == []


async def test_a_card_over_teams_message_size_is_a_400(app, channel):
    rows = [{"type": "TextBlock", "text": "${line}"} for _ in range(400)]
    card = {"type": "AdaptiveCard", "version": "1.5", "body": rows}

    response = await post_notify({"card": card, "data": {"line": "x" * 80}})

    assert response.status == 400
    assert "28672" in response.body["error"]


async def test_an_update_re_renders_the_card_for_500_recipients_through_the_queue(
    app_with, channel
):
    app = await app_with(NOTIFY_INLINE_MAX_TARGETS=10, NOTIFY_MAX_RPS_PER_TENANT=0)
    for n in range(500):
        stored = reference(channel.url, f"a:user-{n:03d}")
        stored.reference_json["user"]["name"] = f"User {n}"
        await app.store.save(stored)
    sent = await post_notify({"card": "incident", "data": INCIDENT})
    await run_queued_work(app, timeout=120)

    resolved = {**INCIDENT, "state": "resolved"}
    update = await patch_notification(sent.body["id"], {"data": resolved})
    await run_queued_work(app, timeout=120)

    assert (await get_status(update.body["id"])).body["counts"]["sent"] == 500
    shown = {
        r.conversation_id: channel.current_activity(r.conversation_id, r.activity_id)
        for r in channel.received
        if r.method == "POST"
    }
    assert len(shown) == 500
    for conversation, activity in shown.items():
        n = int(conversation.rsplit("-", 1)[1])
        assert texts(activity["attachments"][0]["content"])[1:] == [
            "✅ Resolved",
            f"Hi User {n}, you are on call for payments.",
        ]
