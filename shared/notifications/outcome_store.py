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
from collections.abc import Iterable, Mapping, Sequence
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
from shared.telemetry.current import telemetry

logger = logging.getLogger(__name__)

# Each transaction carries the chunk's claim row too.
OUTCOMES_PER_TRANSACTION = MAX_TRANSACTION_OPERATIONS - 1
# Two transactions per chunk: with the claim and the read of the chunk's references, four Table
# operations per 198 targets (0.02 each), and a dead run repeats at most one transaction's worth.
TARGETS_PER_CHUNK = 2 * OUTCOMES_PER_TRANSACTION
# A run that holds a chunk writes its claim row at least this often, outcomes or not, so a
# chunk quiet for longer (QUIET_AFTER) is held by an instance that died.
HEARTBEAT_SECONDS = 30
# Target rows are hex digests; claim rows sort after them.
CLAIM_PREFIX = "~chunk-"
POSSIBLE_DUPLICATES = "PossibleDuplicates"  # a claim row's count of them
MAX_ERROR_CHARS = 1000


def partition(notification_id: str) -> str:
    return f"targets-{notification_id}"


def target_row(channel_id: str, conversation_id: str) -> str:
    return target_row_of(conversation_key(channel_id, conversation_id))


def target_row_of(key: str) -> str:
    """The target row of a conversation key (see storage.keys.conversation_key)."""
    # Ids may be 512 characters each: a digest keeps the row key short and legal.
    return hashlib.sha256(key.encode()).hexdigest()


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
class ChunkWrite:
    """Outcomes for positions of a claimed chunk (none recorded before), to write with its
    claim row; `done` marks the chunk done."""

    claim: ChunkClaim
    results: Sequence[tuple[int, TargetResult]]
    done: bool = False


@dataclass(frozen=True)
class Totals:
    """A notification's claim rows added up."""

    counts: dict[Outcome, int]
    chunks_claimed: int = 0
    chunks_done: int = 0
    started_at: datetime | None = None
    last_at: datetime | None = None
    possible_duplicates: int = 0
    # When each chunk that is claimed and not done was last written (its claim or its last
    # outcomes; a live run writes it at least every HEARTBEAT_SECONDS): one held by an instance
    # that died goes quiet until the host gives its item to another.
    unfinished_last_written: tuple[datetime, ...] = ()

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
            [written] = await self.write_together(
                notification_id, [ChunkWrite(claim, part, done and not pending)], now
            )
            if written is None or not pending:
                return written
            claim = written

    async def write_together(
        self, notification_id: str, writes: Sequence[ChunkWrite], now: datetime
    ) -> list[ChunkClaim | None]:
        """One transaction: the outcomes of one or more claimed chunks of a notification, and
        each chunk's claim row updated with them (at most MAX_TRANSACTION_OPERATIONS in all).
        Each claim as it now stands, in order; None for a chunk taken over (it records nothing).
        A target that already has an outcome keeps it and is not counted again.
        """
        pk = partition(notification_id)
        kept_out: set[tuple[str, int]] = set()  # (chunk, position): the target had an outcome
        lost: set[str] = set()  # chunks taken over
        # Names this write in the claim rows: a try made again after a lost answer reads it to
        # tell "my first try landed" from "someone else's write".
        write = uuid.uuid4().hex
        tries = 0
        while True:
            live = [w for w in writes if w.claim.chunk not in lost]
            if not live:
                return [None for _ in writes]
            operations: list[Operation] = []
            outcomes: list[tuple[str, str]] = []  # (outcome, channel) of each written
            owners: list[tuple[str, int | None]] = []  # each operation's chunk and position
            after: dict[str, ChunkClaim] = {}  # each claim as it stands once this lands
            for chunk_write in live:
                claim = chunk_write.claim
                writing = [
                    (p, r) for p, r in chunk_write.results if (claim.chunk, p) not in kept_out
                ]
                after[claim.chunk] = updated = _claim_after(claim, chunk_write.results, writing)
                for position, result in writing:
                    operations.append(Insert(_outcome_entity(pk, result, now)))
                    outcomes.append((result.outcome.value, result.channel_id))
                    owners.append((claim.chunk, position))
                claim_row = _claim_row(pk, updated, chunk_write.done, now, write)
                operations.append(MergeIfUnchanged(claim_row, claim.etag))
                owners.append((claim.chunk, None))
            try:
                etags = await transactions.submit(self._table, operations)
                claim_etags = [e for e, (_, p) in zip(etags, owners, strict=True) if p is None]
            except StorageHiccupError as error:
                if tries == len(RETRY_DELAYS):
                    raise
                logger.warning("Recording outcomes of %s: %s; again", notification_id, error)
                await asyncio.sleep(RETRY_DELAYS[tries])
                tries += 1
                continue
            except TransactionRejected as error:
                landed = await self._landed(pk, list(after), write) if tries else None
                if landed is None:
                    lost |= await self._refused(pk, error, owners, kept_out, live)
                    continue
                claim_etags = landed
            telemetry().count_outcomes(outcomes)
            stands = {
                chunk: replace(claim, etag=etag)
                for (chunk, claim), etag in zip(after.items(), claim_etags, strict=True)
            }
            return [stands.get(w.claim.chunk) for w in writes]

    async def _refused(
        self,
        pk: str,
        error: TransactionRejected,
        owners: list[tuple[str, int | None]],
        kept_out: set[tuple[str, int]],
        live: list[ChunkWrite],
    ) -> set[str]:
        """Why the transaction was refused, so the next try leaves it out: a target that had an
        outcome already (added to `kept_out`), or the chunks taken over (returned). Raises if
        it was neither."""
        if error.index is not None and error.index < len(owners):
            chunk, position = owners[error.index]
            if error.status_code == 409 and position is not None:
                kept_out.add((chunk, position))
                return set()
            if error.status_code in (404, 412) and position is None:
                return {chunk}
        elif error.status_code in (404, 412):
            # The service did not say which: the claims that changed since were taken over.
            stale = set()
            for chunk_write in live:
                claim = chunk_write.claim
                row = await self._table.get(pk, CLAIM_PREFIX + claim.chunk, select=["Done"])
                if row is None or etag_of(row) != claim.etag:
                    stale.add(claim.chunk)
            if stale:
                return stale
        raise error

    async def _landed(self, pk: str, chunks: list[str], write: str) -> list[str] | None:
        """The claim rows' ETags, in order, if `write` is the last write they took (a lost
        answer's try landed)."""
        rows = [await self._table.get(pk, CLAIM_PREFIX + c, select=["Write"]) for c in chunks]
        if not all(row is not None and row.get("Write") == write for row in rows):
            return None
        return [etag_of(row) for row in rows if row is not None]

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
        unfinished: list[datetime] = []
        async for row in self._table.query(query, parameters=parameters, select=columns):
            claimed += 1
            done += bool(row.get("Done"))
            if not row.get("Done") and (written := _latest(row.get("ClaimedAt"), row.get("At"))):
                unfinished.append(written)
            duplicates += int(row.get(POSSIBLE_DUPLICATES) or 0)
            for outcome, n in _counts(row).items():
                counts[outcome] += n
            started_at = _earliest(started_at, row.get("ClaimedAt"))
            last_at = _latest(last_at, row.get("At"))
        return Totals(counts, claimed, done, started_at, last_at, duplicates, tuple(unfinished))

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


