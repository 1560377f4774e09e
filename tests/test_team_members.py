"""A notification to `to.teamMembersOf`: every member of a team the bot is installed in gets it one
to one, whether or not they ever talked to the bot. The roster is read a page at a time on the
queue, each member's 1:1 conversation is opened once and stored, and every named target ends with
exactly one outcome."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from shared.app import App, get_app
from shared.sending.work_items import RosterItem
from testbed.activities import BOT_ID, activity
from tests.support.functions import all_targets, get_status, post_activity, post_notify, run_timer
from tests.support.teams import TEAM, TENANT, install_in_team
from tests.support.work_queue import run_queued_work

OTHER_TEAM = "19:team4567@thread.tacv2"


def member(n: int) -> dict:
    """A team member as pagedmembers lists one."""
    return {
        "id": f"29:user-{n}",
        "name": f"User {n}",
        "aadObjectId": f"00000000-0000-0000-0000-{n:012d}",
        "email": f"user{n}@contoso.com",
        "userPrincipalName": f"user{n}@contoso.com",
        "tenantId": TENANT,
        "userRole": "user",
    }


@pytest.fixture
async def team_app(app_with) -> App:
    """No per-tenant rate limit, so large rosters are quick (the limits are tested below)."""
    return await app_with(NOTIFY_MAX_RPS_PER_TENANT=0)


async def notify_members(*team_ids: str, text: str = "Town hall at 15:00") -> str:
    response = await post_notify({"text": text, "to": {"teamMembersOf": list(team_ids)}})
    assert response.status == 202, response.body
    return response.body["id"]


def opened(channel) -> list[str]:
    """The users a 1:1 conversation was asked for."""
    return [c.body["members"][0]["id"] for c in channel.created if not c.body.get("isGroup")]


def sent_to_users(channel) -> Counter:
    return Counter(r.activity["recipient"]["id"] for r in channel.received if r.method == "POST")


async def test_a_1200_member_team_is_reached_one_to_one_in_three_roster_pages(team_app, channel):
    await install_in_team(team_app, channel)
    roster = [member(n) for n in range(1200)]
    channel.set_roster(TEAM, roster)

    notification_id = await notify_members(TEAM)
    await run_queued_work(team_app, timeout=120)

    users = [m["id"] for m in roster]
    assert sorted(opened(channel)) == sorted(users)  # each 1:1 opened once
    assert sent_to_users(channel) == Counter(users)  # each member messaged once
    record = await team_app.notifications.get(notification_id)
    assert record.pages_expanded == 3  # 500 + 500 + 200
    status = (await get_status(notification_id)).body
    assert status["state"] == "done"
    assert status["counts"] == {
        "matched": 1200, "sent": 1200, "failed": 0, "removed": 0, "suspended": 0,
        "skipped": 0, "cancelled": 0, "pending": 0,
    }  # fmt: skip


async def test_each_opened_conversation_is_stored_as_an_sdk_reference_and_sent_in(
    team_app, channel
):
    await install_in_team(team_app, channel)
    channel.set_roster(TEAM, [member(1)])

    await notify_members(TEAM)
    await run_queued_work(team_app)

    [created] = [c for c in channel.created if not c.body.get("isGroup")]
    assert created.body == {
        "isGroup": False,
        "bot": {"id": BOT_ID, "name": "Proactive Bot"},
        "members": [{"id": "29:user-1"}],
        "tenantId": TENANT,
        "channelData": {"tenant": {"id": TENANT}},
    }
    stored = await team_app.store.get("msteams", created.conversation_id)
    assert stored.reference_json == {
        "user": {"id": "29:user-1", "name": "User 1", "aadObjectId": member(1)["aadObjectId"]},
        "bot": {"id": BOT_ID, "name": "Proactive Bot"},
        "conversation": {
            "conversationType": "personal",
            "id": created.conversation_id,
            "tenantID": TENANT,  # the SDK's own spelling of ConversationAccount.tenant_id
        },
        "channelId": "msteams",
        "serviceUrl": channel.url,
    }
    assert (stored.user_id, stored.tenant_id, stored.conversation_type) == (
        "29:user-1",
        TENANT,
        "personal",
    )
    [sent] = [r for r in channel.received if r.method == "POST"]
    assert sent.conversation_id == created.conversation_id


async def test_the_next_notification_reuses_the_stored_conversations(team_app, channel):
    await install_in_team(team_app, channel)
    roster = [member(n) for n in range(30)]
    channel.set_roster(TEAM, roster)
    await notify_members(TEAM, text="first")
    await run_queued_work(team_app)
    assert len(opened(channel)) == 30
    channel.reset()
    channel.set_roster(TEAM, roster)

    second = await notify_members(TEAM, text="second")
    await run_queued_work(team_app)

    assert opened(channel) == []
    assert sent_to_users(channel) == Counter(m["id"] for m in roster)
    assert (await get_status(second)).body["counts"]["sent"] == 30


async def test_a_team_the_bot_has_no_conversation_in_is_one_failed_target(team_app, channel):
    notification_id = await notify_members("19:unknown@thread.tacv2")
    await run_queued_work(team_app)

    [target] = await all_targets(notification_id)
    assert (target["conversationId"], target["outcome"]) == ("19:unknown@thread.tacv2", "failed")
    assert target["error"].startswith("TeamNotFound:")
    status = (await get_status(notification_id)).body
    assert (status["state"], status["counts"]["matched"], status["counts"]["failed"]) == (
        "done",
        1,
        1,
    )


async def test_a_member_who_blocked_the_bot_is_one_failed_target_named_by_user_id(
    team_app, channel
):
    await install_in_team(team_app, channel)
    channel.set_roster(TEAM, [member(n) for n in range(5)])
    channel.answer("29:user-3", 403, "ConversationBlockedByUser", "User blocked the bot.")

    notification_id = await notify_members(TEAM)
    await run_queued_work(team_app)

    failed = await all_targets(notification_id, outcome="failed")
    assert [(t["conversationId"], t["status"]) for t in failed] == [("29:user-3", 403)]
    assert "ConversationBlockedByUser" in failed[0]["error"]
    assert "29:user-3" not in sent_to_users(channel)
    counts = (await get_status(notification_id)).body["counts"]
    assert (counts["matched"], counts["sent"], counts["failed"], counts["pending"]) == (5, 4, 1, 0)


async def test_a_busy_channel_is_retried_when_opening_a_chat(team_app, channel):
    await install_in_team(team_app, channel)
    channel.set_roster(TEAM, [member(1)])
    channel.answer("29:user-1", 429, "TooManyRequests", times=1, headers={"Retry-After": "0"})

    notification_id = await notify_members(TEAM)
    await run_queued_work(team_app)

    assert opened(channel) == ["29:user-1", "29:user-1"]
    assert (await get_status(notification_id)).body["counts"]["sent"] == 1


async def test_a_member_of_two_named_teams_is_reached_once(team_app, channel):
    await install_in_team(team_app, channel, TEAM)
    await install_in_team(team_app, channel, OTHER_TEAM)
    channel.set_roster(TEAM, [member(n) for n in range(0, 6)])
    channel.set_roster(OTHER_TEAM, [member(n) for n in range(4, 10)])

    notification_id = await notify_members(TEAM, OTHER_TEAM)
    await run_queued_work(team_app)

    assert sent_to_users(channel) == Counter(f"29:user-{n}" for n in range(10))
    status = (await get_status(notification_id)).body
    assert (status["state"], status["counts"]["matched"], status["counts"]["sent"]) == (
        "done",
        10,
        10,
    )


async def test_a_member_who_said_stop_is_not_written_to_again(team_app, channel):
    await install_in_team(team_app, channel)
    channel.set_roster(TEAM, [member(1), member(2)])
    await notify_members(TEAM, text="first")
    await run_queued_work(team_app)
    conversation = channel.created[0].conversation_id
    stop = activity(channel.url, conversation, text="stop", user_id="29:user-1", tenant_id=TENANT)
    assert (await post_activity(stop)).status == 200
    channel.reset()
    channel.set_roster(TEAM, [member(1), member(2)])

    second = await notify_members(TEAM, text="second")
    await run_queued_work(team_app)

    assert sent_to_users(channel) == Counter(["29:user-2"])
    skipped = await all_targets(second, outcome="skipped")
    assert [t["conversationId"] for t in skipped] == [conversation]


async def test_a_team_audience_is_queued_even_when_small(team_app, channel):
    await install_in_team(team_app, channel)
    channel.set_roster(TEAM, [member(1)])

    response = await post_notify({"text": "hi", "to": {"teamMembersOf": [TEAM]}})

    assert response.status == 202
    assert channel.received == []


@pytest.mark.parametrize(
    ("to", "field"),
    [
        ({"teamMembersOf": []}, "to.teamMembersOf"),
        ({"teamMembersOf": "19:team"}, "to.teamMembersOf"),
        ({"teamMembersOf": ["19:team", ""]}, "to.teamMembersOf"),
        ({"teamMembersOf": [f"19:t{n}" for n in range(101)]}, "to.teamMembersOf"),
        ({"teamMembersOf": ["19:team"], "userIds": ["29:x"]}, "to.userIds"),
        ({"teamMembersOf": ["19:team"], "tenantIds": ["t"]}, "to.tenantIds"),
    ],
)
async def test_a_bad_team_audience_is_a_400_naming_the_field(team_app, channel, to, field):
    response = await post_notify({"text": "x", "to": to})

    assert response.status == 400
    assert response.body["detail"] == {"field": field}


async def test_a_roster_page_run_again_opens_nothing_twice_and_sends_nothing_twice(
    team_app, channel
):
    await install_in_team(team_app, channel)
    channel.set_roster(TEAM, [member(n) for n in range(600)])
    notification_id = await notify_members(TEAM)
    await run_queued_work(team_app)
    first_sends = sent_to_users(channel)
    channel.reset()
    channel.set_roster(TEAM, [member(n) for n in range(600)])

    # As the host redelivers an item whose run died after it had done its work.
    again = RosterItem(notification_id, team=0, page=0).to_json()
    await team_app.work.handle(json.dumps(again).encode(), dequeue_count=2)
    await run_queued_work(team_app)

    assert opened(channel) == []
    assert sent_to_users(channel) == Counter()
    assert len(first_sends) == 600
    counts = (await get_status(notification_id)).body["counts"]
    assert (counts["matched"], counts["sent"], counts["pending"]) == (600, 600, 0)


async def test_opening_chats_and_sending_share_the_tenants_rate_limit(app_with, channel):
    app = await app_with(NOTIFY_MAX_RPS_PER_TENANT=10)
    await install_in_team(app, channel)
    channel.set_roster(TEAM, [member(n) for n in range(25)])

    await notify_members(TEAM)
    await run_queued_work(app)

    arrivals = sorted(
        [c.at for c in channel.created] + [r.at for r in channel.received if r.method == "POST"]
    )
    assert len(arrivals) == 50
    most = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
    assert most <= 10


async def test_user_ids_may_name_a_team_member_who_never_talked_to_the_bot(team_app, channel):
    await install_in_team(team_app, channel)
    channel.set_roster(TEAM, [member(n) for n in range(5)])

    response = await post_notify({"text": "Your badge is ready", "to": {"userIds": ["29:user-3"]}})

    assert response.status == 200, response.body
    assert (response.body["matched"], response.body["sent"]) == (1, 1)
    assert opened(channel) == ["29:user-3"]
    assert sent_to_users(channel) == Counter(["29:user-3"])


async def test_user_ids_may_name_a_team_member_by_aad_object_id(team_app, channel):
    await install_in_team(team_app, channel)
    channel.set_roster(TEAM, [member(n) for n in range(5)])
    aad = member(2)["aadObjectId"]

    first = await post_notify({"text": "one", "to": {"userIds": [aad]}})
    channel.reset()
    again = await post_notify({"text": "two", "to": {"userIds": [aad]}})

    assert (first.body["sent"], again.body["sent"]) == (1, 1)
    assert opened(channel) == []  # known from the first time: no lookup, no open
    assert sent_to_users(channel) == Counter(["29:user-2"])


async def test_user_ids_no_stored_team_has_match_nothing_new(team_app, channel):
    await install_in_team(team_app, channel)
    channel.set_roster(TEAM, [member(1)])

    response = await post_notify({"text": "x", "to": {"userIds": ["29:stranger"]}})

    assert (response.status, response.body["matched"]) == (200, 0)
    assert channel.created == []


async def test_a_roster_page_the_host_gave_up_on_fails_the_notification_saying_so(
    team_app, channel
):
    await install_in_team(team_app, channel)
    notification_id = await notify_members(TEAM)

    poisoned = RosterItem(notification_id, team=0, page=1, continuation="token").to_json()
    await team_app.work.handle_poisoned(json.dumps(poisoned).encode())

    status = (await get_status(notification_id)).body
    assert status["state"] == "failed"
    assert "roster page 2" in status["error"]


async def test_a_scheduled_team_notification_reaches_the_members_when_due(clock, channel):
    await install_in_team(get_app(), channel)
    channel.set_roster(TEAM, [member(n) for n in range(3)])
    response = await post_notify(
        {"text": "Later", "sendAt": "2026-11-23T09:30:00Z", "to": {"teamMembersOf": [TEAM]}}
    )
    assert response.body["state"] == "scheduled"
    clock.advance(minutes=30)

    await run_timer()
    await run_queued_work(get_app())

    assert sent_to_users(channel) == Counter(f"29:user-{n}" for n in range(3))
    assert (await get_status(response.body["id"])).body["state"] == "done"


async def test_a_member_who_talked_to_the_bot_first_and_said_stop_is_not_opened_again(
    team_app, channel
):
    await install_in_team(team_app, channel)
    own_chat = "a:started-by-user-1"
    aad_id = member(1)["aadObjectId"]
    hello = activity(channel.url, own_chat, text="hi", user_id="29:user-1", tenant_id=TENANT)
    hello["from"]["aadObjectId"] = aad_id
    assert (await post_activity(hello)).status == 200
    stop = activity(channel.url, own_chat, text="stop", user_id="29:user-1", tenant_id=TENANT)
    assert (await post_activity(stop)).status == 200
    channel.reset()
    channel.set_roster(TEAM, [member(1), member(2)])

    notification_id = await notify_members(TEAM)
    await run_queued_work(team_app)

    assert opened(channel) == ["29:user-2"]  # the user's own chat is known: not opened again
    assert sent_to_users(channel) == Counter(["29:user-2"])
    [skipped] = await all_targets(notification_id, outcome="skipped")
    assert skipped["conversationId"] == own_chat
