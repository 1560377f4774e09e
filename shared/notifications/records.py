"""Notification records: every notification's id, state, request and report, in Table Storage.

A notification goes through the states in `lifecycle`. Claims are ETag-conditional updates, so
two timer runs that overlap never both send one notification; a claim that outlives any Functions
run belongs to an instance that died, and the next run takes it over.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from shared.notifications.lifecycle import CLAIM_EXPIRES_AFTER, State
from shared.storage.large_values import json_properties, json_value, report_properties
from shared.storage.tables import MAX_REPORT_BYTES, MAX_REQUEST_BYTES, Table, storage_errors

PARTITION = "notification"


@dataclass(frozen=True)
class Notification:
    id: str
    state: State
    request: dict[str, Any]  # the validated notify body
    created_at: datetime
    send_at: datetime | None = None
    claimed_at: datetime | None = None
    report: dict[str, Any] | None = None
    kind: str = "notify"  # or "reminder"
    owner: str = ""  # for reminders: the conversation that asked, as channel id + conversation id
    etag: str = ""

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    def to_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "id": self.id,
            "state": self.state.value,
            "createdAt": self.created_at.isoformat(),
            "sendAt": self.send_at.isoformat() if self.send_at else None,
        }
        if self.report is not None:
            status["report"] = self.report
        return status

    def _entity(self) -> dict[str, Any]:
        entity: dict[str, Any] = {
            "PartitionKey": PARTITION,
            "RowKey": self.id,
            "State": self.state.value,
            **json_properties("Request", self.request, MAX_REQUEST_BYTES),
            "CreatedAt": self.created_at,
            "Kind": self.kind,
            "Owner": self.owner,
        }
        if self.send_at is not None:
            entity["SendAt"] = self.send_at
        if self.claimed_at is not None:
            entity["ClaimedAt"] = self.claimed_at
        if self.report is not None:
            entity.update(report_properties("Report", self.report, MAX_REPORT_BYTES))
        return entity

    @classmethod
    def _from_entity(cls, entity: dict[str, Any]) -> Notification:
        return cls(
            id=entity["RowKey"],
            state=State(entity["State"]),
            request=json_value(entity, "Request"),
            created_at=entity["CreatedAt"],
            send_at=entity.get("SendAt"),
            claimed_at=entity.get("ClaimedAt"),
            report=json_value(entity, "Report"),
            kind=entity.get("Kind", "notify"),
            owner=entity.get("Owner", ""),
            etag=entity.metadata["etag"],
        )


class NotificationStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    async def add(self, notification: Notification) -> Notification:
        table = await self._table.client()
        with storage_errors():
            created = await table.create_entity(notification._entity())
        return replace(notification, etag=created["etag"])

    async def get(self, notification_id: str) -> Notification | None:
        table = await self._table.client()
        with storage_errors():
            try:
                entity = await table.get_entity(PARTITION, notification_id)
            except ResourceNotFoundError:
                return None
        return Notification._from_entity(entity)

    async def due(self, now: datetime) -> AsyncIterator[Notification]:
        """Scheduled ones whose time has come, and claims abandoned by a dead instance."""
        table = await self._table.client()
        query = (
            "PartitionKey eq @partition and ( ( State eq @scheduled and SendAt le @now ) "
            "or ( State eq @sending and ClaimedAt le @abandoned ) )"
        )
        parameters = {
            "partition": PARTITION,
            "scheduled": State.SCHEDULED.value,
            "sending": State.SENDING.value,
            "now": now,
            "abandoned": now - CLAIM_EXPIRES_AFTER,
        }
        with storage_errors():
            async for entity in table.query_entities(query, parameters=parameters):
                yield Notification._from_entity(entity)

    async def scheduled_for(self, owner: str, kind: str) -> list[Notification]:
        table = await self._table.client()
        query = (
            "PartitionKey eq @partition and Owner eq @owner and Kind eq @kind and State eq @state"
        )
        parameters = {
            "partition": PARTITION,
            "owner": owner,
            "kind": kind,
            "state": State.SCHEDULED.value,
        }
        with storage_errors():
            found = [
                Notification._from_entity(e)
                async for e in table.query_entities(query, parameters=parameters)
            ]
        return sorted(found, key=lambda n: (n.send_at, n.created_at))

    async def claim(self, notification: Notification, now: datetime) -> Notification | None:
        """Mark it `sending` if nobody changed it since it was read; None if someone did."""
        claimed = replace(notification, state=State.SENDING, claimed_at=now)
        return await self._replace(claimed)

    async def finish(
        self, notification: Notification, report: dict[str, Any], state: State = State.DONE
    ) -> Notification:
        done = replace(notification, state=state, report=report)
        finished = await self._replace(done)
        if finished is None:
            raise RuntimeError(f"notification {notification.id} changed while it was sending")
        return finished

    async def cancel(self, notification: Notification) -> bool:
        """Delete a scheduled notification unless it was claimed meanwhile."""
        return await self._table.delete_if_unchanged(PARTITION, notification.id, notification.etag)

    async def _replace(self, notification: Notification) -> Notification | None:
        etag = await self._table.update_if_unchanged(notification._entity(), notification.etag)
        return None if etag is None else replace(notification, etag=etag)
