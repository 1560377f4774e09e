"""Who read a notification, and how people reacted to it: Teams' read receipts and
messageReaction activities, as the Teams docs show them, matched to the messages notifications
sent, recorded on each target once, and added up in the status and the export."""

from __future__ import annotations

import csv
import io
import itertools

from shared.chat.engagement_events import READ_RECEIPT
from testbed.activities import activity, bot_added
from tests.support.functions import all_targets, get_status, get_targets, post_activity, post_notify
from tests.support.work_queue import queued_messages, run_queued_work

TENANT = "tenant-1"


async def stored_chats(channel, *conversation_ids: str) -> None:
    for conversation_id in conversation_ids:
        assert (await post_activity(bot_added(channel.url, conversation_id))).status == 200


async def notify(channel, text: str, *conversation_ids: str) -> tuple[str, dict[str, str]]:
    """Sent inline: the notification's id, and the id of the message each conversation got."""
    before = len(channel.received)
    answer = await post_notify({"text": text, "to": {"conversationIds": list(conversation_ids)}})
    assert answer.status == 200, answer.body
    sent = {r.conversation_id: r.activity_id for r in channel.received[before:]}
    return answer.body["id"], sent


def read_receipt(channel, conversation_id: str, last_read: str, user: str = "29:user-1") -> dict:
    """Teams' read receipt in a personal chat (RSC ChatMessageReadReceipt.Read.Chat)."""
    return activity(
        channel.url,
        conversation_id,
        type="event",
        name=READ_RECEIPT,
        value={"lastReadMessageId": last_read},
        user_id=user,
    )


_seconds = itertools.count(10)


def reaction(channel, conversation_id: str, message_id: str, user: str, **change) -> dict:
    """Teams' messageReaction: reactionsAdded / reactionsRemoved on the message replyToId, each
    stamped a second after the last."""
    return activity(
        channel.url,
        conversation_id,
        type="messageReaction",
        replyToId=message_id,
        user_id=user,
        conversation_type="groupChat",
        timestamp=f"2026-12-07T09:00:{next(_seconds) % 60:02d}.000Z",
        **{k: [{"type": t} for t in v] for k, v in change.items()},
    )


async def told(app, *activities: dict) -> None:
    for body in activities:
        assert (await post_activity(body)).status == 200
    await run_queued_work(app)


async def engagement(notification_id: str) -> dict:
    status = await get_status(notification_id)
    assert status.status == 200
    return status.body["engagement"]


async def test_a_read_receipt_marks_each_message_up_to_it_read_once(app, channel):
    await stored_chats(channel, "a:ada", "a:bob")
    first, sent_first = await notify(channel, "Townhall at 3", "a:ada", "a:bob")
    second, sent_second = await notify(channel, "Moved to 4", "a:ada")

    await told(app, read_receipt(channel, "a:ada", sent_first["a:ada"]))
    after_first_receipt = (await engagement(first), await engagement(second))
    # Read further, then the same receipt again (Teams sends one per read, not once).
    later = read_receipt(channel, "a:ada", sent_second["a:ada"])
    await told(app, later, later)

    assert after_first_receipt[0]["read"] == 1
    assert after_first_receipt[1]["read"] == 0  # sent after the message read up to
    assert (await engagement(first))["read"] == 1  # not twice
    assert (await engagement(second))["read"] == 1
    rows = {r["conversationId"]: r for r in await all_targets(first)}
    assert rows["a:ada"]["readAt"] is not None
    assert rows["a:bob"]["readAt"] is None


async def test_reactions_added_and_removed_are_counted_by_type(app, channel):
    chat = "19:team-chat@thread.v2"
    await stored_chats(channel, chat)
    notification_id, sent = await notify(channel, "Lunch is here", chat)
    message = sent[chat]

    ada_adds = reaction(channel, chat, message, "29:ada", reactionsAdded=["like", "heart"])
    bob_adds = reaction(channel, chat, message, "29:bob", reactionsAdded=["like"])
    ada_removes = reaction(channel, chat, message, "29:ada", reactionsRemoved=["heart"])
    await told(app, bob_adds, bob_adds)  # told twice
    # The queue keeps no order: Ada's removal may be recorded before the addition it undoes.
    await told(app, ada_removes)
    await told(app, ada_adds)

    assert (await engagement(notification_id))["reactions"] == {"like": 2}
    [row] = await all_targets(notification_id)
    assert row["reactions"] == {"like": 2}


