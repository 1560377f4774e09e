"""A chunk held by an instance that died shows in the status as `stalled`, with by when the host
hands its item to another; once another takes it over, the status converges. A chunk still being
worked on never shows as stalled, however long its sends wait: its run writes its claim row."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta, timezone

from azure.functions.queue import QueueMessage
from azure.storage.queue import TextBase64DecodePolicy
from azure.storage.queue.aio import QueueClient

import notify_queue
from devhost.outputs import OutputValue
from shared.app import get_app
from shared.engagement.sent_index import SentIndex
from shared.notifications.lifecycle import State
from shared.notifications.notification_store import Notification
from shared.notifications.outcome_store import HEARTBEAT_SECONDS, OutcomeStore
from shared.notifications.outcome_writer import OutcomeWriter
from shared.notifications.progress import HOST_LEASE, QUIET_AFTER, progress
from shared.storage.tables import Table
from tests.support.functions import get_status, post_notify
from tests.support.references import store_conversations
from tests.support.work_queue import run_queued_work

AUDIENCE = [f"c{n:03d}" for n in range(300)]  # over the inline limit: through the queue


async def a_chunk_taken_by_an_instance_that_dies(app, channel) -> str:
    """POST a notification; an instance takes one of its chunks and dies mid-send (its run is
    cut off, as a kill leaves it): its claim row is written, its queue message hidden."""
    await store_conversations(app, channel.url, AUDIENCE)
    for conversation in AUDIENCE:
        channel.answer(conversation, 201, delay_seconds=5)
    notification_id = (await post_notify({"text": "x"})).body["id"]
    client = QueueClient.from_connection_string(
        app.settings.storage_connection_string,
        app.settings.notify_queue,
        message_decode_policy=TextBase64DecodePolicy(),
    )
    async with client:
        async for message in client.receive_messages(visibility_timeout=1):
            if json.loads(message.content)["kind"] == "chunk":
                break
    body = message.content.encode("utf-8")
    run = asyncio.create_task(
        notify_queue.main(QueueMessage(id=message.id, body=body, dequeue_count=1), OutputValue())
    )
    await asyncio.sleep(0.5)  # claimed, sends out and waiting on the channel
    run.cancel()
    await asyncio.gather(run, return_exceptions=True)
    channel.reset()  # from now on the channel answers at once
    return notification_id


async def test_a_chunk_whose_instance_died_shows_as_stalled_until_it_is_taken_over(clock, channel):
    app = get_app()
    claimed_at = clock()
    notification_id = await a_chunk_taken_by_an_instance_that_dies(app, channel)

    clock.advance(seconds=QUIET_AFTER.total_seconds() - 1)
    assert "stalled" not in (await get_status(notification_id)).body
    clock.advance(seconds=2)
    status = (await get_status(notification_id)).body

    assert status["state"] == "sending"
    assert status["stalled"] == {
        "chunks": 1,
        "quietSince": claimed_at.isoformat(),
        "resumesBy": (claimed_at + timedelta(seconds=HEARTBEAT_SECONDS) + HOST_LEASE).isoformat(),
    }
    await run_queued_work(app)  # the host hands the hidden item on: another run takes it over
    status = (await get_status(notification_id)).body
    assert (status["state"], status["counts"]["pending"]) == ("done", 0)
    assert "stalled" not in status


async def test_a_run_whose_sends_wait_long_writes_its_claim_row_and_is_not_stalled(azurite):
    table = Table.from_connection_string(azurite.connection_string, "s" + uuid.uuid4().hex[:16])
    outcomes = OutcomeStore(table)
    start = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
    now = start
    writer = OutcomeWriter(outcomes, SentIndex(table), lambda: now)
    working = writer.recorder("n1", await outcomes.claim_chunk("n1", "c0", now, False), 5)
    await outcomes.claim_chunk("n1", "c1", now, take_over=False)  # its instance died

    # Its sends wait on the channel: what its run does every HEARTBEAT_SECONDS meanwhile.
    now = start + timedelta(seconds=HEARTBEAT_SECONDS)
    await working.keep_alive()
    now = start + QUIET_AFTER + timedelta(seconds=1)

    record = Notification(id="n1", state=State.QUEUED, request={}, created_at=start, matched=10)
    status = progress(record, await outcomes.totals("n1"), now)
    assert status["stalled"]["chunks"] == 1  # the dead one's only
    assert status["stalled"]["quietSince"] == start.isoformat()
    assert not working.lost  # its claim is still its own
    await table.close()
