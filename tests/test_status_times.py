"""A notification's status never says it finished before it started, whatever its audience:
sent inline, through the queue, to a team's members, in a team's channels, or an update or a
recall of one of those. Every outcome it recorded lies between the two."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import pytest

from shared.app import App
from tests.support.functions import (
    all_targets,
    get_status,
    patch_notification,
    post_notify,
    recall,
)
from tests.support.references import store_conversations
from tests.support.teams import TEAM, TENANT, install_in_team
from tests.support.work_queue import run_queued_work


@pytest.fixture
async def queued_app(app_with) -> App:
    """Inline up to 2 targets; no per-tenant rate limit, so the tests are quick."""
    return await app_with(NOTIFY_INLINE_MAX_TARGETS=2, NOTIFY_MAX_RPS_PER_TENANT=0)


async def notified(body: dict, answered: int) -> str:
    response = await post_notify(body)
    assert response.status == answered, response.body
    return response.body["id"]


async def inline(app: App, channel) -> str:
    await store_conversations(app, channel.url, ["c1", "c2"])
    return await notified({"text": "two"}, 200)


async def queued(app: App, channel) -> str:
    await store_conversations(app, channel.url, [f"c{n}" for n in range(5)])
    return await notified({"text": "five"}, 202)


async def nobody_through_the_queue(app: App, channel) -> str:
    return await notified({"text": "x", "to": {"teamMembersOf": [TEAM]}}, 202)


async def team_members(app: App, channel) -> str:
    await install_in_team(app, channel)
    members = [{"id": f"29:user-{n}", "name": f"User {n}", "tenantId": TENANT} for n in range(3)]
    channel.set_roster(TEAM, members)
    return await notified({"text": "x", "to": {"teamMembersOf": [TEAM]}}, 202)


async def team_channels(app: App, channel) -> str:
    await install_in_team(app, channel)
    channel.set_channels(TEAM, {"19:design@thread.tacv2": "Design"})
    teams = {"teamChannels": {"teamIds": [TEAM], "channels": "all"}}
    return await notified({"text": "x", "to": teams}, 202)


async def an_update(app: App, channel) -> str:
    sent = await inline(app, channel)
    response = await patch_notification(sent, {"text": "changed"})
    assert response.status == 202, response.body
    return response.body["id"]


async def a_recall(app: App, channel) -> str:
    sent = await team_channels(app, channel)
    await run_queued_work(app)
    response = await recall(sent)
    assert response.status == 202, response.body
    return response.body["id"]


AUDIENCES: dict[str, Callable[[App, object], Awaitable[str]]] = {
    "inline": inline,
    "queued": queued,
    "a team with no stored conversation": nobody_through_the_queue,
    "teamMembersOf": team_members,
    "teamChannels": team_channels,
    "an update": an_update,
    "a recall": a_recall,
}


@pytest.mark.parametrize("make", AUDIENCES.values(), ids=AUDIENCES.keys())
async def test_a_done_notification_started_before_its_outcomes_and_finished_after_them(
    queued_app, channel, make
):
    notification_id = await make(queued_app, channel)
    await run_queued_work(queued_app)

    status = (await get_status(notification_id)).body

    assert status["state"] == "done"
    assert status["startedAt"] is not None
    assert status["finishedAt"] is not None
    started = datetime.fromisoformat(status["startedAt"])
    finished = datetime.fromisoformat(status["finishedAt"])
    assert datetime.fromisoformat(status["createdAt"]) <= started <= finished
    outcomes = [datetime.fromisoformat(t["at"]) for t in await all_targets(notification_id)]
    assert outcomes
    assert all(started <= at <= finished for at in outcomes)
