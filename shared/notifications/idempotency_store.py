"""Idempotency-Key for webhooks: a repeated request returns the first answer and sends nothing.

Records live in Table Storage, so they hold across instances. The first request claims its key
by inserting a row (insert fails if the row exists: no read-then-write race); a second request
with the same key sees the claim and answers from it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.notifications.lifecycle import CLAIM_EXPIRES_AFTER, State
from shared.storage.keys import encode_key
from shared.storage.large_values import json_value, report_properties
from shared.storage.tables import MAX_REPORT_BYTES, RowExistsError, Table, etag_of

PARTITION = "idempotency-key"
REMEMBER_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Claimed:
    etag: str


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class InProgress:
    pass


@dataclass(frozen=True)
class KeyReusedWithOtherBody:
    pass


Outcome = Claimed | Replay | InProgress | KeyReusedWithOtherBody


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class IdempotencyStore:
    def __init__(self, table: Table, clock: Callable[[], datetime]) -> None:
        self._table = table
        self._clock = clock

    async def claim(self, key: str, digest: str) -> Outcome:
        row = encode_key(key)
        now = self._clock()
        entity = {
            "PartitionKey": PARTITION,
            "RowKey": row,
            "Digest": digest,
            "State": State.SENDING.value,
            "ClaimedAt": now,
        }
        while True:
            try:
                return Claimed(await self._table.insert(entity))
            except RowExistsError:
                pass
            existing = await self._table.get(PARTITION, row)
            if existing is None:
                continue  # released between our insert and read: try the insert again
            outcome = self._judge(existing, digest, now)
            if outcome is not None:
                return outcome
            # Stale: take it over, but only if nobody else changed it since we read it.
            etag = await self._table.update_if_unchanged(entity, etag_of(existing))
            if etag is not None:
                return Claimed(etag)

    async def complete(
        self, key: str, digest: str, claim: Claimed, status: int, body: dict[str, Any]
    ) -> None:
        entity = {
            "PartitionKey": PARTITION,
            "RowKey": encode_key(key),
            "Digest": digest,
            "State": State.DONE.value,
            "CompletedAt": self._clock(),
            "Status": status,
            **report_properties("Report", body, MAX_REPORT_BYTES),
        }
        if await self._table.update_if_unchanged(entity, claim.etag) is None:
            raise RuntimeError("Idempotency-Key claim was taken over while sending")

    async def release(self, key: str, claim: Claimed) -> None:
        """Give the key back after a failure, so a retry of the request runs again."""
        await self._table.delete_if_unchanged(PARTITION, encode_key(key), claim.etag)

    def _judge(self, existing: dict, digest: str, now: datetime) -> Outcome | None:
        """What an existing record means for this request; None when it is stale."""
        if existing.get("State") == State.DONE.value:
            if now - existing["CompletedAt"] > REMEMBER_FOR:
                return None
            if existing.get("Digest") != digest:
                return KeyReusedWithOtherBody()
            return Replay(existing.get("Status", 200), json_value(existing, "Report"))
        if now - existing["ClaimedAt"] > CLAIM_EXPIRES_AFTER:
            return None
        if existing.get("Digest") != digest:
            return KeyReusedWithOtherBody()
        return InProgress()
