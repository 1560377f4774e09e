"""A notification to `to.teamChannels`: a new thread in each team's General channel, or in every
channel of each team, whether or not the channel ever talked to the bot. Each channel is one
target whose outcome names the thread the post started."""

from __future__ import annotations

import pytest

from shared.app import App
from tests.support.functions import all_targets, get_status, post_notify
from tests.support.teams import TEAM, TENANT, install_in_team
from tests.support.work_queue import run_queued_work

OTHER_TEAM = "19:team4567@thread.tacv2"
DESIGN = "19:design@thread.tacv2"
RELEASES = "19:releases@thread.tacv2"


@pytest.fixture
async def team_app(app_with) -> App:
    return await app_with(NOTIFY_MAX_RPS_PER_TENANT=0)


async def post_in(channels: str, *team_ids: str, **extra) -> str:
    body = {
        "text": "Release 4.2 is out",
        "to": {"teamChannels": {"teamIds": list(team_ids), "channels": channels}},
        **extra,
    }
    response = await post_notify(body)
    assert response.status == 202, response.body
    return response.body["id"]


def posts(channel) -> list:
    """Each channel post: what was asked of POST /v3/conversations with isGroup."""
    return [c for c in channel.created if c.body.get("isGroup")]


async def test_a_general_channel_post_starts_one_thread_in_each_teams_general_channel(
    team_app, channel
):
    await install_in_team(team_app, channel, TEAM)
    await install_in_team(team_app, channel, OTHER_TEAM)
    channel.set_channels(TEAM, {DESIGN: "Design"})

    notification_id = await post_in("general", TEAM, OTHER_TEAM)
    await run_queued_work(team_app)

    assert sorted(p.body["channelData"]["channel"]["id"] for p in posts(channel)) == [
        TEAM,
        OTHER_TEAM,
    ]
    first = next(p for p in posts(channel) if p.body["channelData"]["channel"]["id"] == TEAM)
    assert first.body["tenantId"] == TENANT
    assert first.body["activity"]["text"] == "Release 4.2 is out"
    targets = {t["conversationId"]: t for t in await all_targets(notification_id)}
    assert set(targets) == {TEAM, OTHER_TEAM}
    for channel_id, target in targets.items():
        [received] = channel.received_by(channel_id)
        assert target["outcome"] == "sent"
        assert target["activityId"] == received.activity_id
        assert target["sentIn"] == f"{channel_id};messageid={received.activity_id}"
    status = (await get_status(notification_id)).body
    assert (status["state"], status["counts"]["matched"], status["counts"]["sent"]) == (
        "done",
        2,
        2,
    )


async def test_an_all_channels_post_starts_a_thread_in_every_channel_of_the_team(team_app, channel):
    await install_in_team(team_app, channel, TEAM)
    channel.set_channels(TEAM, {DESIGN: "Design", RELEASES: "Releases"})

    notification_id = await post_in("all", TEAM)
    await run_queued_work(team_app)

    assert [p.body["channelData"]["channel"]["id"] for p in posts(channel)] == [
        TEAM,
        DESIGN,
        RELEASES,
    ]
    targets = await all_targets(notification_id)
    assert sorted(t["conversationId"] for t in targets) == sorted([TEAM, DESIGN, RELEASES])
    assert {t["outcome"] for t in targets} == {"sent"}
    assert all(t["sentIn"].startswith(t["conversationId"] + ";messageid=") for t in targets)
    counts = (await get_status(notification_id)).body["counts"]
    assert (counts["matched"], counts["sent"], counts["pending"]) == (3, 3, 0)


async def test_a_channel_that_refuses_the_post_is_one_failed_target(team_app, channel):
    await install_in_team(team_app, channel, TEAM)
    channel.set_channels(TEAM, {DESIGN: "Design"})
    channel.answer(DESIGN, 403, "ForbiddenOperationException", "Bots can't post here.")

    notification_id = await post_in("all", TEAM)
    await run_queued_work(team_app)

    failed = await all_targets(notification_id, outcome="failed")
    assert [(t["conversationId"], t["status"]) for t in failed] == [(DESIGN, 403)]
    counts = (await get_status(notification_id)).body["counts"]
    assert (counts["sent"], counts["failed"]) == (1, 1)


async def test_a_team_the_bot_has_no_conversation_in_gets_no_post_and_one_failed_target(
    team_app, channel
):
    notification_id = await post_in("general", "19:unknown@thread.tacv2")
    await run_queued_work(team_app)

    [target] = await all_targets(notification_id)
    assert (target["conversationId"], target["outcome"]) == ("19:unknown@thread.tacv2", "failed")
    assert target["error"].startswith("TeamNotFound:")
    assert posts(channel) == []
    assert (await get_status(notification_id)).body["state"] == "done"


async def test_an_urgent_post_raises_a_teams_alert(team_app, channel):
    await install_in_team(team_app, channel, TEAM)

    await post_in("general", TEAM, importance="urgent")
    await run_queued_work(team_app)

    [post] = posts(channel)
    assert post.body["activity"]["channelData"] == {"notification": {"alert": True}}


@pytest.mark.parametrize(
    ("to", "field"),
    [
        ({"teamChannels": {"teamIds": [TEAM], "channels": "some"}}, "to.teamChannels.channels"),
        ({"teamChannels": {"teamIds": [TEAM]}}, "to.teamChannels.channels"),
        ({"teamChannels": {"teamIds": [], "channels": "all"}}, "to.teamChannels.teamIds"),
        ({"teamChannels": {"teamIds": [TEAM], "channels": "all", "x": 1}}, "to.teamChannels.x"),
        ({"teamChannels": [TEAM]}, "to.teamChannels"),
        (
            {"teamChannels": {"teamIds": [TEAM], "channels": "all"}, "teamMembersOf": [TEAM]},
            "to.teamChannels",
        ),
        (
            {"teamChannels": {"teamIds": [TEAM], "channels": "all"}, "channelIds": ["msteams"]},
            "to.channelIds",
        ),
    ],
)
async def test_a_bad_channels_audience_is_a_400_naming_the_field(team_app, channel, to, field):
    response = await post_notify({"text": "x", "to": to})

    assert response.status == 400
    assert response.body["detail"] == {"field": field}
