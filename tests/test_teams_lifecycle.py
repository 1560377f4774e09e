"""Teams lifecycle events, shaped as Teams sends them: what each one leaves stored, and says.

Payloads follow the JSON examples of "Conversation events in your Teams bot",
https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/conversations/subscribe-to-conversation-events
(conversation update events, and the installationUpdate section), and for the bot removed from
a group chat the v3 "Handle bot events in Microsoft Teams" page,
https://learn.microsoft.com/en-us/microsoftteams/platform/resources/bot-v3/bots-notifications
Only the ids of the bot and the serviceUrl are ours: the bot is the testbed's, the channel the stub.
"""

from __future__ import annotations

from typing import Any

import pytest
from azure.data.tables.aio import TableClient

from testbed.activities import BOT_ID
from tests.support import teams
from tests.support.functions import post_activity
from tests.support.references import stored_references

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
USER = "29:1wR7IdIRIoerMIWbewMi75JA3scaMuxvFon9eRQW2Nix5loMDo0362st2IaRVRirPZBv1WdXT8TIFWWmlQCizZQ"
# In the conversation update examples the team's id is also its General channel's, and every
# event but the bot's own arrival names the team as its conversation.
TEAM = "19:efa9296d959346209fea44151c742e73@thread.skype"
CHANNEL = "19:6d97d816470f481dbcda38244b98689a@thread.skype"
GROUP_CHAT = "19:9d0b2d3a1f2e4b7c8a6f5e4d3c2b1a00@thread.v2"
PERSONAL = "a:1Jd8sd9sOZfQ2b-personal-chat"


def team_event(
    service_url: str, event_type: str, *, conversation: str = TEAM, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "conversationUpdate",
        "timestamp": "2017-02-23T19:34:07.478Z",
        "localTimestamp": "2017-02-23T12:34:07.478-07:00",
        "id": "f:dd6ec311",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": USER},
        "conversation": {"isGroup": True, "conversationType": "channel", "id": conversation},
        "recipient": {"id": BOT_ID, "name": "SongsuggesterBot"},
        "channelData": {
            "team": {"id": TEAM, "name": "Team Name"},
            "eventType": event_type,
            "tenant": {"id": TENANT},
        },
    }
    body.update(extra)
    return body


def channel_event(service_url: str, event_type: str, channel: str = CHANNEL) -> dict[str, Any]:
    body = team_event(service_url, event_type)
    body["channelData"]["channel"] = {"id": channel, "name": "FunDiscussions"}
    return body


def bot_added_to_team(service_url: str) -> dict[str, Any]:
    return team_event(service_url, "teamMemberAdded", membersAdded=[{"id": BOT_ID}])


def channel_message(service_url: str, channel: str, text: str = "hello") -> dict[str, Any]:
    """A message in a thread of a team's channel, which stores the channel."""
    body = team_event(service_url, "", conversation=f"{channel};messageid=1575667808184")
    body.update(type="message", text=text, id="1575667808184")
    body["from"]["aadObjectId"] = "c33aafc4-646d-4543-9d4c-abd28e4d2110"
    del body["channelData"]["eventType"]
    body["channelData"]["channel"] = {"id": channel}
    return body


def chat_event(service_url: str, conversation: str, conversation_type: str, **extra: Any) -> dict:
    body = team_event(service_url, "", conversation=conversation, **extra)
    body["conversation"] = {"conversationType": conversation_type, "id": conversation}
    if conversation_type == "groupChat":
        body["conversation"].update(isGroup=True, tenantId=TENANT)
    body["channelData"] = {"tenant": {"id": TENANT}}
    return body


def installation_update(
    service_url: str, action: str, conversation: str = CHANNEL, team: str = TEAM
) -> dict[str, Any]:
    """As in the installationUpdate example: the conversation is the channel chosen at install."""
    return teams.installation_update(
        service_url, action, conversation=conversation, user=USER, tenant=TENANT, team=team
    )


async def post(body: dict[str, Any]) -> None:
    response = await post_activity(body)
    assert response.status == 200, response.body


async def stored_ids(app) -> set[str]:
    return {stored.conversation_id for stored in await stored_references(app)}


