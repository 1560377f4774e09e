"""Notification records: every notification's id, state, request and report, in Table Storage.

A notification goes through the states in `lifecycle`. Claims are ETag-conditional updates, so
two timer runs that overlap never both send one notification; a claim that outlives any Functions
run belongs to an instance that died, and the next run takes it over. A queued notification's
record also counts how much of its audience has been split into work (pages, matched targets);
its per-target outcomes are in `outcomes`.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from shared.notifications.lifecycle import CLAIM_EXPIRES_AFTER, State
from shared.storage.large_values import json_properties, json_value, report_properties
from shared.storage.tables import MAX_REPORT_BYTES, MAX_REQUEST_BYTES, Table, etag_of

logger = logging.getLogger(__name__)

PARTITION = "notification"
NOTIFICATION_ID = re.compile(r"[0-9a-f]{32}")  # what new_id makes
# What POST /api/notify/{id}/cancel can stop. An inline send is over within its request.
CANCELLABLE = (State.SCHEDULED, State.QUEUED)
# Kinds of record: a notification sent by the webhook or the timer, a reminder, and the two
# revisions of a sent notification (PATCH and DELETE /api/notify/{id}).
NOTIFY, UPDATE, RECALL = "notify", "update", "recall"
REVISIONS = (UPDATE, RECALL)


class NoSuchNotification(LookupError):
    """No notification has this id (or it is malformed)."""


@dataclass(frozen=True)
class Notification:
    id: str
    state: State
    request: dict[str, Any]  # the validated notify body
    created_at: datetime
    send_at: datetime | None = None
    claimed_at: datetime | None = None
    report: dict[str, Any] | None = None
    kind: str = NOTIFY  # or "reminder", UPDATE, RECALL
    owner: str = ""  # for reminders: the conversation that asked, as channel id + conversation id
    # A recurring reminder: its RRULE body and the IANA zone it is read in; each occurrence is
    # its own record, and the next is stored when one is claimed.
    rule: str = ""
    zone: str = ""
    revises: str = ""  # for an update or a recall: the notification whose messages it changes
    revisions: tuple[str, ...] = ()  # updates and recalls of this one, oldest first
    # Queued delivery's progress: pages of the audience split into work, targets they matched.
    pages_expanded: int = 0
    matched: int = 0
    expanded: bool = False  # the last page is split: `matched` is final
    started_at: datetime | None = None
    finished_at: datetime | None = None  # of an inline send
    cancelled_at: datetime | None = None
    error: str = ""
    etag: str = ""

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    @staticmethod
    def is_id(text: str) -> bool:
        return bool(NOTIFICATION_ID.fullmatch(text or ""))

    def to_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "id": self.id,
            "state": self.state.value,
            "createdAt": self.created_at.isoformat(),
            "sendAt": self.send_at.isoformat() if self.send_at else None,
        }
        if self.report is not None:
            status["report"] = self.report
        if self.revises:
            status.update(action=self.kind, revises=self.revises)
        if self.revisions:
            status["revisions"] = list(self.revisions)
        if self.error:
            status["error"] = self.error
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
            "Revises": self.revises,
            "Revisions": ",".join(self.revisions),
            "PagesExpanded": self.pages_expanded,
            "Matched": self.matched,
            "Expanded": self.expanded,
            "Error": self.error,
        }
        for name, value in (
            ("StartedAt", self.started_at),
            ("FinishedAt", self.finished_at),
            ("CancelledAt", self.cancelled_at),
        ):
            if value is not None:
                entity[name] = value
        if self.rule:
            entity["Rule"], entity["Zone"] = self.rule, self.zone
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
            kind=entity.get("Kind", NOTIFY),
            owner=entity.get("Owner", ""),
            rule=entity.get("Rule", ""),
            zone=entity.get("Zone", ""),
            revises=entity.get("Revises", ""),
            revisions=tuple(filter(None, entity.get("Revisions", "").split(","))),
            pages_expanded=entity.get("PagesExpanded", 0),
            matched=entity.get("Matched", 0),
            expanded=entity.get("Expanded", False),
            started_at=entity.get("StartedAt"),
            finished_at=entity.get("FinishedAt"),
            cancelled_at=entity.get("CancelledAt"),
            error=entity.get("Error", ""),
            etag=etag_of(entity),
        )


class NotificationStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    async def add(self, notification: Notification) -> Notification:
        """Store a new record; RowExistsError if one has its id already."""
        etag = await self._table.insert(notification._entity())
        return replace(notification, etag=etag)

    async def get(self, notification_id: str) -> Notification | None:
        entity = await self._table.get(PARTITION, notification_id)
        return None if entity is None else Notification._from_entity(entity)

    async def to_split(
        self, notification_id: str, page: int, redelivered: bool, cancelled_too: bool = False
    ) -> Notification | None:
        """The record, if page `page` of its audience is still to be split into work: it is
        queued (or, `cancelled_too`, cancelled: its targets are then recorded as such), and the
        page is not counted yet (a redelivered item runs again, since the run before it may have
        died mid-way). None otherwise, saying why in the log."""
        notification = await self.get(notification_id)
        splittable = (State.QUEUED, State.CANCELLED) if cancelled_too else (State.QUEUED,)
        if notification is None or notification.state not in splittable:
            why = "no such record" if notification is None else notification.state
            logger.info("Not splitting page %d of notification %s: %s", page, notification_id, why)
            return None
        if notification.pages_expanded > page and not redelivered:
            return None  # a copy of an item that already ran to the end
        return notification

    async def state_of(self, notification_id: str) -> State | None:
        """Just its state: a cheap read for runs that check for a cancel while they send."""
        entity = await self._table.get(PARTITION, notification_id, select=["State"])
        return None if entity is None else State(entity["State"])

    async def due(self, now: datetime) -> AsyncIterator[Notification]:
        """Scheduled ones whose time has come, claims abandoned by a dead instance, and queued
        ones whose first work item never started (the enqueue after the record was lost)."""
        query = (
            "PartitionKey eq @partition and ( ( State eq @scheduled and SendAt le @now ) "
            "or ( State eq @sending and ClaimedAt le @abandoned ) "
            "or ( State eq @queued and ClaimedAt le @abandoned and PagesExpanded eq 0 ) )"
        )
        parameters = {
            "partition": PARTITION,
            "scheduled": State.SCHEDULED.value,
            "sending": State.SENDING.value,
            "queued": State.QUEUED.value,
            "now": now,
            "abandoned": now - CLAIM_EXPIRES_AFTER,
        }
        async for entity in self._table.query(query, parameters=parameters):
            yield Notification._from_entity(entity)

    async def scheduled_for(self, owner: str, kind: str) -> list[Notification]:
        query = (
            "PartitionKey eq @partition and Owner eq @owner and Kind eq @kind and State eq @state"
        )
        parameters = {
            "partition": PARTITION,
            "owner": owner,
            "kind": kind,
            "state": State.SCHEDULED.value,
        }
        found = [
            Notification._from_entity(e)
            async for e in self._table.query(query, parameters=parameters)
        ]
        return sorted(found, key=lambda n: (n.send_at, n.created_at))

    async def claim(
        self, notification: Notification, now: datetime, state: State = State.SENDING
    ) -> Notification | None:
        """Move it to `state` (sending, or queued) if nobody changed it since it was read; None
        if someone did."""
        claimed = replace(notification, state=state, claimed_at=now)
        return await self._replace(claimed)

    async def record_page(
        self, notification: Notification, page: int, matched: int, last: bool, started: datetime
    ) -> None:
        """Count a page of the audience as split into work, once however often it is split.
        `notification` is the record as read before; it is read again only if it changed.
        `started` is when the run that split the page began: before any outcome of the page was
        recorded, so the first page's is when the notification started."""
        current: Notification | None = notification
        while current is not None:
            if current.pages_expanded > page:
                return  # a copy of this page's item counted it already
            counted = replace(
                current,
                pages_expanded=page + 1,
                matched=current.matched + matched,
                expanded=last,
                started_at=current.started_at or started,
            )
            if await self._replace(counted) is not None:
                return
            current = await self.get(notification.id)

    async def fail(self, notification_id: str, error: str) -> None:
        """Mark it failed with why (its audience could not be read, even after retries)."""
        while (notification := await self.get(notification_id)) is not None:
            if await self._replace(replace(notification, state=State.FAILED, error=error)):
                return

    async def cancel_delivery(self, notification_id: str, now: datetime) -> Notification | None:
        """Mark a scheduled or queued notification cancelled; the record as it then stands
        (unchanged if it was past cancelling), or None if there is none."""
        while (notification := await self.get(notification_id)) is not None:
            if notification.state not in CANCELLABLE:
                return notification
            cancelled = replace(notification, state=State.CANCELLED, cancelled_at=now)
            if (done := await self._replace(cancelled)) is not None:
                return done
        return None

    async def finish(
        self,
        notification: Notification,
        report: dict[str, Any],
        now: datetime,
        state: State = State.DONE,
    ) -> Notification:
        done = replace(notification, state=state, report=report, finished_at=now)
        finished = await self._replace(done)
        if finished is None:
            raise RuntimeError(f"notification {notification.id} changed while it was sending")
        return finished

    async def add_revision(
        self, notification: Notification, revision_id: str, request: dict[str, Any] | None
    ) -> bool:
        """Note an update or a recall on the notification it changes (with the body it now
        sends, for an update), unless the record changed since it was read."""
        revised = replace(
            notification,
            revisions=(*notification.revisions, revision_id),
            request=request or notification.request,
        )
        return await self._replace(revised) is not None

    async def replace_request(
        self, notification: Notification, request: dict[str, Any]
    ) -> Notification | None:
        """A scheduled notification's body, changed before it is sent; None if it was claimed
        (or changed) since it was read."""
        return await self._replace(replace(notification, request=request))

    async def cancel(self, notification: Notification) -> bool:
        """Delete a scheduled notification unless it was claimed meanwhile."""
        return await self._table.delete_if_unchanged(PARTITION, notification.id, notification.etag)

    async def _replace(self, notification: Notification) -> Notification | None:
        etag = await self._table.update_if_unchanged(notification._entity(), notification.etag)
        return None if etag is None else replace(notification, etag=etag)
