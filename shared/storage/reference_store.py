"""Conversation references in Azure Table Storage: one entity per (channel id, conversation id)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import suppress
from datetime import datetime
from typing import NamedTuple

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.data.tables import UpdateMode
from msrest.exceptions import DeserializationError

from shared.storage.audience import Audience
from shared.storage.deletion_log import DeletionLog
from shared.storage.keys import encode_key
from shared.storage.recent_writes import RecentWrites
from shared.storage.references import StoredReference, Unreachable
from shared.storage.string_queries import quoted, string_page, string_rows
from shared.storage.tables import PAGE_SIZE, Table, storage_errors

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


class TargetKey(NamedTuple):
    """A matching reference's keys, and its tenant (whose rate limit its send counts against)."""

    partition_key: str
    row_key: str
    tenant_id: str


class ReferenceStore:
    def __init__(
        self, table: Table, deletions: DeletionLog, recent_writes: RecentWrites | None = None
    ) -> None:
        self._table = table
        self._deletions = deletions
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
        # is better than sending to one that said "stop".
        await self._deletions.record(partition_key, row_key)
        table = await self._table._client_ready()
        # Already gone is fine: delete_entity treats a 404 as done.
        with storage_errors():
            await table.delete_entity(partition_key, row_key)

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
        mark = {"PartitionKey": stored.partition_key, "RowKey": stored.row_key, "Suspended": reason}
        await self._merge_if_there(mark)

    async def mark_unreachable(self, stored: StoredReference, now: datetime) -> Unreachable:
        """Count one more send the channel answered "not found" (see Unreachable): the count as
        it now stands. Read first, so that sends from other instances count too."""
        self._recent_writes.forget(_key(stored))
        row = await self._table.get(stored.partition_key, stored.row_key, select=["Unreachable"])
        before = Unreachable.parse((row or {}).get("Unreachable") or "")
        marked = before.again() if before is not None else Unreachable(now, 1)
        mark = {"PartitionKey": stored.partition_key, "RowKey": stored.row_key}
        await self._merge_if_there({**mark, "Unreachable": str(marked)})
        return marked

    async def clear_unreachable(self, stored: StoredReference) -> None:
        """The conversation took a message again: its count of "not found" answers starts over."""
        self._recent_writes.forget(_key(stored))
        mark = {"PartitionKey": stored.partition_key, "RowKey": stored.row_key}
        await self._merge_if_there({**mark, "Unreachable": ""})

    async def _merge_if_there(self, properties: dict) -> None:
        table = await self._table._client_ready()
        with storage_errors(), suppress(ResourceNotFoundError):
            await table.update_entity(properties, mode=UpdateMode.MERGE)

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
        A caller that wants only the first few reads smaller pages.

        Rows come without `last_seen` (see FAN_OUT_COLUMNS).
        """
        if audience.is_nobody:
            return
        query_filter = audience.table_filter()
        continuation: dict[str, str] | None = None
        while True:
            # Every column read here is a string: plain JSON rows, no SDK entity conversion.
            rows, continuation = await string_page(
                self._table, query_filter, FAN_OUT_COLUMNS, continuation, page_size
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
        continuation: dict[str, str] | None,
        page_size: int = PAGE_SIZE,
    ) -> tuple[list[TargetKey], dict[str, str] | None]:
        """One page of the matching references' keys, and where the next page starts (or None).

        A page is at most PAGE_SIZE rows before filtering; only the keys and the ids the audience
        checks are read, so splitting a large audience into work costs little.
        """
        if audience.is_nobody:
            return [], None
        # Every key column is a string: plain JSON rows, no SDK entity conversion.
        rows, following = await string_page(
            self._table, audience.table_filter(), KEY_COLUMNS, continuation, page_size
        )
        keys = [
            TargetKey(row["PartitionKey"], row["RowKey"], row.get("TenantId", ""))
            for row in rows
            if audience.matches_row(row)
        ]
        return keys, following

    async def get_many(self, partition_key: str, row_keys: Sequence[str]) -> list[StoredReference]:
        """The references with these keys in one partition that still exist, in one range query."""
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
        # Every column read here is a string: plain JSON rows, no SDK entity conversion.
        async for entity in string_rows(self._table, query_filter, columns):
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