async def rows(env: dict[str, str]) -> list[tuple[str, str]]:
    """Every stored row's key and ETag: a write of any kind changes it."""
    async with TableClient.from_connection_string(
        env["AzureWebJobsStorage"], env["CONVERSATION_TABLE"]
    ) as table:
        return sorted([(e["RowKey"], e.metadata["etag"]) async for e in table.list_entities()])


@pytest.fixture
async def team_with_a_channel(app, channel):
    """The bot added to the team (General stored, welcome said), and a message in CHANNEL."""
    await post(bot_added_to_team(channel.url))
    await post(channel_message(channel.url, CHANNEL))
    assert await stored_ids(app) == {TEAM, CHANNEL}
    channel.reset()


async def test_the_bot_added_to_a_team_remembers_it_and_says_welcome_once(app, channel):
    await post(bot_added_to_team(channel.url))

    assert await stored_ids(app) == {TEAM}
    [welcome] = channel.received
    assert welcome.conversation_id == TEAM
    assert welcome.activity["text"].startswith("Hi!")


@pytest.mark.parametrize(
    "event_type",
    ["channelCreated", "channelRenamed", "channelRestored", "teamRenamed", "teamArchived"],
)
async def test_an_event_that_changes_nothing_we_keep_writes_nothing_and_says_nothing(
    app, app_env, channel, team_with_a_channel, event_type
):
    before = await rows(app_env)

    if event_type.startswith("channel"):
        await post(channel_event(channel.url, event_type, channel="19:new0123@thread.skype"))
    else:
        await post(team_event(channel.url, event_type))

    assert await rows(app_env) == before
    assert channel.received == []


@pytest.mark.parametrize("event_type", ["teamArchived", "teamarchived"])
async def test_an_archived_team_and_its_channels_are_kept(
    app, channel, team_with_a_channel, event_type
):
    await post(team_event(channel.url, event_type))

    assert await stored_ids(app) == {TEAM, CHANNEL}


async def test_a_deleted_channel_forgets_that_channel_and_keeps_the_team(
    app, channel, team_with_a_channel
):
    await post(channel_event(channel.url, "channelDeleted"))

    assert await stored_ids(app) == {TEAM}
    assert channel.received == []


async def test_a_channel_deleted_event_naming_the_general_channel_forgets_nothing(
    app, channel, team_with_a_channel
):
    # The General channel cannot be deleted; an event claiming so must not silence the team.
    await post(channel_event(channel.url, "channelDeleted", channel=TEAM))

    assert await stored_ids(app) == {TEAM, CHANNEL}


async def test_a_deleted_channel_the_bot_never_heard_from_forgets_nothing(
    app, channel, team_with_a_channel
):
    await post(channel_event(channel.url, "channelDeleted", channel="19:quiet0123@thread.skype"))

    assert await stored_ids(app) == {TEAM, CHANNEL}


@pytest.mark.parametrize("event_type", ["teamDeleted", "teamHardDeleted", "teamharddeleted"])
async def test_a_deleted_team_forgets_the_team_and_its_channels(
    app, channel, team_with_a_channel, event_type
):
    await post(channel_message(channel.url, "19:other@thread.skype"))
    await post(chat_event(channel.url, PERSONAL, "personal", text="hi", type="message"))
    channel.reset()

    await post(team_event(channel.url, event_type))

    assert await stored_ids(app) == {PERSONAL}  # a chat outside the team stays
    assert channel.received == []


@pytest.mark.parametrize(
    "event_type",
    # "teamRestored" as the docs' table and botbuilder spell it; "teamrestored" as the docs'
    # JSON example does.
    ["teamRestored", "teamrestored", "teamUnarchived", "teamunarchived"],
)
async def test_a_restored_or_unarchived_team_is_remembered_again_without_a_welcome(
    app, channel, event_type
):
    await post(bot_added_to_team(channel.url))
    await post(team_event(channel.url, "teamDeleted"))
    channel.reset()

    await post(team_event(channel.url, event_type))

    stored = await app.store.get("msteams", TEAM)
    assert stored is not None
    assert stored.reference.conversation.id == TEAM
    assert stored.tenant_id == TENANT
    assert channel.received == []


