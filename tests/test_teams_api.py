"""The Teams calls beyond sending, through the app's connector against the loopback channel: a
team's roster page by page, 1:1 conversations with its members, posts to its channels, and
updating or recalling what the bot sent. Each answers as the Teams docs show, or raises
ChannelError as a send does."""

from __future__ import annotations

import jwt
import pytest

from shared.channel.connector import ChannelError
from shared.channel.error_codes import Verdict
from tests.support.credentials import APP_ID

TENANT = "tenant-1"
TEAM = "19:team0123@thread.tacv2"  # also the id of its General channel
DESIGN = "19:design4567@thread.tacv2"
BOT = {"id": "28:bot-app-id", "name": "Proactive Bot"}
USER = "29:user-7"


def member(n: int) -> dict:
    """A team member as pagedmembers lists one."""
    return {
        "id": f"29:user-{n}",
        "name": f"User {n}",
        "aadObjectId": f"00000000-0000-0000-0000-{n:012d}",
        "givenName": "User",
        "surname": str(n),
        "email": f"user{n}@contoso.com",
        "userPrincipalName": f"user{n}@contoso.com",
        "tenantId": TENANT,
        "userRole": "user",
    }


def message(service_url: str, conversation_id: str, text: str) -> dict:
    return {
        "type": "message",
        "text": text,
        "serviceUrl": service_url,
        "conversation": {"id": conversation_id},
    }


async def test_a_1200_member_team_is_read_in_pages_of_500_500_and_200(app, channel):
    roster = [member(n) for n in range(1200)]
    channel.set_roster(TEAM, roster)

    pages, continuation = [], None
    for _ in range(5):  # a client that loses its place would read forever
        members, continuation = await app.connector.paged_members(
            channel.url, TEAM, continuation=continuation
        )
        pages.append(members)
        if continuation is None:
            break

    assert [len(page) for page in pages] == [500, 500, 200]
    assert [m for page in pages for m in page] == roster


@pytest.mark.parametrize(("asked", "served"), [(10, 50), (120, 120), (1000, 500)])
async def test_teams_serves_50_to_500_members_a_page(app, channel, asked, served):
    channel.set_roster(TEAM, [member(n) for n in range(600)])

    members, continuation = await app.connector.paged_members(channel.url, TEAM, page_size=asked)

    assert len(members) == served
    assert continuation is not None


async def test_a_members_personal_conversation_has_the_same_id_every_time(app, channel):
    first = await app.connector.create_personal_conversation(channel.url, BOT, USER, TENANT)
    again = await app.connector.create_personal_conversation(channel.url, BOT, USER, TENANT)
    other = await app.connector.create_personal_conversation(channel.url, BOT, "29:x", TENANT)

    assert first.startswith("a:")
    assert again == first
    assert other != first
    asked = channel.created[0].body
    assert asked == {
        "isGroup": False,
        "bot": BOT,
        "members": [{"id": USER}],
        "tenantId": TENANT,
        "channelData": {"tenant": {"id": TENANT}},
    }


@pytest.mark.parametrize("channel_id", [TEAM, DESIGN], ids=["general", "another-channel"])
async def test_a_channel_post_starts_a_thread_in_that_channel(app, channel, channel_id):
    post = {"type": "message", "text": "Deploy at 17:00"}

    thread, activity_id = await app.connector.post_to_channel(channel.url, channel_id, TENANT, post)

    assert thread == f"{channel_id};messageid={activity_id}"
    [received] = channel.received
    assert (received.conversation_id, received.activity_id) == (channel_id, activity_id)
    assert received.activity == post
    assert channel.created[0].body == {
        "isGroup": True,
        "channelData": {"channel": {"id": channel_id}},
        "activity": post,
        "tenantId": TENANT,
    }


async def test_a_teams_channels_are_listed_general_first_without_a_name(app, channel):
    channel.set_channels(TEAM, {DESIGN: "Design"})

    channels = await app.connector.team_channels(channel.url, TEAM)

    assert channels == [{"id": TEAM, "name": None}, {"id": DESIGN, "name": "Design"}]


