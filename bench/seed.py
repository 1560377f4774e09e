"""Stored references for the benchmark, written in batch transactions like a real table's rows."""

from __future__ import annotations

import asyncio
import hashlib
from contextlib import suppress
from datetime import datetime, timezone

from azure.core.exceptions import ResourceExistsError
from azure.data.tables.aio import TableClient
from botbuilder.schema import Activity

from shared.storage.references import StoredReference
from testbed.activities import activity

BATCH = 100  # the most one Table Storage transaction takes
PARALLEL_BATCHES = 8


def conversation_id(index: int, tenants: int, mixed: bool = False, first_tenant: int = 0) -> str:
    """`t<tenant>-conv-<index>`: in key order (the order an audience is read and cut into
    chunks) the conversations come tenant by tenant. `mixed` puts a digest of the index first,
    so tenants come mixed, as with real conversation ids, which have no order by tenant."""
    name = f"t{first_tenant + index % tenants}-conv-{index:06d}"
    if mixed:
        return hashlib.sha256(str(index).encode()).hexdigest()[:8] + "-" + name
    return name


def tenant_of(conversation: str) -> str:
    # The digest is hex: the last "t" before "-conv-" starts the tenant.
    return "tenant-" + conversation.split("-conv-", 1)[0].rsplit("t", 1)[1]


async def seed(
    connection_string: str,
    table_name: str,
    service_url: str,
    n: int,
    tenants: int,
    mixed: bool = False,
    *,
    first: int = 0,
    first_tenant: int = 0,
):
    """References `first` to `first` + n - 1, in tenants `first_tenant` onwards."""
    seen = datetime.now(timezone.utc)
    async with TableClient.from_connection_string(connection_string, table_name) as table:
        with suppress(ResourceExistsError):  # a second batch in the same table
            await table.create_table()
        slots = asyncio.Semaphore(PARALLEL_BATCHES)

        async def write(start: int) -> None:
            operations = []
            for index in range(start, min(start + BATCH, first + n)):
                conversation = conversation_id(index, tenants, mixed, first_tenant)
                inbound = activity(
                    service_url,
                    conversation,
                    user_id=f"29:user-{index}",
                    tenant_id=tenant_of(conversation),
                )
                stored = StoredReference.from_activity(Activity().deserialize(inbound), seen)
                operations.append(("upsert", stored.to_entity()))
            async with slots:
                await table.submit_transaction(operations)

        await asyncio.gather(*(write(start) for start in range(first, first + n, BATCH)))