async def test_a_member_joining_the_team_writes_nothing_and_says_nothing(
    app, app_env, channel, team_with_a_channel
):
    before = await rows(app_env)
    joined = team_event(channel.url, "teamMemberAdded", membersAdded=[{"id": "29:newcomer"}])

    await post(joined)

    assert await rows(app_env) == before
    assert channel.received == []


async def test_a_member_leaving_the_team_forgets_nothing(
    app, app_env, channel, team_with_a_channel
):
    before = await rows(app_env)
    left = team_event(channel.url, "teamMemberRemoved", membersRemoved=[{"id": USER}])

    await post(left)

    assert await rows(app_env) == before
    assert channel.received == []


async def test_the_bot_removed_from_a_team_forgets_the_team_and_its_channels(
    app, channel, team_with_a_channel
):
    removed = team_event(channel.url, "teamMemberRemoved", membersRemoved=[{"id": BOT_ID}])

    await post(removed)

    assert await stored_ids(app) == set()
    assert channel.received == []


@pytest.mark.parametrize(
    ("conversation", "conversation_type"),
    [(GROUP_CHAT, "groupChat"), (PERSONAL, "personal")],
    ids=["group-chat", "personal"],
)
async def test_the_bot_removed_from_a_chat_forgets_only_that_chat(
    app, channel, conversation, conversation_type
):
    added = chat_event(channel.url, conversation, conversation_type, membersAdded=[{"id": BOT_ID}])
    await post(added)
    await post(chat_event(channel.url, "a:other-chat", "personal", membersAdded=[{"id": BOT_ID}]))
    channel.reset()
    removed = chat_event(
        channel.url, conversation, conversation_type, membersRemoved=[{"id": BOT_ID}]
    )

    await post(removed)

    assert await stored_ids(app) == {"a:other-chat"}
    assert channel.received == []


async def test_another_member_leaving_a_group_chat_forgets_nothing(app, channel):
    await post(chat_event(channel.url, GROUP_CHAT, "groupChat", membersAdded=[{"id": BOT_ID}]))

    await post(chat_event(channel.url, GROUP_CHAT, "groupChat", membersRemoved=[{"id": USER}]))

    assert await stored_ids(app) == {GROUP_CHAT}


@pytest.mark.parametrize("action", ["add", "add-upgrade", "Add"])
async def test_installing_the_app_remembers_the_chosen_channel_without_a_welcome(
    app, channel, action
):
    await post(installation_update(channel.url, action))

    stored = await app.store.get("msteams", CHANNEL)
    assert stored is not None
    assert stored.reference.conversation.id == CHANNEL
    assert channel.received == []


@pytest.mark.parametrize("action", ["remove", "remove-upgrade", "Remove"])
async def test_uninstalling_the_app_forgets_the_chosen_channel_and_the_team(
    app, channel, team_with_a_channel, action
):
    await post(installation_update(channel.url, action))

    assert await stored_ids(app) == set()
    assert channel.received == []


async def test_uninstalling_from_a_personal_chat_forgets_it(app, channel):
    added = chat_event(channel.url, PERSONAL, "personal", membersAdded=[{"id": BOT_ID}])
    await post(added)
    uninstall = installation_update(channel.url, "remove", conversation=PERSONAL)
    uninstall["conversation"] = {"conversationType": "personal", "id": PERSONAL}
    uninstall["channelData"] = {"tenant": {"id": TENANT}, "source": None}

    await post(uninstall)

    assert await stored_ids(app) == set()


async def test_an_unknown_installation_action_changes_nothing(app, app_env, channel):
    await post(installation_update(channel.url, "add"))
    before = await rows(app_env)

    await post(installation_update(channel.url, "pause"))

    assert await rows(app_env) == before


async def test_a_team_id_no_key_can_hold_still_forgets_the_team_conversation(
    app, channel, team_with_a_channel
):
    deleted = team_event(channel.url, "teamDeleted")
    deleted["channelData"]["team"]["id"] = "19:" + "x" * 600

    await post(deleted)

    assert await stored_ids(app) == {CHANNEL}
    assert channel.received == []  # no "something went wrong" apology
