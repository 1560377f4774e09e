"""`to.userIds` asks Teams about a named person only when it must: never for someone whose 1:1 with
the bot is indexed, in whatever tenant, and with `to.tenantIds` only teams of those tenants."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from botbuilder.schema import Activity

from shared.app import App
from shared.storage.references import StoredReference
from testbed.activities import BOT_ID, activity
from tests.support.functions import post_activity, post_notify

HOME, OTHER = "tenant-home", "tenant-other"
HOME_TEAM, OTHER_TEAM = "19:home-team@thread.tacv2", "19:other-team@thread.tacv2"
ADA, ADA_AAD = "29:ada", "6f1d0a52-3c7e-4a0e-9a43-0d6f3c2b9e11"


@pytest.fixture
async def team_app(app_with) -> App:
    return await app_with(NOTIFY_MAX_RPS_PER_TENANT=0)


async def install_in(app: App, channel, team_id: str, tenant_id: str) -> None:
    """The team's General conversation stored, as the bot's arrival in the team stores it."""
    arrival = activity(
        channel.url,
        team_id,
        type="conversationUpdate",
        conversation_type="channel",
        tenant_id=tenant_id,
        membersAdded=[{"id": BOT_ID}],
        channelData={"team": {"id": team_id}, "tenant": {"id": tenant_id}},
    )
    inbound = Activity().deserialize(arrival)
    await app.store.save(StoredReference.from_activity(inbound, datetime.now(timezone.utc)))


async def ada_says_hello(channel) -> None:
    """Ada talks to the bot in her 1:1 chat, in her home tenant: stored and indexed."""
    hello = activity(
        channel.url,
        "a:ada-personal-chat",
        user_id=ADA,
        tenant_id=HOME,
        **{"from": {"id": ADA, "name": "Ada", "aadObjectId": ADA_AAD}},
    )
    assert (await post_activity(hello)).status == 200


@pytest.mark.parametrize("named", [ADA, ADA_AAD], ids=["29: id", "aadObjectId"])
async def test_a_person_whose_1_1_is_indexed_is_sent_to_without_asking_any_team(
    team_app, channel, named
):
    await ada_says_hello(channel)
    await install_in(team_app, channel, OTHER_TEAM, OTHER)  # the only team the bot is in
    channel.reset()

    for _ in range(2):
        response = await post_notify({"text": "Your badge is ready", "to": {"userIds": [named]}})
        assert response.status == 200, response.body
        assert (response.body["matched"], response.body["sent"]) == (1, 1)

    assert channel.looked_up == []
    assert channel.created == []
    assert [r.conversation_id for r in channel.received] == ["a:ada-personal-chat"] * 2


async def test_with_tenant_ids_only_teams_of_those_tenants_are_asked(team_app, channel):
    await install_in(team_app, channel, HOME_TEAM, HOME)
    await install_in(team_app, channel, OTHER_TEAM, OTHER)

    response = await post_notify(
        {"text": "x", "to": {"userIds": ["29:stranger"], "tenantIds": [HOME]}}
    )

    assert (response.status, response.body["matched"]) == (200, 0)
    assert channel.looked_up == [(HOME_TEAM, "29:stranger")]


async def test_a_member_found_in_one_team_is_not_asked_of_the_next(team_app, channel):
    await install_in(team_app, channel, HOME_TEAM, HOME)
    await install_in(team_app, channel, OTHER_TEAM, HOME)
    newcomer = {"id": "29:newcomer", "name": "Newcomer", "tenantId": HOME}
    channel.set_roster(HOME_TEAM, [newcomer])
    channel.set_roster(OTHER_TEAM, [newcomer])

    first = await post_notify({"text": "one", "to": {"userIds": ["29:newcomer"]}})
    asked_first = channel.looked_up
    again = await post_notify({"text": "two", "to": {"userIds": ["29:newcomer"]}})

    assert (first.body["sent"], again.body["sent"]) == (1, 1)
    assert len(asked_first) == 1  # whichever team was asked first had them
    assert channel.looked_up == asked_first  # indexed since: nobody is asked again
