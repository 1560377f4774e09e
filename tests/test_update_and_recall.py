"""PATCH /api/notify/{id} replaces what a notification sent, everywhere; DELETE recalls it. Both
go through the work queue, within the channel's limits, and report one outcome per target."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from shared.notifications.lifecycle import State
from shared.notifications.notification_store import Notification
from testbed.channel_stub import ACTIVITY_NOT_FOUND
from tests.support.chat import say
from tests.support.functions import (
    get_status,
    get_targets,
    patch_notification,
    post_notify,
    recall,
    run_timer,
)
from tests.support.references import store_conversations, stored_references
from tests.support.work_queue import run_queued_work

CONVERSATIONS = [f"a:conv-{n}" for n in range(3)]
TENANTS = [f"tenant-{n}" for n in range(5)]


@pytest.fixture
async def queued_app(app_with):
    """Inline up to 10 targets; no per-tenant rate limit, so the tests are quick."""
    return await app_with(NOTIFY_INLINE_MAX_TARGETS=10, NOTIFY_MAX_RPS_PER_TENANT=0)


async def sent_to_three(app, channel) -> str:
    await store_conversations(app, channel.url, CONVERSATIONS)
    response = await post_notify({"text": "Deploy 142 failed", "importance": "urgent"})
    assert (response.status, response.body["sent"]) == (200, 3)
    return response.body["id"]


def shown(channel, method: str = "POST") -> dict[str, dict | None]:
    """What each conversation now shows of the messages sent to it."""
    return {
        r.conversation_id: channel.current_activity(r.conversation_id, r.activity_id)
        for r in channel.received
        if r.method == method and r.status == 200
    }


async def test_an_update_replaces_the_sent_message_in_every_conversation(queued_app, channel):
    notification_id = await sent_to_three(queued_app, channel)

    response = await patch_notification(notification_id, {"text": "Deploy 142 is fine after all"})

    assert response.status == 202
    revision = response.body
    assert (revision["action"], revision["revises"]) == ("update", notification_id)
    assert response.headers["Location"] == f"/api/notify/{revision['id']}"
    await run_queued_work(queued_app)
    assert {c: a["text"] for c, a in shown(channel).items()} == dict.fromkeys(
        CONVERSATIONS, "Deploy 142 is fine after all"
    )
    updates = [r for r in channel.received if r.method == "PUT"]
    assert len(updates) == 3
    assert all(u.activity["id"] == u.activity_id for u in updates)
    status = (await get_status(revision["id"])).body
    assert (status["state"], status["counts"]["matched"], status["counts"]["sent"]) == (
        "done",
        3,
        3,
    )
    assert (await get_status(notification_id)).body["revisions"] == [revision["id"]]


async def test_an_update_keeps_what_it_does_not_name(queued_app, channel):
    await store_conversations(queued_app, channel.url, CONVERSATIONS[:1])
    card = {"contentType": "application/vnd.microsoft.card.hero", "content": {"title": "INC-7"}}
    sent = await post_notify({"text": "INC-7 open", "attachments": [card]})

    await patch_notification(sent.body["id"], {"text": "INC-7 resolved"})
    await run_queued_work(queued_app)

    [now] = shown(channel).values()
    assert now["text"] == "INC-7 resolved"
    assert now["attachments"] == [card]


async def test_a_recall_deletes_the_sent_message_everywhere(queued_app, channel):
    notification_id = await sent_to_three(queued_app, channel)

    response = await recall(notification_id)

    assert (response.status, response.body["action"]) == (202, "recall")
    await run_queued_work(queued_app)
    assert shown(channel) == dict.fromkeys(CONVERSATIONS)  # nothing shown any more
    assert len([r for r in channel.received if r.method == "DELETE"]) == 3
    status = (await get_status(response.body["id"])).body
    assert (status["state"], status["counts"]["sent"]) == ("done", 3)


async def test_a_message_already_deleted_counts_as_gone_and_its_conversation_stays(
    queued_app, channel
):
    notification_id = await sent_to_three(queued_app, channel)
    channel.answer(CONVERSATIONS[0], ACTIVITY_NOT_FOUND.status, ACTIVITY_NOT_FOUND.code)

    response = await recall(notification_id)
    await run_queued_work(queued_app)

    status = (await get_status(response.body["id"])).body
    assert (status["counts"]["sent"], status["counts"]["skipped"]) == (2, 1)
    assert status["counts"]["failed"] == 0
    [gone] = (await get_targets(response.body["id"], outcome="skipped")).body["targets"]
    assert (gone["conversationId"], gone["status"], gone["error"]) == (
        CONVERSATIONS[0],
        404,
        "ActivityNotFoundInConversation",
    )
    assert len(await stored_references(queued_app)) == 3  # the conversation is not gone


async def test_a_conversation_gone_meanwhile_is_removed_as_on_a_send(queued_app, channel):
    notification_id = await sent_to_three(queued_app, channel)
    channel.answer(CONVERSATIONS[1], 403, "BotNotInConversationRoster", "Bot is not in roster.")

    response = await patch_notification(notification_id, {"text": "fixed"})
    await run_queued_work(queued_app)

    status = (await get_status(response.body["id"])).body
    assert (status["counts"]["sent"], status["counts"]["removed"]) == (2, 1)
    assert sorted(r.conversation_id for r in await stored_references(queued_app)) == [
        CONVERSATIONS[0],
        CONVERSATIONS[2],
    ]


async def test_an_update_of_a_channel_post_goes_to_the_post_s_own_thread(queued_app, channel):
    channel_id = "19:general0123@thread.tacv2"
    await say(channel, "hi", conversation=channel_id, conversation_type="channel")
    channel.reset()
    sent = await post_notify({"text": "Maintenance at 17:00"})
    [post] = channel.received

    await patch_notification(sent.body["id"], {"text": "Maintenance at 18:00"})
    await run_queued_work(queued_app)

    [update] = [r for r in channel.received if r.method == "PUT"]
    assert update.conversation_id == f"{channel_id};messageid={post.activity_id}"
    assert channel.current_activity(channel_id, post.activity_id)["text"] == "Maintenance at 18:00"
    [target] = (await get_targets(sent.body["id"])).body["targets"]
    assert target["sentIn"] == update.conversation_id


async def test_a_thousand_targets_are_updated_and_recalled_through_the_queue_within_the_limits(
    app_with, channel
):
    app = await app_with(NOTIFY_INLINE_MAX_TARGETS=10)  # Teams' 50 per second per tenant
    for tenant in TENANTS:
        ids = [f"{tenant}-conv-{n:03d}" for n in range(200)]
        await store_conversations(app, channel.url, ids, tenant_id=tenant)
    sent = await post_notify({"text": "v1"})
    await run_queued_work(app, timeout=120)

    updated = await patch_notification(sent.body["id"], {"text": "v2"})
    await run_queued_work(app, timeout=120)
    recalled = await recall(sent.body["id"])
    await run_queued_work(app, timeout=120)

    for revision, method in ((updated, "PUT"), (recalled, "DELETE")):
        status = (await get_status(revision.body["id"])).body
        assert status["counts"]["matched"] == status["counts"]["sent"] == 1000
        changes = [r for r in channel.received if r.method == method]
        assert len({(r.conversation_id, r.activity_id) for r in changes}) == 1000
    # Sends, updates and deletes alike: at most 50 a second to any one tenant.
    assert channel.most_in_any_window(lambda r: r.conversation_id.split("-conv-")[0]) <= 50
    assert set(shown(channel).values()) == {None}


async def test_a_scheduled_notification_is_changed_before_it_is_sent(queued_app, channel, clock):
    await store_conversations(queued_app, channel.url, CONVERSATIONS[:1])
    send_at = clock() + timedelta(hours=1)
    scheduled = await post_notify({"text": "Stand-up at 10", "sendAt": send_at.isoformat()})

    response = await patch_notification(scheduled.body["id"], {"text": "Stand-up at 11"})

    assert (response.status, response.body["state"]) == (200, "scheduled")
    assert channel.received == []
    clock.advance(hours=1)
    await run_timer()
    await run_queued_work(queued_app)
    assert [r.activity["text"] for r in channel.received] == ["Stand-up at 11"]


async def test_recalling_a_scheduled_notification_cancels_it(queued_app, channel, clock):
    await store_conversations(queued_app, channel.url, CONVERSATIONS[:1])
    send_at = clock() + timedelta(hours=1)
    scheduled = await post_notify({"text": "Stand-up at 10", "sendAt": send_at.isoformat()})

    response = await recall(scheduled.body["id"])

    assert (response.status, response.body["state"]) == (200, "cancelled")
    clock.advance(hours=1)
    await run_timer()
    await run_queued_work(queued_app)
    assert channel.received == []


async def test_a_recall_while_sending_cancels_the_rest_and_deletes_what_went(app_with, channel):
    app = await app_with(NOTIFY_INLINE_MAX_TARGETS=10, NOTIFY_MAX_RPS_PER_TENANT=20)
    await store_conversations(app, channel.url, [f"a:conv-{n:03d}" for n in range(200)])
    sent = await post_notify({"text": "Wrong alert"})
    sending = asyncio.create_task(run_queued_work(app, timeout=120))
    await asyncio.to_thread(channel.wait_for, 20)

    response = await recall(sent.body["id"])
    await sending
    await run_queued_work(app, timeout=120)

    original = (await get_status(sent.body["id"])).body
    assert original["state"] == "cancelled"
    assert 0 < original["counts"]["sent"] < 200
    assert original["counts"]["sent"] + original["counts"]["cancelled"] == 200
    recalled = (await get_status(response.body["id"])).body
    assert recalled["counts"]["sent"] == original["counts"]["sent"]
    assert set(shown(channel).values()) == {None}  # every message that went is deleted


async def test_an_update_is_refused_while_the_notification_is_still_sending(app_with, channel):
    app = await app_with(NOTIFY_INLINE_MAX_TARGETS=10, NOTIFY_MAX_RPS_PER_TENANT=0)
    await store_conversations(app, channel.url, [f"a:conv-{n:03d}" for n in range(20)])
    sent = await post_notify({"text": "v1"})

    response = await patch_notification(sent.body["id"], {"text": "v2"})

    assert response.status == 409
    assert response.body["detail"] == {"state": "queued"}
    assert "recall" in response.body["error"]


async def test_one_revision_runs_at_a_time(queued_app, channel):
    notification_id = await sent_to_three(queued_app, channel)
    first = await patch_notification(notification_id, {"text": "v2"})

    second = await patch_notification(notification_id, {"text": "v3"})

    assert second.status == 409
    assert first.body["id"] in second.body["error"]
    await run_queued_work(queued_app)
    assert (await patch_notification(notification_id, {"text": "v3"})).status == 202


async def test_nothing_can_change_after_a_recall(queued_app, channel):
    notification_id = await sent_to_three(queued_app, channel)
    await recall(notification_id)
    await run_queued_work(queued_app)

    for response in (
        await patch_notification(notification_id, {"text": "v2"}),
        await recall(notification_id),
    ):
        assert response.status == 409
        assert "recalled" in response.body["error"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"to": {"conversationIds": ["a:x"]}}, "to"),
        ({"sendAt": "2030-01-01T00:00:00Z"}, "sendAt"),
        ({}, "text"),
        ({"text": None}, "text"),  # nothing left to show
        ({"attachments": "not a list"}, "attachments"),
    ],
)
async def test_a_bad_change_is_a_400_naming_the_field(queued_app, channel, change, field):
    notification_id = await sent_to_three(queued_app, channel)

    response = await patch_notification(notification_id, change)

    assert response.status == 400
    assert response.body["detail"]["field"] == field


async def test_a_body_that_is_not_json_is_a_400(queued_app, channel):
    notification_id = await sent_to_three(queued_app, channel)

    response = await patch_notification(notification_id, b"{not json")

    assert response.status == 400


async def test_unknown_notifications_and_revisions_themselves_cannot_be_changed(
    queued_app, channel
):
    notification_id = await sent_to_three(queued_app, channel)
    revision = await patch_notification(notification_id, {"text": "v2"})

    unknown = Notification.new_id()
    assert (await patch_notification(unknown, {"text": "x"})).status == 404
    assert (await recall(unknown)).status == 404
    assert (await recall("not-an-id")).status == 404
    refused = await recall(revision.body["id"])
    assert refused.status == 409
    assert "cannot itself be changed" in refused.body["error"]


async def test_a_signed_webhook_must_sign_its_change_too(app_with, channel):
    app = await app_with(NOTIFY_WEBHOOK_SECRET="s3cret", NOTIFY_INLINE_MAX_TARGETS=10)
    await store_conversations(app, channel.url, CONVERSATIONS[:1])
    notification = await app.notifications.add(
        Notification(
            id=Notification.new_id(),
            state=State.DONE,
            request={"text": "v1"},
            created_at=datetime.now(timezone.utc),
        )
    )

    response = await patch_notification(notification.id, {"text": "v2"})

    assert response.status == 401
    assert channel.received == []
