"""Scheduled notifications: stored with sendAt, delivered once by the timer when due; status."""

from __future__ import annotations

import asyncio

import pytest

from shared.app import get_app
from shared.notifications.lifecycle import State
from shared.notifications.notification_store import CLAIM_EXPIRES_AFTER
from tests.support.functions import get_status, post_notify, run_timer
from tests.support.references import store_conversations
from tests.support.work_queue import run_queued_work

SEND_AT = "2026-11-23T10:00:00+01:00"  # 09:00 UTC, one hour after the test clock's start


@pytest.fixture
async def subscribers(clock, channel):
    await store_conversations(get_app(), channel.url, ["conv-a", "conv-b"])
    return ["conv-a", "conv-b"]


async def schedule(text: str = "Stand-up in 5 minutes", send_at: str = SEND_AT, **extra) -> str:
    response = await post_notify({"text": text, "sendAt": send_at, **extra})
    assert response.status == 202
    return response.body["id"]


async def test_a_notification_with_send_at_is_stored_and_answered_with_its_id(
    subscribers, clock, channel
):
    response = await post_notify({"text": "Later", "sendAt": "2026-11-23T10:00:00Z"})

    assert response.status == 202
    assert response.body["state"] == "scheduled"
    assert response.body["sendAt"] == "2026-11-23T10:00:00+00:00"
    status = await get_status(response.body["id"])
    assert status.body["state"] == "scheduled"
    assert channel.received == []


async def test_a_scheduled_notification_is_not_sent_early(subscribers, clock, channel):
    notification_id = await schedule(send_at="2026-11-23T09:30:00Z")
    clock.advance(minutes=29)

    await run_timer()

    assert channel.received == []
    assert (await get_status(notification_id)).body["state"] == "scheduled"


async def test_a_due_notification_is_queued_once_sent_once_and_its_status_shows_the_counts(
    subscribers, clock, channel
):
    notification_id = await schedule(send_at="2026-11-23T09:30:00Z")
    clock.advance(minutes=30)

    await run_timer()
    await run_timer()
    assert (await get_status(notification_id)).body["state"] == "queued"
    await run_queued_work(get_app())

    assert sorted(r.conversation_id for r in channel.received) == subscribers
    status = (await get_status(notification_id)).body
    assert status["state"] == "done"
    assert (status["counts"]["matched"], status["counts"]["sent"]) == (2, 2)
    assert status["counts"]["pending"] == 0


async def test_two_overlapping_timer_runs_send_each_notification_once(subscribers, clock, channel):
    for n in range(3):
        await schedule(text=f"#{n}", send_at="2026-11-23T09:10:00Z")
    clock.advance(minutes=15)

    await asyncio.gather(run_timer(), run_timer(), run_timer())
    await run_queued_work(get_app())

    texts = sorted((r.conversation_id, r.activity["text"]) for r in channel.received)
    assert texts == sorted((c, f"#{n}") for c in subscribers for n in range(3))


async def test_a_claim_left_by_a_crashed_run_is_queued_again_once_it_expires(
    subscribers, clock, channel
):
    notification_id = await schedule(send_at="2026-11-23T09:05:00Z")
    clock.advance(minutes=5)
    notifications = get_app().notifications
    [due] = [n async for n in notifications.due(clock())]
    # This run claims it, then dies before its work item is on the queue.
    assert await notifications.claim(due, clock(), State.QUEUED) is not None

    await run_timer()
    await run_queued_work(get_app())
    sent_while_claimed = list(channel.received)
    clock.advance(seconds=CLAIM_EXPIRES_AFTER.total_seconds() + 60)
    await run_timer()
    await run_timer()
    await run_queued_work(get_app())

    assert sent_while_claimed == []
    assert sorted(r.conversation_id for r in channel.received) == subscribers
    assert (await get_status(notification_id)).body["state"] == "done"


async def test_an_immediate_notification_has_a_status_too(subscribers, clock, channel):
    response = await post_notify({"text": "Now"})

    status = (await get_status(response.body["id"])).body

    assert status["state"] == "done"
    assert status["report"]["sent"] == 2
    assert status["counts"]["sent"] == 2
    assert status["sendAt"] is None
    assert status["startedAt"] == status["finishedAt"] == clock().isoformat()


@pytest.mark.parametrize("notification_id", ["0" * 32, "not-an-id", "../../etc", ""])
async def test_an_unknown_notification_is_a_404(clock, notification_id):
    response = await get_status(notification_id)

    assert response.status == 404
    assert response.body == {"error": "no notification with this id"}


@pytest.mark.parametrize(
    "send_at",
    [
        "2026-11-23T10:00:00",
        "tomorrow",
        1700000000,
        "2028-01-01T00:00:00Z",
        "",
        "2020-01-01T09:00:00Z",
        "2026-11-23T08:54:00Z",
    ],
    ids=["no-offset", "words", "number", "too-far", "empty", "years-ago", "six-minutes-ago"],
)
async def test_a_bad_send_at_is_a_400(clock, channel, send_at):
    response = await post_notify({"text": "x", "sendAt": send_at})

    assert response.status == 400
    assert response.body["detail"] == {"field": "sendAt"}


@pytest.mark.parametrize("send_at", ["2026-11-23T09:30:00z", "2026-11-23T08:56:00Z"])
async def test_a_lower_case_z_and_a_time_just_past_are_accepted(clock, channel, send_at):
    response = await post_notify({"text": "x", "sendAt": send_at})

    assert response.status == 202


async def test_a_scheduled_request_with_an_idempotency_key_is_stored_once(
    subscribers, clock, channel
):
    headers = {"Idempotency-Key": "schedule-1"}
    body = {"text": "Once", "sendAt": "2026-11-23T09:20:00Z"}

    first = await post_notify(body, headers)
    again = await post_notify(body, headers)
    clock.advance(minutes=30)
    await run_timer()
    await run_queued_work(get_app())

    assert (first.status, again.status) == (202, 202)
    assert again.body["id"] == first.body["id"]
    assert len(channel.received) == 2


async def test_the_broadcast_goes_out_once_per_slot_of_its_own_schedule(
    subscribers, clock, channel
):
    await run_timer()  # 09:00: not a broadcast slot
    await run_queued_work(get_app())
    before_noon = list(channel.received)
    clock.advance(hours=3, seconds=20)  # 12:00:20, the noon slot
    await asyncio.gather(run_timer(), run_timer())
    clock.advance(minutes=1)
    await run_timer()
    await run_queued_work(get_app())

    assert before_noon == []
    assert sorted(r.conversation_id for r in channel.received) == subscribers
    assert {r.activity["text"] for r in channel.received} == {"Daily reminder: stand-up at 10:00."}
