"""Whether a target is still subscribed at its turn: one view per process of every fan-out's
waiting targets, read again once a second in a few queries, that a slow read never holds every
send behind."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Collection, Iterable
from contextlib import ExitStack

from shared.app import App
from shared.delivery.live_references import MAX_AGE_SECONDS, LiveReferences
from shared.storage import reference_store
from shared.storage.reference_store import RANGES_PER_QUERY, ReferenceStore
from shared.storage.string_queries import string_rows
from shared.storage.tables import MAX_FILTER_COMPARISONS
from tests.support.references import store_conversations, stored_references


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class GatedStore(ReferenceStore):
    """The app's store, counting its re-reads, which wait until the test opens the gate (a read
    of a large audience that takes a while)."""

    def __init__(self, store: ReferenceStore, open: bool = False) -> None:
        self.__dict__.update(store.__dict__)
        self.gate = asyncio.Event()
        if open:
            self.gate.set()
        self.reads = 0

    async def existing_keys(self, partition_key: str, runs: Iterable[Collection[str]]) -> set[str]:
        self.reads += 1
        await self.gate.wait()
        return await super().existing_keys(partition_key, runs)


async def test_a_target_deleted_since_the_last_read_is_gone_at_its_turn(app: App, channel) -> None:
    await store_conversations(app, channel.url, ["a", "b"])
    targets = {t.conversation_id: t for t in await stored_references(app)}
    clock = Clock()
    live = LiveReferences(app.store, clock)

    with live.watching(targets.values()) as watched:
        await app.store.delete("msteams", "b")
        assert await watched.still_there(targets["a"])  # the view is fresh: not read again
        clock.now += MAX_AGE_SECONDS

        assert not await watched.still_there(targets["b"])


async def test_while_one_target_waits_for_a_slow_read_the_others_go_on_the_last_view(
    app: App, channel
) -> None:
    await store_conversations(app, channel.url, ["a", "b", "c"])
    targets = {t.conversation_id: t for t in await stored_references(app)}
    store, clock = GatedStore(app.store), Clock()
    live = LiveReferences(store, clock)

    with live.watching(targets.values()) as watched:
        clock.now += MAX_AGE_SECONDS
        reading = asyncio.create_task(watched.still_there(targets["a"]))
        await asyncio.sleep(0.05)
        others = await asyncio.wait_for(
            asyncio.gather(watched.still_there(targets["b"]), watched.still_there(targets["c"])), 1
        )
        store.gate.set()

        assert others == [True, True]
        assert await reading is True
    assert store.reads == 1


async def test_the_fan_outs_of_one_process_share_each_read(app: App, channel) -> None:
    """A queue instance runs dozens of chunks at once: one read a second serves them all."""
    await store_conversations(app, channel.url, [f"c{i:03}" for i in range(40)])
    targets = sorted(await stored_references(app), key=lambda t: t.row_key)
    chunks = [targets[i : i + 4] for i in range(0, 40, 4)]  # ten fan-outs, interleaved ranges
    store, clock = GatedStore(app.store, open=True), Clock()
    live = LiveReferences(store, clock)
    gone = [chunk[1] for chunk in chunks[::3]]

    with ExitStack() as fan_outs:
        watches = [fan_outs.enter_context(live.watching(chunk)) for chunk in chunks]
        for target in gone:
            await app.store.delete(target.channel_id, target.conversation_id)
        clock.now += MAX_AGE_SECONDS

        there = {
            t.conversation_id: await w.still_there(t)
            for w, chunk in zip(watches, chunks, strict=True)
            for t in chunk
        }

    assert store.reads == 1  # one partition; ten ranges take two queries within that read
    assert {c for c, present in there.items() if not present} == {t.conversation_id for t in gone}


async def test_a_read_asks_in_several_queries_when_the_ranges_outnumber_a_filters_limit(
    app: App, channel, monkeypatch
) -> None:
    ids = [f"r{i:03}" for i in range(3 * RANGES_PER_QUERY * 2)]
    await store_conversations(app, channel.url, ids)
    targets = sorted(await stored_references(app), key=lambda t: t.row_key)
    partition = targets[0].partition_key
    every_other = [[t.row_key] for t in targets[::2]]  # ranges that never touch
    deleted = targets[4]
    await app.store.delete(deleted.channel_id, deleted.conversation_id)

    filters: list[str] = []

    def recording(table, query_filter, columns):
        filters.append(query_filter)
        return string_rows(table, query_filter, columns)

    monkeypatch.setattr(reference_store, "string_rows", recording)
    found = await app.store.existing_keys(partition, every_other)

    assert found == {run[0] for run in every_other} - {deleted.row_key}
    assert len(filters) == 3  # 21 ranges, 7 to a query
    assert all(len(re.findall(r" (eq|ge|le) ", f)) <= MAX_FILTER_COMPARISONS for f in filters)
