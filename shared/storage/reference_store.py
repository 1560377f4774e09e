"""Conversation references in Azure Table Storage: one entity per (channel id, conversation id),
and its copy in the tenant index (see tenant_index) for references that have a tenant."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from azure.core.exceptions import AzureError, ResourceNotFoundError
from msrest.exceptions import DeserializationError

from shared.storage.audience import Audience
from shared.storage.deletion_log import DeletionLog
from shared.storage.keys import encode_key
from shared.storage.recent_writes import RecentWrites
from shared.storage.references import StoredReference, Unreachable
from shared.storage.string_queries import quoted, string_page, string_rows
from shared.storage.tables import PAGE_SIZE, Table, storage_errors
from shared.storage.tenant_index import TenantIndex, in_index, indexable, is_cursor

logger = logging.getLogger(__name__)

# What a fan-out reads per row. LastSeen and Timestamp are left out: parsing two datetimes per
# row costs about as much CPU as the send itself.
FAN_OUT_COLUMNS = (
    "PartitionKey",
    "RowKey",
    "Reference",
    "ChannelId",
    "ConversationId",
    "UserId",
    "TenantId",
    "ConversationType",
    "ServiceUrl",
    "Suspended",
    "Unreachable",
)
# What splitting an audience into work reads per row: the keys and what audiences filter on.
KEY_COLUMNS = ("PartitionKey", "RowKey", "ChannelId", "ConversationId", "UserId", "TenantId")


# Where the next page of an audience starts: a Table continuation, or a tenant index cursor.
Continuation = dict[str, Any] | None


class TargetKey(NamedTuple):
    """A matching reference's keys, and its tenant (whose rate limit its send counts against)."""

    partition_key: str
    row_key: str
    tenant_id: str