async def test_the_export_lists_read_and_reactions_per_target(app, channel):
    await stored_chats(channel, "a:ada")
    notification_id, sent = await notify(channel, "Badge photos today", "a:ada")
    await told(
        app,
        read_receipt(channel, "a:ada", sent["a:ada"]),
        reaction(channel, "a:ada", sent["a:ada"], "29:user-1", reactionsAdded=["laugh"]),
    )

    exported = await get_targets(notification_id, accept="text/csv")
    [row] = list(csv.DictReader(io.StringIO(exported.body)))

    assert row["readAt"]
    assert row["reactions"] == '{"laugh": 1}'


async def test_receipts_and_reactions_no_notification_sent_change_nothing(app, channel):
    await stored_chats(channel, "a:ada", "a:quiet")
    notification_id, sent = await notify(channel, "Only for Ada", "a:ada")

    for body in (
        read_receipt(channel, "a:quiet", str(int(sent["a:ada"]) + 1000)),
        reaction(channel, "a:quiet", sent["a:ada"], "29:x", reactionsAdded=["like"]),
        reaction(channel, "a:ada", "1", "29:x", reactionsAdded=["like"]),  # not our message
    ):
        assert (await post_activity(body)).status == 200

    assert await queued_messages(app) == 0
    assert await engagement(notification_id) == {
        "answered": 0,
        "read": 0,
        "reactions": {},
        "actions": 0,
    }


def execute(channel, conversation_id: str, message_id: str, verb: str, data: dict) -> dict:
    """Teams' adaptiveCard/action invoke for an Action.Execute on the card `replyToId` holds."""
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"}
    return activity(
        channel.url,
        conversation_id,
        type="invoke",
        name="adaptiveCard/action",
        value=value,
        replyToId=message_id,
    )


async def test_a_click_with_the_caller_s_own_verb_is_recorded_and_the_card_kept(app, channel):
    await stored_chats(channel, "a:ada")
    notification_id, sent = await notify(channel, "Expense #42: approve?", "a:ada")

    clicked = await post_activity(execute(channel, "a:ada", sent["a:ada"], "approve", {"id": 42}))
    await run_queued_work(app)

    assert clicked.status == 200
    assert clicked.body["type"] == "application/vnd.microsoft.activity.message"
    assert (await engagement(notification_id))["actions"] == 1
    [row] = await all_targets(notification_id)
    [action] = row["actions"]
    assert (action["verb"], action["data"], action["userId"]) == (
        "approve",
        {"id": 42},
        "aad-29:user-1",
    )


async def test_an_action_submit_on_a_notification_s_card_is_recorded_without_a_reply(app, channel):
    await stored_chats(channel, "a:ada")
    notification_id, sent = await notify(channel, "Rate the offsite", "a:ada")
    submit = activity(
        channel.url, "a:ada", text=None, value={"rating": "5"}, replyToId=sent["a:ada"]
    )
    before = len(channel.received)

    assert (await post_activity(submit)).status == 200
    await run_queued_work(app)

    assert len(channel.received) == before  # the caller's card: the bot says nothing
    [row] = await all_targets(notification_id)
    assert [a["data"] for a in row["actions"]] == [{"rating": "5"}]


async def test_a_foreign_verb_on_a_card_no_notification_sent_is_still_refused(app, channel):
    await stored_chats(channel, "a:ada")

    clicked = await post_activity(execute(channel, "a:ada", "1700000000000", "approve", {}))

    assert clicked.status == 400
    assert clicked.body["value"]["code"] == "NotSupported"
