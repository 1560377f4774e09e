"""Large audiences go through the work queue: 202 at once, every target one outcome, exportable,
cancellable, and nothing lost to a poisoned item."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from datetime import timedelta

import azure.functions as func
import pytest

import notify_queue
from shared.app import App
from shared.sending.cancellation import CHECK_EVERY_SECONDS
from testbed.activities import activity
from tests.support.functions import (
    all_targets,
    cancel,
    get_status,
    get_targets,
    post_activity,
    post_notify,
)
from tests.support.references import store_conversations
from tests.support.work_queue import queued_messages, run_expansion_only, run_queued_work

TENANTS = [f"tenant-{n}" for n in range(5)]


@pytest.fixture
async def queued_app(app_with) -> App:
    """Inline up to 10 targets; no per-tenant rate limit, so the tests are quick."""
    return await app_with(NOTIFY_INLINE_MAX_TARGETS=10, NOTIFY_MAX_RPS_PER_TENANT=0)


async def everyone_in(app: App, channel, per_tenant: int) -> list[str]:
    ids = []
    for tenant in TENANTS:
        tenant_ids = [f"{tenant}-conv-{n:04d}" for n in range(per_tenant)]
        await store_conversations(app, channel.url, tenant_ids, tenant_id=tenant)
        ids += tenant_ids
    return ids


async def test_a_large_audience_is_answered_202_at_once_and_sent_through_the_queue(
    queued_app, channel
):
    ids = await everyone_in(queued_app, channel, per_tenant=1000)

    started = time.monotonic()
    response = await post_notify({"text": "To all 5,000"})
    answered_in = time.monotonic() - started

    assert response.status == 202
    assert response.headers["Location"] == f"/api/notify/{response.body['id']}"
    assert answered_in < 1.0
    assert channel.received == []
    # Its first window was split within the request: that work waits on the queue.
    assert (await get_status(response.body["id"])).body["state"] == "sending"

    await run_queued_work(queued_app, timeout=120)

    sent_to = [r.conversation_id for r in channel.received]
    assert sorted(sent_to) == sorted(ids)  # each exactly once
    status = (await get_status(response.body["id"])).body
    assert status["state"] == "done"
    assert status["counts"] == {
        "matched": 5000, "sent": 5000, "failed": 0, "removed": 0, "suspended": 0,
        "skipped": 0, "cancelled": 0, "pending": 0,
    }  # fmt: skip
    assert status["startedAt"] <= status["finishedAt"]
    outcomes = await all_targets(response.body["id"])
    assert sorted(o["conversationId"] for o in outcomes) == sorted(ids)
    activity_ids = {r.conversation_id: r.activity_id for r in channel.received}
    assert all(o["activityId"] == activity_ids[o["conversationId"]] for o in outcomes)
    assert {o["status"] for o in outcomes} == {200}


async def test_up_to_the_inline_limit_the_answer_is_the_full_report_as_before(queued_app, channel):
    await store_conversations(queued_app, channel.url, [f"c{n}" for n in range(10)])

    response = await post_notify({"text": "small"})

    assert response.status == 200
    assert (response.body["matched"], response.body["sent"]) == (10, 10)
    assert await queued_messages(queued_app) == 0


async def test_one_past_the_inline_limit_is_queued(queued_app, channel):
    await store_conversations(queued_app, channel.url, [f"c{n}" for n in range(11)])

    response = await post_notify({"text": "eleven"})
    await run_queued_work(queued_app)

    assert response.status == 202
    assert len(channel.received) == 11


async def test_failures_and_removals_are_recorded_and_exported_by_kind(queued_app, channel):
    await store_conversations(queued_app, channel.url, [f"c{n:02d}" for n in range(20)])
    channel.answer("c03", 403, "BotNotInConversationRoster")
    channel.answer("c07", 400, "BadArgument", "bad card")

    response = await post_notify({"text": "mixed"})
    await run_queued_work(queued_app)

    failed = await all_targets(response.body["id"], outcome="failed")
    removed = await all_targets(response.body["id"], outcome="removed")
    assert [(r["conversationId"], r["status"]) for r in failed] == [("c07", 400)]
    assert [(r["conversationId"], r["status"]) for r in removed] == [("c03", 403)]
    counts = (await get_status(response.body["id"])).body["counts"]
    assert (counts["sent"], counts["failed"], counts["removed"]) == (18, 1, 1)


async def test_the_export_is_csv_when_asked_for(queued_app, channel):
    await store_conversations(queued_app, channel.url, [f"c{n:02d}" for n in range(15)])
    response = await post_notify({"text": "audit me"})
    await run_queued_work(queued_app)

    first = await get_targets(response.body["id"], accept="text/csv", limit="10")
    rest = await get_targets(
        response.body["id"], accept="text/csv", continuation=first.headers["X-Continuation"]
    )

    assert first.headers["Content-Type"].startswith("text/csv")
    rows = [*csv.DictReader(io.StringIO(first.body)), *csv.DictReader(io.StringIO(rest.body))]
    assert sorted(r["conversationId"] for r in rows) == [f"c{n:02d}" for n in range(15)]
    assert {r["outcome"] for r in rows} == {"sent"}
    assert "X-Continuation" not in rest.headers


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"outcome": "lost"}, "outcome"),
        ({"limit": "0"}, "limit"),
        ({"continuation": "!!"}, "continuation"),
    ],
)
async def test_a_bad_export_query_is_a_400_naming_the_field(queued_app, channel, params, field):
    await store_conversations(queued_app, channel.url, [f"c{n:02d}" for n in range(11)])
    response = await post_notify({"text": "x"})

    answer = await get_targets(response.body["id"], **params)

    assert answer.status == 400
    assert answer.body["detail"] == {"field": field}


async def test_a_reference_deleted_before_its_turn_is_skipped(queued_app, channel):
    await store_conversations(queued_app, channel.url, [f"c{n:02d}" for n in range(12)])
    response = await post_notify({"text": "x"})
    assert await run_expansion_only(queued_app) == 1
    await queued_app.store.delete("msteams", "c05")

    await run_queued_work(queued_app)

    counts = (await get_status(response.body["id"])).body["counts"]
    assert (counts["sent"], counts["skipped"], counts["pending"]) == (11, 1, 0)
    [skipped] = await all_targets(response.body["id"], outcome="skipped")
    assert skipped["conversationId"] == "c05"


async def expand_only(message: func.QueueMessage, work: func.Out[str]) -> None:
    """Run expand items; leave chunk items on the queue (as if no instance had got to them)."""
    if b'"kind":"expand"' in message.get_body():
        await notify_queue.main(message, work)
    else:
        raise RuntimeError("not now")


async def test_cancel_stops_new_sends_and_keeps_what_was_sent(queued_app, channel):
    await store_conversations(queued_app, channel.url, [f"c{n:03d}" for n in range(300)])
    for n in range(300):
        channel.answer(f"c{n:03d}", 201, delay_seconds=0.2)
    response = await post_notify({"text": "stop me"})
    notification_id = response.body["id"]

    work = asyncio.create_task(run_queued_work(queued_app))
    while len(channel.received) < 20:  # noqa: ASYNC110 - the stub records on its own thread
        await asyncio.sleep(0.05)
    cancelled = await cancel(notification_id)
    cancelled_at = time.monotonic()
    await work

    assert cancelled.status == 200
    assert cancelled.body["state"] == "cancelled"
    status = (await get_status(notification_id)).body
    counts = status["counts"]
    assert status["state"] == "cancelled"
    assert counts["sent"] + counts["cancelled"] == counts["matched"] == 300
    assert counts["pending"] == 0
    assert len(channel.received) == counts["sent"] < 300
    # Every run sees the cancel within CHECK_EVERY_SECONDS; no send starts after that.
    last_start = max(r.at for r in channel.received)
    assert last_start <= cancelled_at + CHECK_EVERY_SECONDS + 0.2


@pytest.mark.parametrize("windows_split_before", [0, 1])
async def test_what_a_cancel_leaves_unsplit_is_recorded_cancelled_and_counted(
    queued_app, channel, windows_split_before
):
    ids = [f"c{n:04d}" for n in range(2500)]  # three pages of the audience: two windows
    await store_conversations(queued_app, channel.url, ids)
    notification_id = (await post_notify({"text": "never mind"})).body["id"]
    await run_expansion_only(queued_app, windows=windows_split_before)

    cancelled = await cancel(notification_id)
    await run_queued_work(queued_app)

    assert cancelled.status == 200
    status = (await get_status(notification_id)).body
    assert status["state"] == "cancelled"
    assert status["counts"]["matched"] == status["counts"]["cancelled"] == 2500
    assert status["counts"]["pending"] == 0
    assert status["startedAt"] <= status["finishedAt"]
    assert channel.received == []
    rows = await all_targets(notification_id)
    assert sorted(r["conversationId"] for r in rows) == ids
    assert {r["outcome"] for r in rows} == {"cancelled"}


async def test_cancelling_what_is_done_is_a_409_and_an_unknown_id_a_404(queued_app, channel):
    await store_conversations(queued_app, channel.url, ["c1"])
    response = await post_notify({"text": "inline"})

    done = await cancel(response.body["id"])
    unknown = await cancel("0" * 32)

    assert done.status == 409
    assert done.body["detail"] == {"state": "done"}
    assert unknown.status == 404


async def test_a_poisoned_chunk_leaves_its_targets_failed_and_visible(queued_app, channel):
    await store_conversations(queued_app, channel.url, [f"c{n:02d}" for n in range(12)])
    response = await post_notify({"text": "x"})

    await run_queued_work(queued_app, work=expand_only, visibility_timeout=timedelta(0))

    status = (await get_status(response.body["id"])).body
    assert status["state"] == "done"
    assert (status["counts"]["failed"], status["counts"]["pending"]) == (12, 0)
    failed = await all_targets(response.body["id"], outcome="failed")
    assert all(r["error"].startswith("WorkItemPoisoned") for r in failed)
    assert channel.received == []


async def test_tenants_whose_conversation_keys_cluster_are_sent_to_in_parallel(app_with, channel):
    # Each tenant's conversations sort together, so key order alone would put one tenant's
    # chunks first and leave the instance waiting on that tenant's 50 per second.
    app = await app_with(NOTIFY_INLINE_MAX_TARGETS=0, NOTIFY_MAX_RPS_PER_TENANT=50)
    tenants = ("tenant-a", "tenant-b", "tenant-c", "tenant-d")
    for tenant in tenants:
        ids = [f"{tenant}-conv-{n:04d}" for n in range(600)]
        await store_conversations(app, channel.url, ids, tenant_id=tenant)
    response = await post_notify({"text": "to four tenants"})

    work = asyncio.create_task(run_queued_work(app, timeout=120))
    while not channel.received or time.monotonic() - channel.received[0].at < 1.5:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    first_send = channel.received[0].at
    early = [r for r in channel.received if r.at <= first_send + 1.5]
    await cancel(response.body["id"])
    await work

    assert {r.conversation_id.rsplit("-conv-", 1)[0] for r in early} == set(tenants)


async def test_a_conversation_that_unsubscribes_mid_broadcast_gets_nothing_after_its_stop(
    app_with, channel
):
    app = await app_with(NOTIFY_INLINE_MAX_TARGETS=0, NOTIFY_MAX_RPS_PER_TENANT=50)
    ids = [f"c{n:03d}" for n in range(300)]  # one tenant: six seconds at 50 a second
    await store_conversations(app, channel.url, ids)
    response = await post_notify({"text": "news"})

    def news() -> list:
        return [r for r in channel.received if r.activity.get("text") == "news"]

    work = asyncio.create_task(run_queued_work(app, timeout=120))
    while len(news()) < 50:  # noqa: ASYNC110 - the stub records on its own thread
        await asyncio.sleep(0.05)
    reached = {r.conversation_id for r in news()}
    leaving = [c for c in ids if c not in reached][-100:]
    for conversation in leaving:
        stop = activity(channel.url, conversation, text="stop")
        assert (await post_activity(stop)).status == 200
    stopped_at = time.monotonic()
    await work

    late = [r for r in news() if r.conversation_id in leaving and r.at > stopped_at + 1.2]
    assert late == []
    counts = (await get_status(response.body["id"])).body["counts"]
    assert counts["sent"] + counts["skipped"] == 300
    assert counts["skipped"] >= 10  # most of those whose turn had not come by then
    skipped = {
        t["conversationId"] for t in await all_targets(response.body["id"], outcome="skipped")
    }
    assert skipped <= set(leaving)