async def test_a_sent_message_can_be_updated(app, channel):
    sent = await app.connector.send(message(channel.url, "a:conv-1", "Deploying…"))

    await app.connector.update_activity(
        channel.url, "a:conv-1", sent.activity_id, {"type": "message", "text": "Deployed."}
    )

    assert channel.current_activity("a:conv-1", sent.activity_id)["text"] == "Deployed."
    assert [r.method for r in channel.received_by("a:conv-1")] == ["POST", "PUT"]


async def test_a_channel_post_is_updated_through_its_thread(app, channel):
    thread, activity_id = await app.connector.post_to_channel(
        channel.url, DESIGN, TENANT, {"type": "message", "text": "Vote: A or B?"}
    )

    await app.connector.update_activity(
        channel.url, thread, activity_id, {"type": "message", "text": "Voting closed: A."}
    )

    assert channel.current_activity(thread, activity_id)["text"] == "Voting closed: A."


async def test_a_recalled_message_is_gone_and_cannot_be_recalled_again(app, channel):
    sent = await app.connector.send(message(channel.url, "a:conv-1", "Sent in error"))

    await app.connector.delete_activity(channel.url, "a:conv-1", sent.activity_id)

    assert channel.current_activity("a:conv-1", sent.activity_id) is None
    with pytest.raises(ChannelError) as again:
        await app.connector.delete_activity(channel.url, "a:conv-1", sent.activity_id)
    assert (again.value.status, again.value.code) == (404, "ActivityNotFoundInConversation")


async def test_deleting_a_message_the_conversation_never_had_is_activity_not_found(app, channel):
    with pytest.raises(ChannelError) as refused:
        await app.connector.delete_activity(channel.url, "a:conv-1", "1700000000000")

    assert (refused.value.status, refused.value.code) == (404, "ActivityNotFoundInConversation")
    # The message is gone, not the conversation: nothing to remove, nothing to retry.
    assert refused.value.verdict == Verdict.MESSAGE_GONE


async def test_a_user_who_blocked_the_bot_refuses_a_personal_conversation(app, channel):
    channel.answer(USER, 403, "ConversationBlockedByUser", "User blocked the conversation.")

    with pytest.raises(ChannelError) as refused:
        await app.connector.create_personal_conversation(channel.url, BOT, USER, TENANT)

    assert (refused.value.status, refused.value.code) == (403, "ConversationBlockedByUser")
    assert channel.created[0].conversation_id == ""


CALLS = {
    # name: (the key the channel's answer is injected by, the call)
    "paged_members": (TEAM, lambda c, url: c.paged_members(url, TEAM)),
    "create_personal_conversation": (
        USER,
        lambda c, url: c.create_personal_conversation(url, BOT, USER, TENANT),
    ),
    "post_to_channel": (
        DESIGN,
        lambda c, url: c.post_to_channel(url, DESIGN, TENANT, {"type": "message", "text": "x"}),
    ),
    "team_channels": (TEAM, lambda c, url: c.team_channels(url, TEAM)),
    "update_activity": (
        "a:conv-1",
        lambda c, url: c.update_activity(url, "a:conv-1", "1", {"type": "message", "text": "x"}),
    ),
    "delete_activity": ("a:conv-1", lambda c, url: c.delete_activity(url, "a:conv-1", "1")),
}


@pytest.mark.parametrize("name", CALLS)
async def test_a_busy_channel_is_a_channel_error_to_retry(app, channel, name):
    key, call = CALLS[name]
    channel.answer(key, 429, "TooManyRequests", headers={"Retry-After": "3"})

    with pytest.raises(ChannelError) as busy:
        await call(app.connector, channel.url)

    assert (busy.value.status, busy.value.code) == (429, "TooManyRequests")
    assert (busy.value.verdict, busy.value.retry_after) == (Verdict.RETRY, 3.0)


@pytest.mark.parametrize("name", CALLS)
async def test_no_answer_is_a_channel_error_without_a_status(app, channel, name):
    key, call = CALLS[name]
    channel.answer(key, 200, reset=True)

    with pytest.raises(ChannelError) as silent:
        await call(app.connector, channel.url)

    assert silent.value.status is None


async def test_teams_calls_carry_the_bots_bearer_token(secured_app, channel, identity_server):
    await secured_app.connector.create_personal_conversation(channel.url, BOT, USER, TENANT)

    scheme, token = channel.created[0].headers["Authorization"].split(" ", 1)
    assert scheme == "Bearer"
    assert jwt.decode(token, options={"verify_signature": False})["appid"] == APP_ID
