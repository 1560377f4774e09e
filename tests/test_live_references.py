"""Whether a target is still subscribed at its turn: the references deleted since its fan-out
read them, as the deletion log tells them, read again once a second by one view per process, a
read no send but the one that started it waits for."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone

import pytest
from azure.data.tables.aio import TableClient

from shared.app import App
from shared.delivery.clocks import CLOCK_SKEW_SECONDS
from shared.delivery.live_references import MAX_AGE_SECONDS, LiveReferences
from shared.storage.deletion_log import RETENTION, Deletion, DeletionLog
from shared.storage.tables import Table
from tests.support.references import store_conversations, stored_references

START = datetime(2026, 11, 23, 21, 59, 58, tzinfo=timezone.utc)


class Clocks:
    """A wall clock and a monotonic one, both moved by the test."""

    def __init__(self) -> None:
        self.wall = START
        self.seconds = 0.0

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.seconds += seconds


class CountedLog(DeletionLog):
    """A deletion log whose reads are counted, and wait for the test's gate (a slow read)."""

    def __init__(self, table: Table, clocks: Clocks) -> None:
        super().__init__(table, lambda: clocks.wall)
        self.gate = asyncio.Event()
        self.gate.set()
        self.reads = 0

    async def since(self, when: datetime) -> list[Deletion]:
        self.reads += 1
        await self.gate.wait()
        return await super().since(when)


@pytest.fixture
async def log(app_env: dict[str, str]):
    clocks = Clocks()
    name = "d" + uuid.uuid4().hex[:16]
    table = Table.from_connection_string(app_env["AzureWebJobsStorage"], name)
    log = CountedLog(table, clocks)
    log.clocks = clocks
    yield log
    await table.close()
    async with TableClient.from_connection_string(app_env["AzureWebJobsStorage"], name) as client:
        await client.delete_table()


def view(log: CountedLog) -> LiveReferences:
    return LiveReferences(log, lambda: log.clocks.wall, lambda: log.clocks.seconds)


async def test_a_target_deleted_after_its_fan_out_read_it_is_gone_at_its_turn(
    app: App, channel, log: CountedLog
) -> None:
    await store_conversations(app, channel.url, ["a", "b"])
    targets = {t.conversation_id: t for t in await stored_references(app)}
    live = view(log)

    with live.watching(log.clocks.wall) as watched:
        assert await watched.still_there(targets["a"])
        log.clocks.advance(0.5)
        await log.record(targets["b"].partition_key, targets["b"].row_key)
        assert await watched.still_there(targets["b"])  # the view is fresh: not read again
        log.clocks.advance(MAX_AGE_SECONDS)

        assert not await watched.still_there(targets["b"])
        assert await watched.still_there(targets["a"])
    assert log.reads == 2


async def test_one_deleted_before_the_read_and_saved_again_is_there(
    app: App, channel, log: CountedLog
) -> None:
    """ "stop", then "hi again", then a notification: the fan-out read found it subscribed."""
    await store_conversations(app, channel.url, ["a"])
    [target] = await stored_references(app)
    await log.record(target.partition_key, target.row_key)
    log.clocks.advance(CLOCK_SKEW_SECONDS + 0.5)
    live = view(log)

    with live.watching(log.clocks.wall) as watched:
        assert await watched.still_there(target)


async def test_a_deletion_within_the_clock_skew_of_the_read_counts_as_after_it(
    app: App, channel, log: CountedLog
) -> None:
    """Another instance's clock may be a little behind: when in doubt, the message is held."""
    await store_conversations(app, channel.url, ["a"])
    [target] = await stored_references(app)
    await log.record(target.partition_key, target.row_key)
    log.clocks.advance(CLOCK_SKEW_SECONDS / 2)
    live = view(log)

    with live.watching(log.clocks.wall) as watched:
        assert not await watched.still_there(target)


async def test_while_one_target_waits_for_a_slow_read_the_others_go_on_the_last_view(
    app: App, channel, log: CountedLog
) -> None:
    await store_conversations(app, channel.url, ["a", "b", "c"])
    targets = {t.conversation_id: t for t in await stored_references(app)}
    live = view(log)
    with live.watching(log.clocks.wall) as watched:
        assert await watched.still_there(targets["a"])
        log.gate.clear()
        log.clocks.advance(MAX_AGE_SECONDS)

        reading = asyncio.create_task(watched.still_there(targets["a"]))
        await asyncio.sleep(0.05)
        others = await asyncio.wait_for(
            asyncio.gather(watched.still_there(targets["b"]), watched.still_there(targets["c"])), 1
        )
        log.gate.set()

        assert others == [True, True]
        assert await reading is True
    assert log.reads == 2


async def test_the_fan_outs_of_one_process_share_each_read(
    app: App, channel, log: CountedLog
) -> None:
    """A queue instance runs dozens of chunks at once: one read a second serves them all."""
    await store_conversations(app, channel.url, [f"c{i:02}" for i in range(40)])
    targets = sorted(await stored_references(app), key=lambda t: t.row_key)
    chunks = [targets[i : i + 4] for i in range(0, 40, 4)]
    gone = [chunk[1] for chunk in chunks[::3]]
    live = view(log)

    with ExitStack() as fan_outs:
        watches = [fan_outs.enter_context(live.watching(log.clocks.wall)) for _ in chunks]
        for target in gone:
            await log.record(target.partition_key, target.row_key)
        log.clocks.advance(MAX_AGE_SECONDS)

        there = {
            t.conversation_id: await w.still_there(t)
            for w, chunk in zip(watches, chunks, strict=True)
            for t in chunk
        }

    assert log.reads == 1
    assert {c for c, present in there.items() if not present} == {t.conversation_id for t in gone}


async def test_the_log_reads_across_an_hour_and_drops_what_expired(log: CountedLog) -> None:
    await log.record("p", "before-the-hour")  # 21:59:58
    log.clocks.advance(4)
    await log.record("p", "after-the-hour")  # 22:00:02

    found = await log.since(START - timedelta(seconds=1))

    assert [d.row_key for d in found] == ["before-the-hour", "after-the-hour"]
    assert [d.at for d in found] == [START, START + timedelta(seconds=4)]
    assert [d.row_key for d in await log.since(START + timedelta(seconds=1))] == ["after-the-hour"]

    log.clocks.wall = START + RETENTION + timedelta(minutes=30)
    assert await log.drop_expired() == 1  # 21:00's hour has expired; 22:00's has not
    log.clocks.wall = START + timedelta(seconds=4)
    assert [d.row_key for d in await log.since(START - timedelta(hours=1))] == ["after-the-hour"]
