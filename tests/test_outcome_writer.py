"""One writer per process: the outcomes of every chunk it sends, written a notification at a time.

The outcomes of several chunks go out together, as few transactions as they fit; no send starts
while a transaction's worth wait unwritten; a chunk taken over mid-way loses only its own
outcomes; and a chunk is done only once every outcome it owes is written.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest

from devhost.azurite import connection_string
from shared.delivery.outcomes import Outcome, TargetResult
from shared.engagement.sent_index import SentIndex
from shared.notifications.outcome_store import OutcomeStore
from shared.notifications.outcome_writer import UNRECORDED_LIMIT, OutcomeWriter
from shared.storage.tables import Table
from testbed.counting_proxy import CountingProxy

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
async def outcomes(table_proxy: CountingProxy) -> AsyncIterator[OutcomeStore]:
    """Outcomes in a table of their own, reached through a proxy that counts transactions."""
    table = Table.from_connection_string(
        connection_string({"table": table_proxy.port}), "w" + uuid.uuid4().hex[:16]
    )
    yield OutcomeStore(table)
    await table.close()


@pytest.fixture
async def index(azurite) -> AsyncIterator[SentIndex]:
    """The sent-message index, straight to Azurite: the proxy counts outcome transactions only."""
    table = Table.from_connection_string(azurite.connection_string, "i" + uuid.uuid4().hex[:16])
    yield SentIndex(table)
    await table.close()


def sent(conversation_id: str) -> TargetResult:
    return TargetResult("msteams", conversation_id, Outcome.SENT, activity_id="1")


def transactions(proxy: CountingProxy) -> int:
    return sum(1 for f in proxy.forwarded if f.resource == "$batch")


async def claimed(outcomes: OutcomeStore, writer: OutcomeWriter, chunk: str, expected: int):
    claim = await outcomes.claim_chunk("n1", chunk, NOW, take_over=False)
    assert claim is not None
    return writer.recorder("n1", claim, expected)


async def test_the_outcomes_of_several_chunks_are_written_in_one_transaction(
    index, outcomes, table_proxy
):
    writer = OutcomeWriter(outcomes, index, lambda: NOW)
    chunks = [await claimed(outcomes, writer, f"c{c}", 30) for c in range(3)]
    await outcomes.totals("n1")  # the table exists before counting starts
    table_proxy.reset()

    for position in range(30):
        for c, recorder in enumerate(chunks):
            await recorder.add(position, sent(f"c{c}-{position}"))
    await asyncio.gather(*(recorder.finish() for recorder in chunks))

    totals = await outcomes.totals("n1")
    assert (totals.counts[Outcome.SENT], totals.chunks_done) == (90, 3)
    # 90 outcomes and 3 claim rows fit one transaction; one chunk each would take three.
    assert transactions(table_proxy) == 1


async def test_a_full_transactions_worth_is_written_as_soon_as_it_is_in(
    index, outcomes, table_proxy
):
    writer = OutcomeWriter(outcomes, index, lambda: NOW)
    first, second = [await claimed(outcomes, writer, f"c{c}", 198) for c in range(2)]
    await outcomes.totals("n1")
    table_proxy.reset()

    for position in range(48):
        await first.add(position, sent(f"a-{position}"))
        await second.add(position, sent(f"b-{position}"))
    await first.add(48, sent("a-48"))
    assert (transactions(table_proxy), writer.unrecorded) == (
        0,
        97,
    )  # 97 rows and 2 claims: room left

    await second.add(48, sent("b-48"))  # 98 outcome rows and 2 claim rows: a full transaction

    assert (transactions(table_proxy), writer.unrecorded) == (1, 0)
    assert (await outcomes.totals("n1")).counts[Outcome.SENT] == 98


async def test_no_send_starts_while_a_transactions_worth_waits(index, outcomes, table_proxy):
    writer = OutcomeWriter(outcomes, index, lambda: NOW)
    recorder = await claimed(outcomes, writer, "c0", 198)
    await outcomes.totals("n1")
    table_proxy.reset()
    table_proxy.fail("$batch", drop="", seconds=0.6)  # the first writes meet 503s, tried again

    # The results of sends already out arrive while the write is being tried again.
    started = asyncio.get_running_loop().time()
    arriving = [
        asyncio.create_task(recorder.add(p, sent(f"c-{p}"))) for p in range(UNRECORDED_LIMIT + 20)
    ]
    await asyncio.sleep(0)
    assert writer.unrecorded >= UNRECORDED_LIMIT

    await recorder.room()  # what the next send waits for

    assert writer.unrecorded < UNRECORDED_LIMIT
    assert asyncio.get_running_loop().time() - started >= 0.5  # it waited out the outage
    assert (await outcomes.totals("n1")).counts[Outcome.SENT] >= UNRECORDED_LIMIT
    await asyncio.gather(*arriving)


async def test_a_chunk_taken_over_loses_only_its_own_outcomes(index, outcomes, table_proxy):
    writer = OutcomeWriter(outcomes, index, lambda: NOW)
    kept, taken = [await claimed(outcomes, writer, f"c{c}", 10) for c in range(2)]
    for position in range(10):
        await kept.add(position, sent(f"kept-{position}"))
        await taken.add(position, sent(f"taken-{position}"))
    # A redelivery of the second chunk takes it over before anything was written.
    assert await outcomes.claim_chunk("n1", "c1", NOW, take_over=True) is not None

    await asyncio.gather(kept.finish(), taken.finish())

    assert (kept.done, taken.lost) == (True, True)
    rows, _ = await outcomes.page("n1")
    assert sorted(r["conversationId"] for r in rows) == [f"kept-{p}" for p in range(10)]
    assert writer.unrecorded == 0


async def test_a_chunk_is_done_only_once_every_outcome_it_owes_is_written(index, outcomes):
    writer = OutcomeWriter(outcomes, index, lambda: NOW)
    recorder = await claimed(outcomes, writer, "c0", 3)
    await recorder.add(0, sent("a"))
    await recorder.add(1, sent("b"))

    await recorder.finish()  # one outcome short: written, not done

    totals = await outcomes.totals("n1")
    assert (totals.counts[Outcome.SENT], totals.chunks_done) == (2, 0)
    assert not recorder.done


async def test_a_failed_run_leaves_what_it_could_not_write_to_its_rerun(
    index, outcomes, table_proxy
):
    writer = OutcomeWriter(outcomes, index, lambda: NOW)
    recorder = await claimed(outcomes, writer, "c0", 5)
    for position in range(3):
        await recorder.add(position, sent(f"c-{position}"))
    table_proxy.fail("$batch", drop="", seconds=30)  # down for longer than every try

    with pytest.raises(Exception, match="503"):
        await recorder.flush()

    assert writer.unrecorded == 0  # nothing of it is written later, after its run ended
    table_proxy.reset()
    assert (await outcomes.totals("n1")).recorded == 0
