"""The references again, by tenant: a `to.tenantIds` audience reads its tenants' rows, no others.

The references table has one partition per channel, so a filter on TenantId has Table Storage
read every reference of the channel to find one tenant's: 40,000 targets in 20 tenants beside
20,000 others were split a few thousand at a time, and sent at a fifth of what the tenants could
take. Here each reference with a tenant is copied whole (the same properties, its reference JSON
untouched) into the partition "<tenant key>.<channel key>": a tenant's rows are one key range,
read in key order and cut into chunks of one partition each, every tenant side by side.

ReferenceStore keeps each copy in step with its row: a save writes the copy first, a deletion
removes it first, a mark goes to both. References stored before the index existed are copied by
the timer, a few pages a run (`build`); until the index says it is complete, tenant audiences are
read from the references table as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from shared.storage.deletion_log import Deletion, DeletionLog
from shared.storage.keys import MAX_KEY_LENGTH, InvalidKeyError, decode_key, encode_key
from shared.storage.string_queries import quoted, string_page
from shared.storage.tables import MAX_TRANSACTION_OPERATIONS, RowExistsError, Table, etag_of
from shared.storage.transactions import Insert, TransactionRejected, submit

logger = logging.getLogger(__name__)

# Not a character of an encoded key (URL-safe base64), and "/" sorts right after it: a tenant's
# partitions are exactly the keys from "<tenant key>." up to "<tenant key>/".
SEPARATOR = "."
# How far the copying of older references got: "!" sorts before every encoded key, so no
# tenant's range holds this row.
STATE_PARTITION, STATE_ROW = "!index", "state"
# Tenants read side by side in one round of an audience; the rest start as these run out. Two
# instances hold about this many chunks at once: more tenants open would not send sooner.
TENANTS_AT_ONCE = 50
READS_AT_ONCE = 8
# Pages of the references table one timer run copies: seconds of work, 20,000 references.
PAGES_PER_BUILD = 20
# A deletion is logged before the rows it removes: one logged this long before a page was read
# may still have been on that page.
DELETION_LEAD = timedelta(minutes=5)
# Where a cursor over an audience's tenants keeps its state (a Table continuation never has it).
CURSOR = "tenants"

Cursor = dict[str, Any]


def index_partition(tenant_id: str, channel_id: str) -> str:
    return f"{encode_key(tenant_id)}{SEPARATOR}{encode_key(channel_id)}"


def channel_of(partition_key: str) -> str:
    """The channel of a reference's partition, in the references table or in the index."""
    return decode_key(partition_key.rpartition(SEPARATOR)[2])


def in_index(partition_key: str) -> bool:
    return SEPARATOR in partition_key


