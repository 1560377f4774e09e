"""A blip in Table Storage never sends anyone a message twice, and never strands a notification.

Table Storage is reached through a proxy that, on cue, drops a connection after passing the
request on (the write lands, its answer is lost: azure-core does not try a POST again), drops it
before, or answers 503. Every target still ends with exactly one outcome, each person gets the
message once, and the status converges to done.
"""

from __future__ import annotations

from collections import Counter

import pytest

from devhost.azurite import Azurite, connection_string
from shared.app import App
from testbed.counting_proxy import CountingProxy
from tests.support.functions import all_targets, get_status, post_notify
from tests.support.references import store_conversations
from tests.support.work_queue import run_queued_work

CONVERSATIONS = [f"blip-{n:03}" for n in range(300)]  # two chunks of the queue path


@pytest.fixture
async def blippy_app(app_with, azurite: Azurite, table_proxy: CountingProxy) -> App:
    """A queue-path app whose tables are reached through the faulty proxy."""
    storage = connection_string({"table": table_proxy.port, "queue": azurite.ports["queue"]})
    return await app_with(AzureWebJobsStorage=storage, NOTIFY_INLINE_MAX_TARGETS="0")


async def notify_everyone(app: App, channel) -> str:
    await store_conversations(app, channel.url, CONVERSATIONS)
    accepted = await post_notify({"text": "maintenance at noon"})
    assert accepted.status == 202
    return accepted.body["id"]


def deliveries(channel) -> Counter:
    return Counter(r.conversation_id for r in channel.received if r.status == 200)


@pytest.mark.parametrize("drop", ["after", "before", ""])
async def test_a_lost_outcome_transaction_is_tried_again_and_nobody_gets_it_twice(
    blippy_app, table_proxy, channel, drop
):
    notification_id = await notify_everyone(blippy_app, channel)
    table_proxy.fail("$batch", times=2, drop=drop)  # the first outcome writes meet it

    await run_queued_work(blippy_app)

    assert table_proxy.faults_met == 2
    assert deliveries(channel) == Counter(CONVERSATIONS)  # each once
    targets = await all_targets(notification_id)
    assert sorted(t["conversationId"] for t in targets) == CONVERSATIONS
    assert {t["outcome"] for t in targets} == {"sent"}
    status = (await get_status(notification_id)).body
    assert (status["state"], status["counts"]["sent"], status["counts"]["pending"]) == (
        "done",
        300,
        0,
    )


async def test_a_run_whose_outcomes_cannot_be_written_stops_sending_and_its_rerun_finishes(
    blippy_app, table_proxy, channel
):
    notification_id = await notify_everyone(blippy_app, channel)
    # Longer than a run tries, twice (its writes, then its last flush on the way out): the
    # run fails, its sends stop, and the host runs it again.
    table_proxy.fail("$batch", drop="", seconds=9)

    await run_queued_work(blippy_app)

    sent = deliveries(channel)
    assert set(sent) == set(CONVERSATIONS)
    targets = await all_targets(notification_id)
    assert sorted(t["conversationId"] for t in targets) == CONVERSATIONS  # one outcome each
    status = (await get_status(notification_id)).body
    assert (status["state"], status["counts"]["sent"], status["counts"]["pending"]) == (
        "done",
        300,
        0,
    )
    # What the failed run sent but could not record is all the rerun repeats, and each such
    # target, and the status, says it may have had the message twice.
    repeated = {c for c, n in sent.items() if n > 1}
    assert max(sent.values()) <= 2
    flagged = {t["conversationId"] for t in targets if t["possibleDuplicate"]}
    assert repeated
    assert repeated <= flagged
    assert status["counts"]["possibleDuplicates"] == len(flagged)


async def test_an_insert_whose_answer_was_lost_is_not_taken_for_someone_elses(
    blippy_app, table_proxy, channel
):
    await store_conversations(blippy_app, channel.url, CONVERSATIONS[:5])
    table_proxy.fail(blippy_app.settings.notifications_table, times=1, drop="after")

    accepted = await post_notify({"text": "hello"})

    assert accepted.status == 202
    assert table_proxy.faults_met == 1
    await run_queued_work(blippy_app)
    assert deliveries(channel) == Counter(CONVERSATIONS[:5])
