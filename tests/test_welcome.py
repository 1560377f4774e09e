"""The greeting: WELCOME_TEXT said once per install, in a 1:1 (where Teams sends an
installationUpdate and a conversationUpdate for the same install), a group chat or a team.

Payloads follow "Conversation events in your Teams bot" (the installationUpdate section, and the
bot added to a personal chat), as tests/test_teams_lifecycle.py's do; they arrive through the
messages function.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from shared.settings import DEFAULT_WELCOME_TEXT
from testbed.activities import BOT_ID
from tests.support.functions import post_activity
from tests.support.teams import installation_update

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
USER = "29:1wR7IdIRIoerMIWbewMi75JA3scaMuxvFon9eRQW2Nix5loMDo0362st2IaRVRirPZBv1WdXT8TIFWWmlQ"
PERSONAL = "a:1Jd8sd9sOZfQ2b-personal-welcome"
TEAM = "19:efa9296d959346209fea44151c742e73@thread.skype"
GREETING = "Welcome! I'll post your team's alerts here."


def personal_install(service_url: str, action: str = "add") -> dict[str, Any]:
    return installation_update(service_url, action, conversation=PERSONAL, user=USER, tenant=TENANT)


def bot_joined_personal_chat(service_url: str) -> dict[str, Any]:
    return {
        "type": "conversationUpdate",
        "id": "f:dd6ec311",
        "timestamp": "2021-11-09T04:47:31.02Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": USER},
        "recipient": {"id": BOT_ID, "name": "Test Bot"},
        "conversation": {"conversationType": "personal", "tenantId": TENANT, "id": PERSONAL},
        "membersAdded": [{"id": BOT_ID}],
        "channelData": {"tenant": {"id": TENANT}},
    }


def bot_removed_from_personal_chat(service_url: str) -> dict[str, Any]:
    body = bot_joined_personal_chat(service_url)
    del body["membersAdded"]
    body["membersRemoved"] = [{"id": BOT_ID}]
    return body


def bot_added_to_team(service_url: str) -> dict[str, Any]:
    return {
        "type": "conversationUpdate",
        "id": "f:5d1b2c9e",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": USER},
        "recipient": {"id": BOT_ID, "name": "Test Bot"},
        "conversation": {"isGroup": True, "conversationType": "channel", "id": TEAM},
        "membersAdded": [{"id": BOT_ID}],
        "channelData": {
            "team": {"id": TEAM, "name": "Team Name"},
            "eventType": "teamMemberAdded",
            "tenant": {"id": TENANT},
        },
    }


def bot_removed_from_team(service_url: str) -> dict[str, Any]:
    body = bot_added_to_team(service_url)
    del body["membersAdded"]
    body["membersRemoved"] = [{"id": BOT_ID}]
    body["channelData"]["eventType"] = "teamMemberRemoved"
    return body


async def post(body: dict[str, Any]) -> None:
    response = await post_activity(body)
    assert response.status == 200, response.body


def said(channel, conversation: str = PERSONAL) -> list[str]:
    """What reached the conversation: sends the channel took."""
    return [r.activity.get("text") for r in channel.received_by(conversation) if r.status == 200]


@pytest.fixture
async def greeting_app(app_with):
    return await app_with(WELCOME_TEXT=GREETING)


async def test_a_personal_install_is_greeted_with_the_welcome_text(greeting_app, channel):
    await post(personal_install(channel.url))

    assert said(channel) == [GREETING]
    assert await greeting_app.store.get("msteams", PERSONAL) is not None


async def test_the_bot_added_to_a_personal_chat_is_greeted(greeting_app, channel):
    await post(bot_joined_personal_chat(channel.url))

    assert said(channel) == [GREETING]


async def test_both_events_of_one_personal_install_greet_once(greeting_app, channel):
    await post(personal_install(channel.url))
    await post(bot_joined_personal_chat(channel.url))

    assert said(channel) == [GREETING]


async def test_both_events_arriving_together_greet_once(greeting_app, channel):
    await asyncio.gather(
        post(personal_install(channel.url)), post(bot_joined_personal_chat(channel.url))
    )

    assert said(channel) == [GREETING]


async def test_an_event_the_channel_sends_again_greets_once(greeting_app, channel):
    install = personal_install(channel.url)

    await post(install)
    await post(install)

    assert said(channel) == [GREETING]


@pytest.mark.parametrize("removal", ["uninstall", "bot removed"])
async def test_after_the_app_leaves_the_next_install_is_greeted_again(
    greeting_app, channel, removal
):
    await post(personal_install(channel.url))
    if removal == "uninstall":
        await post(personal_install(channel.url, action="remove"))
    else:
        await post(bot_removed_from_personal_chat(channel.url))

    await post(personal_install(channel.url))

    assert said(channel) == [GREETING, GREETING]


async def test_an_app_update_that_adds_the_bot_is_not_greeted(greeting_app, channel):
    await post(personal_install(channel.url, action="add-upgrade"))

    assert said(channel) == []
    assert await greeting_app.store.get("msteams", PERSONAL) is not None


async def test_a_team_is_greeted_once_per_install(greeting_app, channel):
    await post(bot_added_to_team(channel.url))
    await post(bot_added_to_team(channel.url))
    await post(bot_removed_from_team(channel.url))
    await post(bot_added_to_team(channel.url))

    assert said(channel, TEAM) == [GREETING, GREETING]


async def test_a_greeting_the_channel_refused_is_said_on_the_installs_next_event(
    greeting_app, channel
):
    channel.answer(PERSONAL, 503, "ServiceUnavailable", times=2)  # the greeting, and the apology
    await post_activity(personal_install(channel.url))

    await post(bot_joined_personal_chat(channel.url))

    assert said(channel) == [GREETING]


async def test_an_empty_welcome_text_says_nothing_and_still_remembers(app_with, channel):
    app = await app_with(WELCOME_TEXT="")

    await post(personal_install(channel.url))
    await post(bot_added_to_team(channel.url))

    assert channel.received == []
    assert await app.store.get("msteams", PERSONAL) is not None
    assert await app.store.get("msteams", TEAM) is not None


async def test_without_the_setting_the_built_in_greeting_is_said(app_with, channel, monkeypatch):
    monkeypatch.delenv("WELCOME_TEXT", raising=False)
    await app_with()

    await post(personal_install(channel.url))

    assert said(channel) == [DEFAULT_WELCOME_TEXT]
