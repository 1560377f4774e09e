"""Per-target outcomes in Table Storage: each target of a notification ends with exactly one.

Rows live in the notification's own partition of the notifications table, so a batch of up to
100 writes is one transaction: the outcomes of a chunk of targets, a summary row with their counts
(status adds summaries up instead of reading every target), and the chunk's claim marked done. An
outcome row is inserted, never replaced: a target that already has one keeps it, so a work item
delivered twice cannot give a target two outcomes.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableTransactionError, UpdateMode

from shared.delivery.results import Outcome, TargetResult
from shared.storage.keys import conversation_key
from shared.storage.tables import Table, storage_errors

MAX_BATCH_OPERATIONS = 100  # Table Storage's limit for one transaction
# Target rows are hex digests; summary and claim rows sort after them.
SUMMARY_PREFIX = "~batch-"
CLAIM_PREFIX = "~chunk-"
# A chunk's outcomes, their summary and the chunk's claim fit one transaction.
TARGETS_PER_CHUNK = MAX_BATCH_OPERATIONS - 2


def partition(notification_id: str) -> str:
    return f"targets-{notification_id}"


def target_row(channel_id: str, conversation_id: str) -> str:
    # Ids may be 512 characters each: a digest keeps the row key short and legal.
    return hashlib.sha256(conversation_key(channel_id, conversation_id).encode()).hexdigest()


@dataclass(frozen=True)
class ChunkClaim:
    chunk: str
    etag: str


@dataclass(frozen=True)
class Totals:
    counts: dict[Outcome, int]
    last_at: datetime | None

    @property
    def recorded(self) -> int:
        return sum(self.counts.values())


class OutcomeStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    async def claim_chunk(
        self, notification_id: str, chunk: str, now: datetime, take_over: bool
    ) -> ChunkClaim | None:
        """Claim a chunk of targets; None if it is done, or claimed and not `take_over`.

        A redelivered work item takes over: the host redelivers only after the run that held it
        failed or died. A duplicate first delivery (an item enqueued twice) leaves it alone.
        """
        table = await self._table.client()
        entity = {
            "PartitionKey": partition(notification_id),
            "RowKey": CLAIM_PREFIX + chunk,
            "ClaimedAt": now,
            "Done": False,
        }
        with storage_errors():
            try:
                created = await table.create_entity(entity)
                return ChunkClaim(chunk, created["etag"])
            except ResourceExistsError:
                pass
            existing = await table.get_entity(entity["PartitionKey"], entity["RowKey"])
        if existing.get("Done") or not take_over:
            return None
        etag = await self._table.update_if_unchanged(entity, existing.metadata["etag"])
        return None if etag is None else ChunkClaim(chunk, etag)

    async def recorded_targets(self, notification_id: str) -> set[str]:
        """Row keys of the targets that already have an outcome (read when taking over)."""
        table = await self._table.client()
        query = "PartitionKey eq @p and RowKey lt @first_special"
        parameters = {"p": partition(notification_id), "first_special": "~"}
        with storage_errors():
            return {
                e["RowKey"]
                async for e in table.query_entities(query, parameters=parameters, select=["RowKey"])
            }

    async def record(
        self,
        notification_id: str,
        results: Iterable[TargetResult],
        now: datetime,
        claim: ChunkClaim | None = None,
    ) -> int:
        """Insert outcomes (with a summary row, and `claim` marked done); the number written.

        Targets that already have an outcome keep it and are left out of the count.
        """
        pending = {target_row(r.channel_id, r.conversation_id): r for r in results}
        batch_size = MAX_BATCH_OPERATIONS - 1 - (claim is not None)
        rows = list(pending.items())
        written = 0
        for start in range(0, max(len(rows), 1), batch_size):
            chunk_rows = dict(rows[start : start + batch_size])
            last = start + batch_size >= len(rows)
            written += await self._record_batch(
                notification_id, chunk_rows, now, claim if last else None
            )
        return written

    async def _record_batch(
        self,
        notification_id: str,
        rows: dict[str, TargetResult],
        now: datetime,
        claim: ChunkClaim | None,
    ) -> int:
        table = await self._table.client()
        pk = partition(notification_id)
        while True:
            operations: list[Any] = [
                ("create", _outcome_entity(pk, row, result, now)) for row, result in rows.items()
            ]
            if rows:
                operations.append(("create", _summary_entity(pk, rows.values(), now)))
            if claim is not None:
                done = {"PartitionKey": pk, "RowKey": CLAIM_PREFIX + claim.chunk, "Done": True}
                operations.append(
                    (
                        "update",
                        done,
                        {
                            "mode": UpdateMode.MERGE,
                            "etag": claim.etag,
                            "match_condition": MatchConditions.IfNotModified,
                        },
                    )
                )
            if not operations:
                return 0
            try:
                with storage_errors():
                    await table.submit_transaction(operations)
                return len(rows)
            except TableTransactionError as error:
                if error.status_code == 409 and error.index < len(rows):
                    # That target has its outcome already (a duplicate item got there first).
                    del rows[list(rows)[error.index]]
                    continue
                if error.status_code in (404, 412):
                    # Our claim was taken over: the taker records these targets.
                    return 0
                raise

    async def totals(self, notification_id: str) -> Totals:
        table = await self._table.client()
        query = "PartitionKey eq @p and RowKey ge @from and RowKey lt @to"
        parameters = {
            "p": partition(notification_id),
            "from": SUMMARY_PREFIX,
            "to": SUMMARY_PREFIX[:-1] + ".",
        }
        counts = dict.fromkeys(Outcome, 0)
        last_at = None
        with storage_errors():
            async for summary in table.query_entities(query, parameters=parameters):
                for outcome in Outcome:
                    counts[outcome] += int(summary.get(outcome.value.capitalize(), 0))
                at = summary.get("At")
                if at is not None and (last_at is None or at > last_at):
                    last_at = at
        return Totals(counts, last_at)

    async def outcomes(
        self, notification_id: str, outcome: Outcome | None = None, limit: int | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """The recorded outcomes, optionally only one kind, as API dicts."""
        table = await self._table.client()
        query = "PartitionKey eq @p and RowKey lt @first_special"
        parameters: dict[str, Any] = {"p": partition(notification_id), "first_special": "~"}
        if outcome is not None:
            query += " and Outcome eq @outcome"
            parameters["outcome"] = outcome.value
        count = 0
        with storage_errors():
            async for entity in table.query_entities(query, parameters=parameters):
                yield _outcome_dict(entity)
                count += 1
                if limit is not None and count >= limit:
                    return


def _outcome_entity(pk: str, row: str, result: TargetResult, now: datetime) -> dict[str, Any]:
    return {
        "PartitionKey": pk,
        "RowKey": row,
        "ChannelId": result.channel_id,
        "ConversationId": result.conversation_id,
        "TenantId": result.tenant_id,
        "ServiceUrl": result.service_url,
        "Outcome": result.outcome.value,
        "Status": result.status,
        "Error": result.error[:1000],
        "Attempts": result.attempts,
        "ActivityId": result.activity_id,
        "At": now,
    }


def _summary_entity(pk: str, results: Iterable[TargetResult], now: datetime) -> dict[str, Any]:
    counts = dict.fromkeys(Outcome, 0)
    for result in results:
        counts[result.outcome] += 1
    entity: dict[str, Any] = {"PartitionKey": pk, "RowKey": SUMMARY_PREFIX + uuid.uuid4().hex}
    entity.update({o.value.capitalize(): n for o, n in counts.items()})
    entity["At"] = now
    return entity


def _outcome_dict(entity: dict[str, Any]) -> dict[str, Any]:
    at = entity.get("At")
    return {
        "channelId": entity.get("ChannelId", ""),
        "conversationId": entity.get("ConversationId", ""),
        "tenantId": entity.get("TenantId", ""),
        "outcome": entity.get("Outcome", ""),
        "status": entity.get("Status"),
        "error": entity.get("Error", ""),
        "attempts": entity.get("Attempts", 0),
        "activityId": entity.get("ActivityId", ""),
        "at": at.isoformat() if at else None,
    }
