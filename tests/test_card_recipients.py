"""`${recipient.*}` in a card template: in a 1:1 chat the person; in a channel or a group chat the
conversation itself (its name where the channel gave one), never whoever spoke there last."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from botbuilder.schema import Activity

from shared.app import App
from shared.storage.references import StoredReference
from testbed.activities import activity
from tests.support.functions import post_notify

TENANT = "tenant-1"
CARD = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [
        {"type": "TextBlock", "text": "Hi ${recipient.name}"},
        {
            "type": "TextBlock",
            "text": "${recipient.id}|${recipient.aadObjectId}|${recipient.conversationId}|"
            "${recipient.conversationType}|${recipient.channelId}",
        },
    ],
}


async def spoken_in(app: App, channel, conversation: dict, speaker: str = "Ada") -> None:
    """`speaker` says something in the conversation: its reference is stored as that gave it."""
    said = activity(
        channel.url,
        conversation["id"],
        user_id="29:" + speaker.lower(),
        tenant_id=TENANT,
        conversation={**conversation, "tenantId": TENANT},
        **{"from": {"id": "29:" + speaker.lower(), "name": speaker, "aadObjectId": "aad-1"}},
    )
    inbound = Activity().deserialize(said)
    await app.store.save(StoredReference.from_activity(inbound, datetime.now(timezone.utc)))


def texts_sent_to(channel, conversation_id: str) -> list[str]:
    [sent] = [
        r
        for r in channel.received
        if r.conversation_id == conversation_id and r.activity.get("attachments")
    ]
    card = sent.activity["attachments"][0]["content"]
    return [block["text"] for block in card["body"]]


@pytest.mark.parametrize(
    ("conversation", "name"),
    [
        (
            {
                "id": "19:releases@thread.tacv2",
                "conversationType": "channel",
                "isGroup": True,
                "name": "Releases",
            },
            "Releases",
        ),
        (
            {"id": "19:lunch@thread.v2", "conversationType": "groupChat", "isGroup": True},
            "",
        ),
    ],
    ids=["a channel with a name", "a group chat without one"],
)
async def test_in_a_shared_conversation_the_recipient_is_the_conversation(
    app, channel, conversation, name
):
    await spoken_in(app, channel, conversation)

    response = await post_notify({"card": CARD, "data": {}})

    assert (response.status, response.body["sent"]) == (200, 1), response.body
    kind = conversation["conversationType"]
    assert texts_sent_to(channel, conversation["id"]) == [
        f"Hi {name}",
        f"||{conversation['id']}|{kind}|msteams",
    ]


async def test_in_a_1_1_chat_the_recipient_is_the_person(app, channel):
    await spoken_in(app, channel, {"id": "a:ada", "conversationType": "personal"})

    response = await post_notify({"card": CARD, "data": {}})

    assert (response.status, response.body["sent"]) == (200, 1), response.body
    assert texts_sent_to(channel, "a:ada") == [
        "Hi Ada",
        "29:ada|aad-1|a:ada|personal|msteams",
    ]
