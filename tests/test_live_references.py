"""Whether a target is still subscribed at its turn: a view of the waiting targets, read again
once a second, that a slow read never holds every send behind."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from shared.app import App
from shared.delivery.live_references import MAX_AGE_SECONDS, LiveReferences
from shared.storage.reference_store import ReferenceStore
from tests.support.references import store_conversations, stored_references


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class GatedStore(ReferenceStore):
    """The app's store, whose re-reads wait until the test opens the gate (a read of a large
    audience that takes a while)."""

    def __init__(self, store: ReferenceStore) -> None:
        self.__dict__.update(store.__dict__)
        self.gate = asyncio.Event()
        self.reads = 0

    async def existing_keys(self, partition_key: str, row_keys: Sequence[str]) -> set[str]:
        self.reads += 1
        await self.gate.wait()
        return await super().existing_keys(partition_key, row_keys)


async def test_a_target_deleted_since_the_last_read_is_gone_at_its_turn(app: App, channel) -> None:
    await store_conversations(app, channel.url, ["a", "b"])
    targets = {t.conversation_id: t for t in await stored_references(app)}
    clock = Clock()
    live = LiveReferences(app.store, targets.values(), clock)

    await app.store.delete("msteams", "b")
    assert await live.still_there(targets["a"])  # the view is fresh: not read again
    clock.now += MAX_AGE_SECONDS

    assert not await live.still_there(targets["b"])


async def test_while_one_target_waits_for_a_slow_read_the_others_go_on_the_last_view(
    app: App, channel
) -> None:
    await store_conversations(app, channel.url, ["a", "b", "c"])
    targets = {t.conversation_id: t for t in await stored_references(app)}
    store, clock = GatedStore(app.store), Clock()
    live = LiveReferences(store, targets.values(), clock)
    clock.now += MAX_AGE_SECONDS

    reading = asyncio.create_task(live.still_there(targets["a"]))
    await asyncio.sleep(0.05)
    others = await asyncio.wait_for(
        asyncio.gather(live.still_there(targets["b"]), live.still_there(targets["c"])), 1
    )
    store.gate.set()

    assert others == [True, True]
    assert await reading is True
    assert store.reads == 1
