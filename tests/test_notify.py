"""POST /api/notify: proactive messages to exactly the matching stored conversations."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from botbuilder.core import CloudAdapterBase
from botbuilder.schema import Activity, Attachment
from botframework.connector.auth import (
    BotFrameworkAuthenticationFactory,
    PasswordServiceClientCredentialFactory,
)

from shared.storage.references import StoredReference
from testbed.activities import BOT_ID, activity
from tests.support.functions import post_activity, post_notify
from tests.support.references import stored_references

HERO_CARD = {
    "contentType": "application/vnd.microsoft.card.hero",
    "content": {"title": "Build finished", "text": "All green"},
}


async def subscribe(channel, conversation_id, **kwargs) -> None:
    response = await post_activity(activity(channel.url, conversation_id, **kwargs))
    assert response.status == 200


@pytest.fixture
async def three_conversations(app, channel):
    await subscribe(channel, "conv-a", user_id="user-a", tenant_id="tenant-1")
    await subscribe(channel, "conv-b", user_id="user-b", tenant_id="tenant-2")
    await subscribe(
        channel, "conv-c", user_id="user-c", tenant_id=None, channel_id="webchat", text="hi"
    )
    channel.reset()


async def test_notify_without_to_reaches_every_stored_conversation_once(
    three_conversations, channel
):
    response = await post_notify({"text": "Deploy finished"})

    assert response.status == 200
    report = dict(response.body)
    assert len(report.pop("id")) == 32
    assert report == {"matched": 3, "sent": 3, "failed": 0, "removed": 0, "failures": []}
    assert sorted(r.conversation_id for r in channel.received) == ["conv-a", "conv-b", "conv-c"]
    assert {r.activity["text"] for r in channel.received} == {"Deploy finished"}


async def test_a_proactive_message_is_addressed_from_the_bot_to_the_user(
    three_conversations, channel
):
    await post_notify({"text": "Hello", "to": {"conversationIds": ["conv-a"]}})

    [sent] = channel.received
    assert sent.activity["type"] == "message"
    assert sent.activity["from"]["id"] == BOT_ID
    assert sent.activity["recipient"]["id"] == "user-a"
    assert sent.activity["conversation"]["id"] == "conv-a"
    assert sent.activity["channelId"] == "msteams"
    assert sent.activity["serviceUrl"] == channel.url
    assert sent.reply_to_id == sent.activity["replyToId"]
    assert "Authorization" not in sent.headers  # Emulator mode: no app id, no token


@pytest.mark.parametrize(
    "message",
    [{"text": "Same text"}, {"text": "With a card", "attachments": [HERO_CARD]}],
    ids=["text", "attachments"],
)
async def test_a_proactive_message_is_the_same_request_continue_conversation_sends(
    three_conversations, app, channel, message
):
    stored = await app.store.get("msteams", "conv-a")
    sdk = CloudAdapterBase(
        BotFrameworkAuthenticationFactory.create(
            credential_factory=PasswordServiceClientCredentialFactory("", "")
        )
    )
    attachments = [Attachment().deserialize(a) for a in message.get("attachments", [])]

    async def send(turn_context):
        await turn_context.send_activity(
            Activity(type="message", text=message["text"], attachments=attachments or None)
        )

    await asyncio.to_thread(asyncio.run, sdk.continue_conversation(stored.reference, send, ""))
    await post_notify({**message, "to": {"conversationIds": ["conv-a"]}})

    stock, ours = channel.received
    assert stock.raw_path.rsplit("/", 1)[0] == ours.raw_path.rsplit("/", 1)[0]
    without_reply_id = [
        {k: v for k, v in r.activity.items() if k != "replyToId"} for r in (stock, ours)
    ]
    assert without_reply_id[0] == without_reply_id[1]
    assert stock.activity["replyToId"]
    assert ours.activity["replyToId"]
    assert ours.raw_path.endswith("/" + ours.activity["replyToId"])


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ({"conversationIds": ["conv-b"]}, ["conv-b"]),
        ({"userIds": ["user-a", "user-c"]}, ["conv-a", "conv-c"]),
        ({"channelIds": ["webchat"]}, ["conv-c"]),
        ({"tenantIds": ["tenant-1", "tenant-2"]}, ["conv-a", "conv-b"]),
        ({"channelIds": ["msteams"], "userIds": ["user-b", "user-c"]}, ["conv-b"]),
        ({"conversationIds": ["conv-a"], "tenantIds": ["tenant-2"]}, []),
        ({"userIds": []}, []),
        ({"conversationIds": ["no-such-conversation"]}, []),
    ],
)
async def test_to_filters_select_exactly_the_matching_conversations(
    three_conversations, channel, to, expected
):
    response = await post_notify({"text": "Filtered", "to": to})

    assert response.status == 200
    assert response.body["matched"] == len(expected)
    assert sorted(r.conversation_id for r in channel.received) == expected


async def test_filters_longer_than_a_table_query_allows_still_select_exactly(
    three_conversations, channel
):
    many_users = [f"user-{n}" for n in range(40)] + ["user-b"]

    response = await post_notify({"text": "Many", "to": {"userIds": many_users}})

    assert response.body["matched"] == 1
    assert [r.conversation_id for r in channel.received] == ["conv-b"]


async def test_attachments_are_delivered_with_the_text(three_conversations, channel):
    await post_notify(
        {"text": "See card", "attachments": [HERO_CARD], "to": {"conversationIds": ["conv-a"]}}
    )

    [sent] = channel.received
    assert sent.activity["attachments"] == [HERO_CARD]
    assert sent.activity["text"] == "See card"


async def test_an_urgent_message_raises_a_teams_feed_notification(three_conversations, channel):
    await post_notify({"text": "Server down", "importance": "urgent"})
    await post_notify({"text": "Server back", "importance": "normal"})

    urgent = {
        r.conversation_id: r.activity for r in channel.received if "down" in r.activity["text"]
    }
    assert urgent["conv-a"]["channelData"] == {"notification": {"alert": True}}
    assert urgent["conv-b"]["channelData"] == {"notification": {"alert": True}}
    assert "channelData" not in urgent["conv-c"]  # webchat: Teams' field means nothing there
    normal = [r.activity for r in channel.received if "back" in r.activity["text"]]
    assert len(normal) == 3
    assert all("channelData" not in a for a in normal)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (403, "BotNotInConversationRoster"),
        (403, "ConversationBlockedByUser"),
    ],
)
async def test_a_channel_answer_meaning_gone_deletes_the_reference_and_reports_it(
    three_conversations, app, channel, status, code
):
    channel.answer("conv-b", status, code, "gone")

    response = await post_notify({"text": "Still there?"})

    assert response.body["matched"] == 3
    assert (response.body["sent"], response.body["failed"], response.body["removed"]) == (2, 0, 1)
    assert response.body["failures"] == [
        {
            "conversationId": "conv-b",
            "status": status,
            "error": code,
            "removed": True,
            "suspended": False,
        }
    ]
    assert await app.store.get("msteams", "conv-b") is None
    assert await app.store.get("msteams", "conv-a") is not None


async def test_other_channel_errors_count_as_failed_and_keep_the_reference(
    three_conversations, app, channel
):
    channel.answer("conv-a", 500, "InternalServerError", "boom")

    response = await post_notify({"text": "Try"})

    assert (response.body["sent"], response.body["failed"], response.body["removed"]) == (2, 1, 0)
    [failure] = response.body["failures"]
    assert failure["conversationId"] == "conv-a"
    assert failure["status"] == 500
    assert "InternalServerError" in failure["error"]
    assert await app.store.get("msteams", "conv-a") is not None


async def test_a_stored_reference_whose_service_url_is_not_allowed_is_never_sent_to(app, channel):
    inbound = Activity().deserialize(activity("https://attacker.invalid/", "planted"))
    planted = StoredReference.from_activity(inbound, seen_at=datetime.now(timezone.utc))
    await app.store.save(planted)

    response = await post_notify({"text": "x"})

    assert response.body["failed"] == 1
    assert response.body["failures"][0]["conversationId"] == "planted"
    assert channel.received == []
    assert len(await stored_references(app)) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "text"),
        ({"text": "   "}, "text"),
        ({"text": 42}, "text"),
        ({"attachments": []}, "text"),
        ({"attachments": "card"}, "attachments"),
        ({"attachments": [1]}, "attachments[0]"),
        ({"attachments": [{"content": {}}]}, "attachments[0].contentType"),
        ({"attachments": [HERO_CARD] * 11}, "attachments"),
        ({"text": "x", "to": []}, "to"),
        ({"text": "x", "to": {}}, "to"),
        ({"text": "x", "to": {"userIds": "user-a"}}, "to.userIds"),
        ({"text": "x", "to": {"conversationIds": [1]}}, "to.conversationIds"),
        ({"text": "x", "to": {"tenantIds": [""]}}, "to.tenantIds"),
        ({"text": "x", "to": {"channelIds": None}}, "to.channelIds"),
        ({"text": "x", "to": {"users": ["a"]}}, "to.users"),
        ({"text": "x", "To": {"userIds": ["a"]}}, "To"),
        ({"text": "x", "importance": "high"}, "importance"),
        ({"text": "x", "importance": ["urgent"]}, "importance"),
    ],
)
async def test_an_invalid_notify_body_is_a_400_naming_the_field(
    three_conversations, channel, body, field
):
    response = await post_notify(body)

    assert response.status == 400
    assert response.body["detail"] == {"field": field}
    assert channel.received == []


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b"nope"])
async def test_a_notify_body_that_is_not_a_json_object_is_a_400(app, raw):
    response = await post_notify(raw)

    assert response.status == 400
    assert "error" in response.body