def indexable(tenant_id: str, channel_id: str = "") -> bool:
    """Whether references of this tenant (on this channel) have copies here: both ids take at
    most half a key (Teams tenant ids are GUIDs, channel ids short names)."""
    try:
        return all(len(encode_key(i)) < MAX_KEY_LENGTH // 2 for i in (tenant_id, channel_id or "-"))
    except InvalidKeyError:
        return False


def is_cursor(continuation: Mapping[str, Any] | None) -> bool:
    return continuation is not None and CURSOR in continuation


class TenantIndex:
    def __init__(self, table: Table, references: Table) -> None:
        self._table = table
        self._references = references
        self._complete = False

    @property
    def table(self) -> Table:
        return self._table

    async def complete(self) -> bool:
        """Whether every reference with a tenant has its copy here. Once so, so for good (every
        write since keeps the copies), so a process asks once."""
        if not self._complete:
            row = await self._table.get(STATE_PARTITION, STATE_ROW, select=["Complete"])
            self._complete = bool(row and row.get("Complete"))
        return self._complete

    async def put(self, entity: Mapping[str, Any]) -> None:
        """Write the copy of a reference's row (the whole row, as it is about to be stored)."""
        if (copy := _copy(entity)) is not None:
            await self._table.upsert(copy)

    async def remove(self, tenant_id: str, channel_id: str, row_key: str) -> None:
        if indexable(tenant_id, channel_id):
            await self._table.delete(index_partition(tenant_id, channel_id), row_key)

    async def mark(self, tenant_id: str, channel_id: str, properties: Mapping[str, Any]) -> None:
        """Merge a reference's mark (its RowKey and the marked properties) into its copy."""
        if indexable(tenant_id, channel_id):
            partition = index_partition(tenant_id, channel_id)
            await self._table.merge_if_there({**properties, "PartitionKey": partition})

    async def audience_round(
        self,
        tenants: Sequence[str],
        columns: Sequence[str],
        cursor: Cursor | None,
        rows_per_tenant: int,
    ) -> tuple[list[dict[str, str]], Cursor | None]:
        """One round over an audience's tenants (sorted; every one `indexable`): up to
        `rows_per_tenant` rows of each open tenant, the next tenants opened as earlier ones run
        out, at most TENANTS_AT_ONCE at a time; and the cursor of the next round (None: done)."""
        state = cursor[CURSOR] if cursor else {"next": 0, "open": []}
        opened, running = int(state["next"]), [tuple(t) for t in state["open"]]
        while len(running) < TENANTS_AT_ONCE and opened < len(tenants):
            running.append((tenants[opened], None))
            opened += 1
        slots = asyncio.Semaphore(READS_AT_ONCE)

        async def read(tenant: str, token: dict[str, str] | None) -> Any:
            async with slots:
                return await string_page(
                    self._table, _tenant_range(tenant), columns, token, rows_per_tenant
                )

        pages = await asyncio.gather(*(read(tenant, token) for tenant, token in running))
        rows = [row for page, _ in pages for row in page]
        still_running = [
            [tenant, following]
            for (tenant, _), (_, following) in zip(running, pages, strict=True)
            if following is not None
        ]
        if not still_running and opened >= len(tenants):
            return rows, None
        return rows, {CURSOR: {"next": opened, "open": still_running}}

    async def build(self, deletions: DeletionLog, clock: Callable[[], datetime]) -> bool:
        """Copy the next PAGES_PER_BUILD pages of the references table; True once every
        reference is.

        A copy already here was written by a save since, and is newer: it is kept. A reference
        deleted while its page was being copied may have lost its copy before the copy was
        made: the deletion log says which, and those copies are removed again.
        """
        state = await self._table.get(STATE_PARTITION, STATE_ROW)
        if state is not None and state.get("Complete"):
            self._complete = True
            return True
        etag = etag_of(state) if state is not None else None
        continuation = json.loads(state["Continuation"]) if state is not None else None
        for _ in range(PAGES_PER_BUILD):
            read_at = clock()
            rows, continuation = await self._references.query_page(None, continuation=continuation)
            copies = [copy for row in rows if (copy := _copy(row)) is not None]
            await self._insert_missing(copies)
            await self._drop_deleted(copies, await deletions.since(read_at - DELETION_LEAD))
            etag = await self._save_progress(etag, continuation)
            if etag is None:
                return False  # another run is copying: it goes on from where it got
            if continuation is None:
                self._complete = True
                logger.info("Tenant index complete: every reference has its copy")
                return True
        return False

    async def _insert_missing(self, copies: list[dict[str, Any]]) -> None:
        by_partition: dict[str, list[dict[str, Any]]] = {}
        for copy in copies:
            by_partition.setdefault(copy["PartitionKey"], []).append(copy)
        slots = asyncio.Semaphore(READS_AT_ONCE)

        async def insert(batch: list[dict[str, Any]]) -> None:
            async with slots:
                while batch:
                    try:
                        await submit(self._table, [Insert(copy) for copy in batch])
                        return
                    except TransactionRejected as rejected:
                        if rejected.status_code != 409:
                            raise
                        if rejected.index is None:
                            await _insert_each(self._table, batch)
                            return
                        del batch[rejected.index]  # copied by a save since: newer, kept

        await asyncio.gather(
            *(
                insert(rows[start : start + MAX_TRANSACTION_OPERATIONS])
                for rows in by_partition.values()
                for start in range(0, len(rows), MAX_TRANSACTION_OPERATIONS)
            )
        )

    async def _drop_deleted(
        self, copies: list[dict[str, Any]], deletions: Sequence[Deletion]
    ) -> None:
        deleted = {(d.partition_key, d.row_key) for d in deletions}
        for copy in copies:
            if (encode_key(copy["ChannelId"]), copy["RowKey"]) in deleted:
                await self._table.delete(copy["PartitionKey"], copy["RowKey"])

    async def _save_progress(
        self, etag: str | None, continuation: dict[str, str] | None
    ) -> str | None:
        """Record where the next page starts; the new ETag, or None if another run moved on."""
        state = {
            "PartitionKey": STATE_PARTITION,
            "RowKey": STATE_ROW,
            "Continuation": json.dumps(continuation),
            "Complete": continuation is None,
        }
        if etag is None:
            try:
                return await self._table.insert(state)
            except RowExistsError:
                return None
        return await self._table.update_if_unchanged(state, etag)


async def _insert_each(table: Table, copies: list[dict[str, Any]]) -> None:
    for copy in copies:
        with suppress(RowExistsError):  # copied by a save since: newer, kept
            await table.insert(copy)


def _copy(entity: Mapping[str, Any]) -> dict[str, Any] | None:
    """The index's copy of a reference row, or None for a reference without a tenant."""
    tenant_id = entity.get("TenantId") or ""
    channel_id = entity.get("ChannelId") or channel_of(entity["PartitionKey"])
    if not indexable(tenant_id, channel_id):
        return None
    partition = index_partition(tenant_id, channel_id)
    return {**entity, "ChannelId": channel_id, "PartitionKey": partition}


def _tenant_range(tenant_id: str) -> str:
    key = encode_key(tenant_id)
    return f"PartitionKey ge {quoted(key + SEPARATOR)} and PartitionKey lt {quoted(key + '/')}"