def _claim_after(
    claim: ChunkClaim,
    results: Sequence[tuple[int, TargetResult]],
    writing: Sequence[tuple[int, TargetResult]],
) -> ChunkClaim:
    """The claim once `writing` (of `results`; the rest had outcomes already) is recorded."""
    counts = dict(claim.counts)
    for _, result in writing:
        counts[result.outcome] += 1
    return replace(
        claim,
        recorded=claim.recorded | {p for p, _ in results},
        counts=counts,
        possible_duplicates=claim.possible_duplicates
        + sum(r.possible_duplicate for _, r in writing),
    )


def _claim_row(pk: str, claim: ChunkClaim, done: bool, now: datetime, write: str) -> dict:
    return {
        "PartitionKey": pk,
        "RowKey": CLAIM_PREFIX + claim.chunk,
        "Done": done,
        "Recorded": _bitmap(claim.recorded),
        "At": now,
        "Write": write,
        POSSIBLE_DUPLICATES: claim.possible_duplicates,
        **{_count_property(o): n for o, n in claim.counts.items()},
    }


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
        # What people did with it (see shared/engagement/store.py).
        "readAt": read_at.isoformat() if (read_at := entity.get("ReadAt")) else None,
        "reactions": reaction_counts(entity),
        "actions": actions_on(entity),
    }


def reactions_on(row: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Each reaction type's people, and whether they have it on the target's message now, as of
    when (ISO time) they last changed it: {"like": {"29:ada": {"on": true, "at": "…"}}}."""
    return json.loads(row.get("Reactions") or "{}")


def reaction_counts(row: Mapping[str, Any]) -> dict[str, int]:
    """How many people have each reaction on the target's message."""
    counts = {k: sum(t["on"] for t in people.values()) for k, people in reactions_on(row).items()}
    return {kind: n for kind, n in counts.items() if n}


def actions_on(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The clicks on the target's card, oldest first."""
    return json.loads(row.get("Actions") or "[]")
