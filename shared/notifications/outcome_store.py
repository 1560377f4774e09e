"""Per-target outcomes in Table Storage: each target of a queued notification ends with exactly one.

Rows live in the notification's own partition of the notifications table, keyed by a digest of
the target, so a transaction of up to 100 writes can hold the outcomes of part of a chunk and an
update of the chunk's claim row. The claim row is the chunk's bookkeeping: who holds it, which of
its targets have an outcome (a bitmap, so a run that takes over skips them without reading them),
and the counts so far (status adds claim rows up instead of reading every target). An outcome row
is inserted, never replaced: a target that already has one keeps it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from shared.delivery.actions import sent_message_reference
from shared.delivery.outcomes import Outcome, TargetResult
from shared.storage import transactions
from shared.storage.keys import conversation_key
from shared.storage.reference_store import TargetKey
from shared.storage.references import StoredReference
from shared.storage.string_queries import quoted, string_rows
from shared.storage.tables import (
    MAX_TRANSACTION_OPERATIONS,
    PAGE_SIZE,
    RETRY_DELAYS,
    RowExistsError,
    StorageHiccupError,
    Table,
    etag_of,
)
from shared.storage.transactions import Insert, MergeIfUnchanged, Operation, TransactionRejected

logger = logging.getLogger(__name__)

# Each transaction carries the chunk's claim row too.
OUTCOMES_PER_TRANSACTION = MAX_TRANSACTION_OPERATIONS - 1
# Two transactions per chunk: with the claim and the read of the chunk's references, four Table
# operations per 198 targets (0.02 each), and a dead run repeats at most one transaction's worth.
TARGETS_PER_CHUNK = 2 * OUTCOMES_PER_TRANSACTION
# Target rows are hex digests; claim rows sort after them.
CLAIM_PREFIX = "~chunk-"
POSSIBLE_DUPLICATES = "PossibleDuplicates"  # a claim row's count of them
MAX_ERROR_CHARS = 1000


def partition(notification_id: str) -> str:
    return f"targets-{notification_id}"


def target_row(channel_id: str, conversation_id: str) -> str:
    # Ids may be 512 characters each: a digest keeps the row key short and legal.
    return hashlib.sha256(conversation_key(channel_id, conversation_id).encode()).hexdigest()


@dataclass(frozen=True)
class ChunkClaim:
    """A chunk held by this run: its claim row's ETag, and what is recorded for it so far."""

    chunk: str
    etag: str
    recorded: frozenset[int] = frozenset()  # positions in the chunk that have an outcome
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    # Taken over from a run that died or failed: what it sent without recording, this run sends
    # again, so each message this run sends may be someone's second.
    taken_over: bool = False
    possible_duplicates: int = 0