class ReferenceStore:
    def __init__(
        self,
        table: Table,
        deletions: DeletionLog,
        index: TenantIndex,
        recent_writes: RecentWrites | None = None,
    ) -> None:
        self._table = table
        self._deletions = deletions
        self._index = index
        self._recent_writes = recent_writes or RecentWrites()

    async def save(self, stored: StoredReference) -> None:
        entity = stored.to_entity()
        await self._write(_key(stored), entity, _fingerprint(stored, entity))

    async def save_if_changed(self, stored: StoredReference) -> bool:
        """Write unless this process wrote the same reference recently and the stored row is
        still that write (one cheap read: another instance may have deleted or rewritten it);
        True if written."""
        entity = stored.to_entity()
        fingerprint = _fingerprint(stored, entity)
        etag = self._recent_writes.etag_if_current(_key(stored), fingerprint)
        if etag is not None and await self._stored_etag(stored) == etag:
            return False
        await self._write(_key(stored), entity, fingerprint)
        return True

    async def _write(self, key: tuple[str, str], entity: dict, fingerprint: str) -> None:
        # The copy first: a reference is never in the table without it (a failed write is
        # written again with the conversation's next activity, which finds no recent write).
        await self._index.put(entity)
        # The whole entity in one request: never a half-updated reference.
        etag = await self._table.upsert(entity)
        self._recent_writes.remember(key, fingerprint, etag)

    async def _stored_etag(self, stored: StoredReference) -> str | None:
        table = await self._table._client_ready()
        with storage_errors():
            try:
                entity = await table.get_entity(
                    stored.partition_key, stored.row_key, select=["PartitionKey"]
                )
            except ResourceNotFoundError:
                return None
        return entity.metadata["etag"]

    async def delete(self, channel_id: str, conversation_id: str) -> None:
        """Delete the reference; fan-outs sending meanwhile learn it from the deletion log."""
        self._recent_writes.forget((channel_id, conversation_id))
        partition_key, row_key = encode_key(channel_id), encode_key(conversation_id)
        # Logged first: a deletion that fails after it skips a conversation still stored, which
        # is better than sending to one that said "stop". Its copy goes next, for the same
        # reason: a tenant audience never reaches a reference the table no longer has.
        await self._deletions.record(partition_key, row_key)
        row = await self._table.get(partition_key, row_key, select=["TenantId"])
        if row is not None and row.get("TenantId"):
            await self._index.remove(row["TenantId"], channel_id, row_key)
        # Already gone is fine: the service's 404 counts as done.
        await self._table.delete(partition_key, row_key)

    async def delete_team(self, channel_id: str, team_id: str) -> list[str]:
        """Delete every reference of the team's conversations (its channels and its own); the
        conversation ids deleted. Rows stored before references kept their team hold none."""
        table = await self._table._client_ready()
        with storage_errors():
            conversations = [
                entity["ConversationId"]
                async for entity in table.query_entities(
                    "PartitionKey eq @p and TeamId eq @t",
                    parameters={"p": encode_key(channel_id), "t": team_id},
                    select=["ConversationId"],
                )
            ]
        for conversation_id in conversations:
            await self.delete(channel_id, conversation_id)
        return conversations

    async def suspend(self, stored: StoredReference, reason: str) -> None:
        """Hold sends to the conversation back until it talks to the bot again (a save writes
        the whole row without the mark). One already deleted stays deleted."""
        self._recent_writes.forget(_key(stored))
        await self._mark(stored, {"Suspended": reason})

    async def mark_unreachable(self, stored: StoredReference, now: datetime) -> Unreachable:
        """Count one more send the channel answered "not found" (see Unreachable): the count as
        it now stands. Read first, so that sends from other instances count too."""
        self._recent_writes.forget(_key(stored))
        row = await self._table.get(stored.partition_key, stored.row_key, select=["Unreachable"])
        before = Unreachable.parse((row or {}).get("Unreachable") or "")
        marked = before.again() if before is not None else Unreachable(now, 1)
        await self._mark(stored, {"Unreachable": str(marked)})
        return marked

    async def clear_unreachable(self, stored: StoredReference) -> None:
        """The conversation took a message again: its count of "not found" answers starts over."""
        self._recent_writes.forget(_key(stored))
        await self._mark(stored, {"Unreachable": ""})

    async def _mark(self, stored: StoredReference, properties: dict[str, Any]) -> None:
        """Merge the properties into the reference's row and its copy (none is created)."""
        mark = {"RowKey": stored.row_key, **properties}
        await self._index.mark(stored.tenant_id, stored.channel_id, mark)
        await self._table.merge_if_there({"PartitionKey": stored.partition_key, **mark})

    async def get(self, channel_id: str, conversation_id: str) -> StoredReference | None:
        table = await self._table._client_ready()
        with storage_errors():
            try:
                entity = await table.get_entity(encode_key(channel_id), encode_key(conversation_id))
            except ResourceNotFoundError:
                return None
        return StoredReference.from_entity(entity)

    async def in_team(self, channel_id: str, team_id: str) -> StoredReference | None:
        """A stored conversation of the team, for its serviceUrl, bot and tenant: the team's own
        (its id is the team's), else any of its channels; None if the bot has none there."""
        stored = await self.get(channel_id, team_id)
        if stored is not None:
            return stored
        table = await self._table._client_ready()
        with storage_errors():
            async for entity in table.query_entities(
                "PartitionKey eq @p and TeamId eq @t",
                parameters={"p": encode_key(channel_id), "t": team_id},
                results_per_page=1,
            ):
                return _parse(entity)
        return None

    async def in_tenant(self, tenant_id: str) -> StoredReference | None:
        """A stored conversation of the tenant, for its serviceUrl and bot; None if there is
        none. From the tenant index, one row of the tenant's range."""
        if indexable(tenant_id) and await self._index.complete():
            rows, _ = await self._index.audience_round([tenant_id], FAN_OUT_COLUMNS, None, 1)
        else:
            rows = []
            query_filter = f"TenantId eq {quoted(tenant_id)}"
            async for row in string_rows(self._table, query_filter, FAN_OUT_COLUMNS):
                rows.append(row)
                break
        return next((s for row in rows if (s := _parse(row)) is not None), None)

    async def teams(self, channel_id: str, most: int) -> list[StoredReference]:
        """One stored conversation of each team the bot is in (rows that keep their team), at
        most `most` teams: a bounded read for asking teams about their members."""
        table = await self._table._client_ready()
        found: dict[str, StoredReference] = {}
        with storage_errors():
            async for entity in table.query_entities(
                "PartitionKey eq @p and TeamId gt @none",
                parameters={"p": encode_key(channel_id), "none": ""},
                select=[*FAN_OUT_COLUMNS, "TeamId"],
            ):
                stored = _parse(entity)
                if stored is not None and stored.team_id:
                    found.setdefault(stored.team_id, stored)
                    if len(found) >= most:
                        break
        return list(found.values())

    async def find(
        self, audience: Audience, page_size: int = PAGE_SIZE
    ) -> AsyncIterator[StoredReference]:
        """Stream the matching references page by page; memory stays flat however many there are.
        A caller that wants only the first few reads smaller pages (a tenant audience: that many
        of each tenant's).

        Rows come without `last_seen` (see FAN_OUT_COLUMNS).
        """
        if audience.is_nobody:
            return
        continuation: Continuation = None
        while True:
            rows, continuation = await self._audience_page(
                audience, FAN_OUT_COLUMNS, continuation, page_size, page_size
            )
            for row in rows:
                stored = _parse(row)
                if stored is not None and audience.matches(stored):
                    yield stored
            if continuation is None:
                return

    async def find_page(
        self,
        audience: Audience,
        continuation: Continuation,
        page_size: int = PAGE_SIZE,
        rows_per_tenant: int = PAGE_SIZE,
    ) -> tuple[list[TargetKey], Continuation]:
        """One page of the matching references' keys, and where the next page starts (or None).

        A page is at most `page_size` rows before filtering; from the tenant index, a round of
        up to `rows_per_tenant` rows of each tenant the page reads side by side. Only the keys
        and the ids the audience checks are read, so splitting a large audience costs little.
        """
        if audience.is_nobody:
            return [], None
        rows, following = await self._audience_page(
            audience, KEY_COLUMNS, continuation, page_size, rows_per_tenant
        )
        keys = [
            TargetKey(row["PartitionKey"], row["RowKey"], row.get("TenantId", ""))
            for row in rows
            if audience.matches_row(row)
        ]
        return keys, following

    async def _audience_page(
        self,
        audience: Audience,
        columns: Sequence[str],
        continuation: Continuation,
        page_size: int,
        rows_per_tenant: int,
    ) -> tuple[list[dict[str, str]], Continuation]:
        """Rows for the audience: its tenants' from the tenant index when it has them all (a
        read started there goes on there), else the table's, filtered as far as a query can.
        Every column read is a string: plain JSON rows, no SDK entity conversion."""
        if is_cursor(continuation) or (continuation is None and await self._by_tenant(audience)):
            tenants = sorted(audience.tenant_ids or ())
            return await self._index.audience_round(tenants, columns, continuation, rows_per_tenant)
        return await string_page(
            self._table, audience.table_filter(), columns, continuation, page_size
        )

    async def _by_tenant(self, audience: Audience) -> bool:
        tenants = audience.tenant_ids
        return (
            bool(tenants)
            and all(indexable(tenant) for tenant in tenants)
            and await self._index.complete()
        )

    async def get_many(self, partition_key: str, row_keys: Sequence[str]) -> list[StoredReference]:
        """The references with these keys in one partition (of the table, or of the tenant index)
        that still exist, in one range query."""
        found = []
        async for entity in self._range(partition_key, row_keys, FAN_OUT_COLUMNS):
            if (stored := _parse(entity)) is not None:
                found.append(stored)
        return found

    async def _range(
        self, partition_key: str, row_keys: Sequence[str], columns: Sequence[str]
    ) -> AsyncIterator[dict]:
        if not row_keys:
            return
        wanted = set(row_keys)
        query_filter = (
            f"PartitionKey eq {quoted(partition_key)} and RowKey ge {quoted(min(wanted))} "
            f"and RowKey le {quoted(max(wanted))}"
        )
        table = self._index.table if in_index(partition_key) else self._table
        # Every column read here is a string: plain JSON rows, no SDK entity conversion.
        async for entity in string_rows(table, query_filter, columns):
            if entity["RowKey"] in wanted:
                yield entity


def _key(stored: StoredReference) -> tuple[str, str]:
    return (stored.channel_id, stored.conversation_id)


def _fingerprint(stored: StoredReference, entity: dict) -> str:
    """What makes a stored reference different, leaving out what every new message changes.

    LastSeen is a time, and the reference's activityId is the id of the latest message: proactive
    sends never use it (continue_conversation replies to a fresh continuation id), so a
    conversation that merely talked again has not changed.
    """
    reference = {k: v for k, v in stored.reference_json.items() if k != "activityId"}
    rest = {k: v for k, v in entity.items() if k not in ("LastSeen", "Reference")}
    return json.dumps([reference, rest], sort_keys=True)


def _parse(entity: dict) -> StoredReference | None:
    try:
        return StoredReference.from_entity(entity)
    except (KeyError, ValueError, TypeError, AzureError, DeserializationError) as error:
        # One unreadable row must not stop a broadcast to everyone else.
        logger.warning(
            "Skipping unreadable reference row %s/%s: %s",
            entity.get("PartitionKey"),
            entity.get("RowKey"),
            type(error).__name__,
        )
        return None
