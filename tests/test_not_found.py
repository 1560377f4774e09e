"""A 404 "conversation not found" never drops a person who can still be reached.

Teams answers it now and then for chats that still exist. A 1:1 that answers it is opened again
(`POST /v3/conversations`, as for a team member) and sent to there, once; only a refusal of that
re-open (blocked, uninstalled) removes the person. A group chat or channel is kept and counted,
and forgotten only after failing several sends in a row over days.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from botbuilder.schema import Activity

from shared.app import App, get_app
from shared.storage.personal_chats import PersonalChatIndex
from shared.storage.references import StoredReference
from testbed.activities import activity
from testbed.channel_stub import personal_conversation_id
from tests.support.functions import all_targets, post_notify
from tests.support.references import store_conversations, stored_references
from tests.support.work_queue import run_queued_work

TENANT = "tenant-1"
ADA = "29:user-1"  # every stored test conversation's user


async def stored_ids(app: App) -> set[str]:
    return {s.conversation_id for s in await stored_references(app)}


async def store_group_chat(app: App, service_url: str, conversation_id: str) -> None:
    inbound = activity(service_url, conversation_id, conversation_type="groupChat")
    stored = StoredReference.from_activity(
        Activity().deserialize(inbound), datetime.now(timezone.utc)
    )
    await app.store.save(stored)


async def test_a_1to1_not_found_is_opened_again_and_sent_to_where_teams_now_has_it(app, channel):
    await store_conversations(app, channel.url, ["c-1", "c-2"])
    channel.answer("c-1", 404, "ConversationNotFound", "Conversation not found.")

    body = (await post_notify({"text": "the build is green"})).body

    reopened = personal_conversation_id(TENANT, ADA)
    assert (body["sent"], body.get("reopened"), body["failures"]) == (2, 1, [])
    [opened] = channel.created
    assert opened.body["members"] == [{"id": ADA}]
    assert opened.conversation_id == reopened
    [message] = channel.received_by(reopened)
    assert message.activity["text"] == "the build is green"
    assert await stored_ids(app) == {reopened, "c-2"}  # the new chat replaces the one not found
    [moved] = [s for s in await stored_references(app) if s.conversation_id == reopened]
    assert moved.reference.user.id == ADA
    assert moved.reference.conversation.id == reopened
    chats = PersonalChatIndex(app.tables[3])
    assert await chats.find(TENANT, [ADA, "aad-" + ADA]) == {ADA: reopened, "aad-" + ADA: reopened}


async def test_a_1to1_that_teams_gives_back_unchanged_is_sent_to_once_more(app, channel):
    same = personal_conversation_id(TENANT, ADA)
    await store_conversations(app, channel.url, [same])
    channel.answer(same, 404, "ConversationNotFound", times=1)

    body = (await post_notify({"text": "hello again"})).body

    assert (body["sent"], body.get("reopened")) == (1, 1)
    assert [r.status for r in channel.received_by(same)] == [404, 200]
    assert await stored_ids(app) == {same}


async def test_a_bare_404_for_a_1to1_heals_the_same_way(app, channel):
    await store_conversations(app, channel.url, ["c-1"])
    channel.answer("c-1", 404)

    body = (await post_notify({"text": "hello"})).body

    assert (body["sent"], body.get("reopened")) == (1, 1)


async def test_a_person_who_blocked_the_bot_is_removed_when_the_1to1_is_opened_again(app, channel):
    await store_conversations(app, channel.url, ["c-1", "c-2"])
    channel.answer("c-1", 404, "ConversationNotFound")
    channel.answer(ADA, 403, "ConversationBlockedByUser", "blocked")  # the re-open, by user

    body = (await post_notify({"text": "hello"})).body

    assert (body["sent"], body["removed"]) == (1, 1)
    [failure] = body["failures"]
    assert failure["conversationId"] == "c-1"
    assert failure["error"] == "ConversationBlockedByUser"
    assert await stored_ids(app) == {"c-2"}


async def test_a_1to1_that_cannot_be_opened_again_for_now_fails_and_is_kept(app, channel):
    await store_conversations(app, channel.url, ["c-1"])
    channel.answer("c-1", 404, "ConversationNotFound")
    channel.answer(ADA, 400, "BadArgument", "try later")

    body = (await post_notify({"text": "hello"})).body

    [failure] = body["failures"]
    assert (body["failed"], failure["error"].split(":")[0]) == (1, "BadArgument")
    assert await stored_ids(app) == {"c-1"}


async def test_the_queued_export_says_which_targets_were_reached_by_opening_the_1to1_again(
    app_with, channel
):
    app = await app_with(NOTIFY_INLINE_MAX_TARGETS="0")
    await store_conversations(app, channel.url, ["c-1", "c-2"])
    channel.answer("c-1", 404, "ConversationNotFound")

    accepted = await post_notify({"text": "hello"})
    await run_queued_work(app)

    rows = {t["conversationId"]: t for t in await all_targets(accepted.body["id"])}
    assert (rows["c-1"]["outcome"], rows["c-1"]["reopened"]) == ("sent", True)
    assert (rows["c-2"]["outcome"], rows["c-2"]["reopened"]) == ("sent", False)


@pytest.mark.parametrize(
    ("days", "answers"),
    [
        # The third failure in a row comes within the week: kept until one comes after it.
        ((0, 1, 3, 8), [(1, 0), (1, 0), (1, 0), (0, 1)]),
        # A week has passed at the second failure, but it is only the second.
        ((0, 10, 11), [(1, 0), (1, 0), (0, 1)]),
    ],
)
async def test_a_group_chat_not_found_is_forgotten_after_three_failures_spanning_a_week(
    clock, channel, days, answers
):
    app = get_app()
    await store_group_chat(app, channel.url, "19:group@thread.v2")
    channel.answer("19:group@thread.v2", 404, "ConversationNotFound")

    seen, day = [], 0
    for later in days:
        clock.advance(days=later - day)
        day = later
        body = (await post_notify({"text": "standup"})).body
        seen.append((body["failed"], body.get("removed", 0)))

    assert seen == answers
    assert channel.created == []  # nothing is opened for a shared conversation
    assert await stored_ids(app) == set()


async def test_a_group_chat_that_takes_a_message_again_starts_its_count_over(clock, channel):
    app = get_app()
    await store_group_chat(app, channel.url, "19:group@thread.v2")

    channel.answer("19:group@thread.v2", 404, "ConversationNotFound", times=2)
    for _ in range(2):
        await post_notify({"text": "standup"})
        clock.advance(days=5)
    assert (await post_notify({"text": "standup"})).body["sent"] == 1
    [kept] = await stored_references(app)
    assert kept.unreachable is None

    channel.answer("19:group@thread.v2", 404, "ConversationNotFound")
    clock.advance(days=30)
    body = (await post_notify({"text": "standup"})).body

    assert (body["failed"], body.get("removed", 0)) == (1, 0)  # one failure, not the fourth
    assert await stored_ids(app) == {"19:group@thread.v2"}