@dataclass(frozen=True)
class Totals:
    """A notification's claim rows added up."""

    counts: dict[Outcome, int]
    chunks_claimed: int = 0
    chunks_done: int = 0
    started_at: datetime | None = None
    last_at: datetime | None = None
    possible_duplicates: int = 0

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
        entity = {
            "PartitionKey": partition(notification_id),
            "RowKey": CLAIM_PREFIX + chunk,
            "ClaimedAt": now,
            "Done": False,
        }
        try:
            return ChunkClaim(chunk, await self._table.insert(entity))
        except RowExistsError:
            pass
        existing = await self._table.get(entity["PartitionKey"], entity["RowKey"])
        if existing is None:  # nothing deletes claim rows: the run fails, as on any surprise
            raise RuntimeError(f"claim row of chunk {chunk} vanished after the insert found it")
        if existing.get("Done") or not take_over:
            return None
        # Only ClaimedAt changes: what the dead run recorded stays, and is skipped.
        taken = {
            "PartitionKey": entity["PartitionKey"],
            "RowKey": entity["RowKey"],
            "ClaimedAt": now,
        }
        etag = await self._table.update_if_unchanged(taken, etag_of(existing), merge=True)
        if etag is None:
            return None
        return ChunkClaim(
            chunk,
            etag,
            _positions(existing.get("Recorded")),
            _counts(existing),
            taken_over=True,
            possible_duplicates=int(existing.get(POSSIBLE_DUPLICATES) or 0),
        )

    async def record(
        self,
        notification_id: str,
        claim: ChunkClaim,
        results: Sequence[tuple[int, TargetResult]],
        now: datetime,
        done: bool = False,
    ) -> ChunkClaim | None:
        """Insert outcomes for positions of the claimed chunk, and update its claim row with them
        (marked done if `done`); the claim as it now stands, or None if it was taken over.

        A target that already has an outcome (from another copy of its chunk) keeps it and is
        not counted again.
        """
        pending = [(p, r) for p, r in results if p not in claim.recorded]
        while True:
            part, pending = pending[:OUTCOMES_PER_TRANSACTION], pending[OUTCOMES_PER_TRANSACTION:]
            claim = await self._record_transaction(
                notification_id, claim, part, now, done and not pending
            )
            if claim is None or not pending:
                return claim

    async def _record_transaction(
        self,
        notification_id: str,
        claim: ChunkClaim,
        results: list[tuple[int, TargetResult]],
        now: datetime,
        done: bool,
    ) -> ChunkClaim | None:
        pk = partition(notification_id)
        kept_out: set[int] = set()  # positions whose target had an outcome already
        # Names this write in the claim row: a try made again after a lost answer reads it to
        # tell "my first try landed" from "someone else's write".
        write = uuid.uuid4().hex
        tries = 0
        while True:
            writing = [(p, r) for p, r in results if p not in kept_out]
            recorded = claim.recorded | {p for p, _ in results}
            counts = dict(claim.counts)
            for _, result in writing:
                counts[result.outcome] += 1
            duplicates = claim.possible_duplicates + sum(r.possible_duplicate for _, r in writing)
            claim_row = {
                "PartitionKey": pk,
                "RowKey": CLAIM_PREFIX + claim.chunk,
                "Done": done,
                "Recorded": _bitmap(recorded),
                "At": now,
                "Write": write,
                POSSIBLE_DUPLICATES: duplicates,
                **{_count_property(o): n for o, n in counts.items()},
            }
            operations: list[Operation] = [Insert(_outcome_entity(pk, r, now)) for _, r in writing]
            operations.append(MergeIfUnchanged(claim_row, claim.etag))
            try:
                etags = await transactions.submit(self._table, operations)
            except StorageHiccupError as error:
                if tries == len(RETRY_DELAYS):
                    raise
                logger.warning("Recording outcomes of chunk %s: %s; again", claim.chunk, error)
                await asyncio.sleep(RETRY_DELAYS[tries])
                tries += 1
                continue
            except TransactionRejected as error:
                if tries and (etag := await self._landed(pk, claim.chunk, write)):
                    return replace(
                        claim,
                        etag=etag,
                        recorded=recorded,
                        counts=counts,
                        possible_duplicates=duplicates,
                    )
                if (
                    error.status_code == 409
                    and error.index is not None
                    and error.index < len(writing)
                ):
                    kept_out.add(writing[error.index][0])
                    continue
                if error.status_code in (404, 412):
                    return None  # taken over: the taker records these targets
                raise
            return replace(
                claim,
                etag=etags[-1],
                recorded=recorded,
                counts=counts,
                possible_duplicates=duplicates,
            )

    async def _landed(self, pk: str, chunk: str, write: str) -> str | None:
        """The claim row's ETag if `write` is the last write it took (a lost answer's try)."""
        row = await self._table.get(pk, CLAIM_PREFIX + chunk, select=["Write"])
        return etag_of(row) if row is not None and row.get("Write") == write else None

    async def totals(self, notification_id: str) -> Totals:
        query = "PartitionKey eq @p and RowKey ge @from and RowKey lt @to"
        parameters = {
            "p": partition(notification_id),
            "from": CLAIM_PREFIX,
            "to": CLAIM_PREFIX[:-1] + ".",  # just past every "~chunk-…"
        }
        columns = [
            "Done",
            "ClaimedAt",
            "At",
            POSSIBLE_DUPLICATES,
            *(_count_property(o) for o in Outcome),
        ]
        counts = dict.fromkeys(Outcome, 0)
        claimed = done = duplicates = 0
        started_at = last_at = None
        async for row in self._table.query(query, parameters=parameters, select=columns):
            claimed += 1
            done += bool(row.get("Done"))
            duplicates += int(row.get(POSSIBLE_DUPLICATES) or 0)
            for outcome, n in _counts(row).items():
                counts[outcome] += n
            started_at = _earliest(started_at, row.get("ClaimedAt"))
            last_at = _latest(last_at, row.get("At"))
        return Totals(counts, claimed, done, started_at, last_at, duplicates)

    async def page(
        self,
        notification_id: str,
        outcome: Outcome | None = None,
        continuation: str | None = None,
        size: int = PAGE_SIZE,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of recorded outcomes (optionally of one kind) as API dicts, and the opaque
        token for the next page (None after the last)."""
        query = "PartitionKey eq @p and RowKey lt @first_claim"
        parameters: dict[str, Any] = {"p": partition(notification_id), "first_claim": "~"}
        if outcome is not None:
            query += " and Outcome eq @outcome"
            parameters["outcome"] = outcome.value
        rows, following = await self._table.query_page(
            query, parameters, size=size, continuation=_decode_token(continuation)
        )
        return [_outcome_dict(entity) for entity in rows], _encode_token(following)

    async def sent_page(
        self, notification_id: str, continuation: dict[str, str] | None, size: int
    ) -> tuple[list[TargetKey], dict[str, str] | None]:
        """One page of the targets a notification's message reached (keys in row order, so a run
        of them is one range), and where the next page starts (or None)."""
        query = "PartitionKey eq @p and RowKey lt @first_claim and Outcome eq @sent"
        parameters = {"p": partition(notification_id), "first_claim": "~", "sent": "sent"}
        rows, following = await self._table.query_page(
            query,
            parameters,
            select=["PartitionKey", "RowKey", "TenantId"],
            size=size,
            continuation=continuation,
        )
        keys = [TargetKey(e["PartitionKey"], e["RowKey"], e.get("TenantId", "")) for e in rows]
        return keys, following

    async def sent_messages(
        self, notification_id: str, row_keys: Sequence[str]
    ) -> dict[str, StoredReference]:
        """The messages sent to these targets (by outcome row key), each as a target whose
        reference names the message: where it is and its activity id."""
        if not row_keys:
            return {}
        query_filter = (
            f"PartitionKey eq {quoted(partition(notification_id))} "
            f"and RowKey ge {quoted(min(row_keys))} and RowKey le {quoted(max(row_keys))} "
            f"and Outcome eq {quoted(Outcome.SENT.value)}"
        )
        wanted = set(row_keys)
        found: dict[str, StoredReference] = {}
        async for row in string_rows(self._table, query_filter, SENT_MESSAGE_COLUMNS):
            if row["RowKey"] in wanted and row.get("ActivityId"):
                found[row["RowKey"]] = _sent_message(row)
        return found


# What an update or recall reads of each sent target.
SENT_MESSAGE_COLUMNS = (
    "RowKey",
    "ChannelId",
    "ConversationId",
    "TenantId",
    "ServiceUrl",
    "ActivityId",
    "SentIn",
)


def _sent_message(row: dict[str, str]) -> StoredReference:
    channel_id = row.get("ChannelId", "")
    service_url = row.get("ServiceUrl", "")
    # Rows written before SentIn was recorded name the conversation itself.
    sent_in = row.get("SentIn") or row.get("ConversationId", "")
    return StoredReference(
        reference_json=sent_message_reference(
            channel_id, sent_in, row.get("ActivityId", ""), service_url
        ),
        channel_id=channel_id,
        conversation_id=row.get("ConversationId", ""),
        user_id="",
        tenant_id=row.get("TenantId", ""),
        conversation_type="",
        service_url=service_url,
    )


class OutcomeRecorder:
    """Outcomes of one claimed chunk, written a transaction at a time as they come in; the
    transaction with the last of them also marks the chunk done.

    An outcome leaves `pending` only once its transaction landed: a write that fails keeps them
    for the next write (or the run's `flush` on its way out), and the chunk is marked done only by
    a run that recorded every one of its outcomes.
    """

    def __init__(
        self,
        outcomes: OutcomeStore,
        notification_id: str,
        claim: ChunkClaim,
        expected: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._outcomes = outcomes
        self._notification_id = notification_id
        self._claim: ChunkClaim | None = claim
        self._expected = expected  # outcomes this run records: then the chunk is done
        self._clock = clock
        self._pending: list[tuple[int, TargetResult]] = []
        self._added = 0
        self._done = False
        self._writing = asyncio.Lock()
        self._written = asyncio.Condition()
        # A write failed even when tried again: later outcomes only wait, for `flush`. Each
        # send still out would otherwise spend another round of tries before the run ends.
        self._failed = False

    @property
    def lost(self) -> bool:
        return self._claim is None

    async def add(self, position: int, result: TargetResult) -> None:
        self._pending.append((position, result))
        self._added += 1
        if self._added >= self._expected or len(self._pending) >= OUTCOMES_PER_TRANSACTION:
            await self._write(whole_parts_only=self._added < self._expected)

    async def room(self) -> None:
        """Return once fewer than two transactions' worth of outcomes wait to be written."""
        if len(self._pending) < 2 * OUTCOMES_PER_TRANSACTION:
            return
        async with self._written:
            await self._written.wait_for(
                lambda: len(self._pending) < 2 * OUTCOMES_PER_TRANSACTION or self.lost
            )

    async def finish(self) -> None:
        """Write what is left and mark the chunk done (every outcome is in: nothing to send,
        say, or the last one was written with the others)."""
        await self._write(whole_parts_only=False)

    async def flush(self) -> None:
        """Write what is pending without marking the chunk done: a run on its way out after a
        failure keeps what its sends learned, so the rerun sends only what has no outcome."""
        async with self._writing:
            await self._write_parts(whole_parts_only=False, may_finish=False)

    async def _write(self, whole_parts_only: bool) -> None:
        async with self._writing:
            if self._failed:
                return
            try:
                await self._write_parts(whole_parts_only, may_finish=True)
            except BaseException:
                self._failed = True
                raise

    async def _write_parts(self, whole_parts_only: bool, may_finish: bool) -> None:
        while self._claim is not None and not self._done:
            part = self._pending[:OUTCOMES_PER_TRANSACTION]
            if whole_parts_only and len(part) < OUTCOMES_PER_TRANSACTION:
                return  # another add wrote them meanwhile, or a part is still filling
            last = len(part) == len(self._pending)
            done = may_finish and last and self._added >= self._expected
            if not part and not done:
                return
            self._claim = await self._outcomes.record(
                self._notification_id, self._claim, part, self._clock(), done=done
            )
            # Appends only ever land at the end, so the part written is still at the front.
            del self._pending[: len(part)]
            self._done = done
            async with self._written:
                self._written.notify_all()
            if last:
                return


class InvalidContinuationError(ValueError):
    """A continuation token this API did not hand out."""


def _encode_token(token: dict[str, str] | None) -> str | None:
    if not token:
        return None
    return base64.urlsafe_b64encode(json.dumps(token).encode()).decode().rstrip("=")


def _decode_token(token: str | None) -> dict[str, str] | None:
    if not token:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        raise InvalidContinuationError("continuation is not a token this API gave") from None
    if not isinstance(decoded, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in decoded.items()
    ):
        raise InvalidContinuationError("continuation is not a token this API gave")
    return decoded


def _count_property(outcome: Outcome) -> str:
    return outcome.value.capitalize()


def _counts(row: dict[str, Any]) -> dict[Outcome, int]:
    return {o: int(row.get(_count_property(o)) or 0) for o in Outcome}


def _bitmap(positions: Iterable[int]) -> bytes:
    positions = list(positions)
    bits = bytearray((max(positions, default=-1) + 8) // 8)
    for position in positions:
        bits[position // 8] |= 1 << (position % 8)
    return bytes(bits)


def _positions(bitmap: bytes | None) -> frozenset[int]:
    if not bitmap:
        return frozenset()
    return frozenset(
        i * 8 + bit for i, byte in enumerate(bitmap) for bit in range(8) if byte & (1 << bit)
    )


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None or (b is not None and b < a) else a


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None or (b is not None and b > a) else a


def _outcome_entity(pk: str, result: TargetResult, now: datetime) -> dict[str, Any]:
    return {
        "PartitionKey": pk,
        "RowKey": target_row(result.channel_id, result.conversation_id),
        "ChannelId": result.channel_id,
        "ConversationId": result.conversation_id,
        "TenantId": result.tenant_id,
        "ServiceUrl": result.service_url,
        "Outcome": result.outcome.value,
        "Status": result.status,
        "Error": result.error[:MAX_ERROR_CHARS],
        "Attempts": result.attempts,
        "ActivityId": result.activity_id,
        "SentIn": result.sent_in,
        "At": now,
        # Only where it happened: every other row stays as small as it was.
        **({"Reopened": True} if result.reopened else {}),
        **({"PossibleDuplicate": True} if result.possible_duplicate else {}),
    }


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
        "sentIn": entity.get("SentIn", ""),
        "reopened": bool(entity.get("Reopened")),
        "possibleDuplicate": bool(entity.get("PossibleDuplicate")),
        "serviceUrl": entity.get("ServiceUrl", ""),
        "at": at.isoformat() if at else None,
    }
