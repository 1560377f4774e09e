"""What people did with a notification's messages: who read them, reacted, clicked.

Each change lands on the target's outcome row (ReadAt, Reactions, Actions) and, in the same
transaction, on one of COUNTER_SHARDS counter rows of the notification's partition: the status
adds up a few rows instead of reading every target, and a change counts exactly once. The
transaction holds only if the target row is as it was read (its ETag), and a change already made
(a read read again, a reaction added twice) changes nothing, so running it again after a lost
answer or a crash counts nothing twice. A callback event the notification's caller wants is a row
(EVENT_PREFIX) made in that same transaction, and counted again when it is delivered or given up.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.notifications.outcome_store import actions_on, partition, reactions_on
from shared.storage import transactions
from shared.storage.tables import Table, etag_of, retried
from shared.storage.transactions import Insert, MergeIfUnchanged, TransactionRejected

# Counter rows sort after every target row and claim row ("~chunk-…").
COUNTER_PREFIX = "~engagement-"
# Changes to one notification from many people at once spread over this many rows.
COUNTER_SHARDS = 32
EVENT_PREFIX = "~event-"  # a callback event's row, and its delivery: pending, delivered, gave up
PENDING, DELIVERED, GAVE_UP = "pending", "delivered", "gaveUp"
MAX_ACTIONS_PER_TARGET = 50  # the latest kept on the row (a property holds 64 KiB)
TARGET_COLUMNS = ["ReadAt", "Reactions", "Actions", "ConversationId"]


@dataclass(frozen=True)
class Engagement:
    """A notification's engagement, added up."""

    read: int = 0
    reactions: dict[str, int] = field(default_factory=dict)
    actions: int = 0
    events: int = 0  # callback events made
    delivered: int = 0
    gave_up: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"read": self.read, "reactions": dict(self.reactions), "actions": self.actions}

    def callbacks(self) -> dict[str, int]:
        pending = self.events - self.delivered - self.gave_up
        return {"delivered": self.delivered, "gaveUp": self.gave_up, "pending": pending}


@dataclass(frozen=True)
class Change:
    """What a change writes on the target row, and adds to the counters."""

    properties: Mapping[str, Any]
    read: int = 0
    reactions: Mapping[str, int] = field(default_factory=dict)
    actions: int = 0
    data: Mapping[str, Any] = field(default_factory=dict)  # what its callback event tells


@dataclass(frozen=True)
class EventOrder:
    """A callback event to record with a change, in the same transaction (so a change and its
    event are made together or not at all): its id is made from what told of the change, so
    running the change again finds the event it made."""

    id: str
    type: str  # "notification.read", …
    user_id: str
    at: datetime


@dataclass(frozen=True)
class PendingEvent:
    id: str
    body: str  # the JSON to POST, exactly as first written
    attempts: int
    etag: str


def event_id(*parts: str) -> str:
    return "evt_" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


class EngagementStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    async def read(
        self, notification_id: str, target: str, at: datetime, event: EventOrder | None = None
    ) -> bool:
        """The target read its message at `at`; False if it had been read already."""

        def change(row: Mapping[str, Any]) -> Change | None:
            return None if row.get("ReadAt") else Change({"ReadAt": at}, read=1)

        return await self._apply(notification_id, target, change, event)

    async def react(
        self,
        notification_id: str,
        target: str,
        user_id: str,
        added: list[str],
        removed: list[str],
        at: datetime,
        event: EventOrder | None = None,
    ) -> bool:
        """Reactions a person added to and removed from the target's message at `at`; False if
        that changed nothing (told before, or after a later change: the queue keeps no order)."""
        stamp = at.isoformat()

        def change(row: Mapping[str, Any]) -> Change | None:
            reactions = reactions_on(row)
            delta: dict[str, int] = {}
            changed = False
            for kind, on in [*((k, True) for k in added), *((k, False) for k in removed)]:
                told = reactions.setdefault(kind, {}).get(user_id)
                if told is not None and told["at"] >= stamp:
                    continue  # told already, or a later change of it came first
                # A removal is kept too: an addition told before it, and run after, is older.
                reactions[kind][user_id] = {"on": on, "at": stamp}
                changed = True
                if on != bool(told and told["on"]):
                    delta[kind] = delta.get(kind, 0) + (1 if on else -1)
            if not changed:
                return None
            data = {"added": added, "removed": removed}
            return Change({"Reactions": json.dumps(reactions)}, reactions=delta, data=data)

        return await self._apply(notification_id, target, change, event)

    async def act(
        self,
        notification_id: str,
        target: str,
        action: dict[str, Any],
        event: EventOrder | None = None,
    ) -> bool:
        """A click on the target's card (`action` carries an `id` that makes it once)."""

        def change(row: Mapping[str, Any]) -> Change | None:
            actions = actions_on(row)
            if any(a.get("id") == action["id"] for a in actions):
                return None
            actions = [*actions, action][-MAX_ACTIONS_PER_TARGET:]
            data = {k: action[k] for k in ("verb", "data") if k in action}
            return Change({"Actions": json.dumps(actions)}, actions=1, data=data)

        return await self._apply(notification_id, target, change, event)

    async def totals(self, notification_id: str) -> Engagement:
        query = "PartitionKey eq @p and RowKey ge @from and RowKey lt @to"
        parameters = {
            "p": partition(notification_id),
            "from": COUNTER_PREFIX,
            "to": COUNTER_PREFIX[:-1] + ".",  # just past every "~engagement-…"
        }
        sums = dict.fromkeys(("Read", "Actions", "Events", "Delivered", "GaveUp"), 0)
        reactions: dict[str, int] = {}
        async for row in self._table.query(query, parameters=parameters):
            for name in sums:
                sums[name] += int(row.get(name) or 0)
            for kind, n in json.loads(row.get("Reactions") or "{}").items():
                reactions[kind] = reactions.get(kind, 0) + n
        return Engagement(
            sums["Read"],
            {k: n for k, n in reactions.items() if n > 0},
            sums["Actions"],
            sums["Events"],
            sums["Delivered"],
            sums["GaveUp"],
        )

    async def make_event(
        self,
        notification_id: str,
        event: EventOrder,
        data: Mapping[str, Any],
        conversation_id: str = "",
    ) -> bool:
        """A callback event that changes no target (the notification `done`, a question
        answered), counted once; False if it was made already (by another run, or by this one's
        try whose answer was lost)."""
        pk = partition(notification_id)
        target = {"ConversationId": conversation_id}
        row = _event_row(pk, notification_id, target, Change({}, data=data), event)
        while True:
            refused = await self._counted_with(pk, [Insert(row)], lambda c: _added(c, "Events"))
            if refused is None:
                return True
            if await self._table.get(pk, row["RowKey"], select=["State"]) is not None:
                return False

    async def pending_event(self, notification_id: str, event: str) -> PendingEvent | None:
        """The callback event, if it was made and is still to deliver."""
        row = await self._table.get(partition(notification_id), EVENT_PREFIX + event)
        if row is None or row.get("State") != PENDING:
            return None
        return PendingEvent(event, row["Body"], int(row.get("Attempts") or 0), etag_of(row))

    async def attempted(self, notification_id: str, event: PendingEvent, error: str) -> bool:
        """One more attempt failed and another follows; False if another run settled or tried
        it meanwhile."""
        row = {
            "PartitionKey": partition(notification_id),
            "RowKey": EVENT_PREFIX + event.id,
            "Attempts": event.attempts + 1,
            "LastError": error[:1000],
        }
        return await self._table.update_if_unchanged(row, event.etag, merge=True) is not None

    async def settle(
        self, notification_id: str, event: PendingEvent, state: str, error: str = ""
    ) -> bool:
        """The event delivered, or given up on, counted once; False if another run settled or
        tried it meanwhile (or this one's try whose answer was lost did)."""
        pk = partition(notification_id)
        row = {
            "PartitionKey": pk,
            "RowKey": EVENT_PREFIX + event.id,
            "State": state,
            "Attempts": event.attempts + 1,
            "LastError": error[:1000],
        }
        counted = "Delivered" if state == DELIVERED else "GaveUp"
        operations = [MergeIfUnchanged(row, event.etag)]
        while True:
            if await self._counted_with(pk, operations, lambda c: _added(c, counted)) is None:
                return True
            current = await self.pending_event(notification_id, event.id)
            if current is None or current.etag != event.etag:
                return False

    async def _apply(
        self,
        notification_id: str,
        target: str,
        change_of: Callable[[Mapping[str, Any]], Change | None],
        event: EventOrder | None,
    ) -> bool:
        """Make the change on the target row and its counter row together (with its callback
        event, if one is ordered), or nothing if the target has no row (no outcome recorded) or
        the change is made already."""
        pk = partition(notification_id)
        row = await self._table.get(pk, target, select=TARGET_COLUMNS)
        while True:
            if row is None:
                return False
            change = change_of(row)
            if change is None:
                return False
            events = 1 if event is not None else 0
            properties = {"PartitionKey": pk, "RowKey": target, **change.properties}
            operations: list[transactions.Operation] = [MergeIfUnchanged(properties, etag_of(row))]
            if event is not None:
                operations.append(Insert(_event_row(pk, notification_id, row, change, event)))
            refused = await self._counted_with(
                pk, operations, lambda c, change=change, events=events: _counted(c, change, events)
            )
            if refused is None:
                return True
            # The target changed meanwhile (or this one's lost answer landed): read it again.
            row = await self._table.get(pk, target, select=TARGET_COLUMNS)

    async def _counted_with(
        self,
        pk: str,
        operations: list[transactions.Operation],
        counts: Callable[[Mapping[str, Any] | None], dict[str, Any]],
    ) -> int | None:
        """Apply `operations` and an addition to a counter row in one transaction: None once it
        landed, else the index of the operation refused (409 or 412). A counter row another
        change took first is read again, or another one picked."""
        while True:
            key = _any_counter()
            counter = await self._table.get(pk, key)
            row = {"PartitionKey": pk, "RowKey": key, **counts(counter)}
            write = Insert(row) if counter is None else MergeIfUnchanged(row, etag_of(counter))
            together = [*operations, write]
            try:
                await retried(lambda t=together: transactions.submit(self._table, t), "Counted")
                return None
            except TransactionRejected as rejected:
                if rejected.status_code not in (409, 412):
                    raise
                if rejected.index != len(operations):
                    return rejected.index or 0


def _any_counter() -> str:
    """A counter row to add to: any of them (the status adds them all up), picked at random so
    that changes to one notification at once seldom meet on one row."""
    return f"{COUNTER_PREFIX}{random.randrange(COUNTER_SHARDS)}"  # noqa: S311 - not a secret


def _added(counter: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    return {name: int((counter or {}).get(name) or 0) + 1}


def _counted(counter: Mapping[str, Any] | None, change: Change, events: int) -> dict[str, Any]:
    counter = counter or {}
    reactions = json.loads(counter.get("Reactions") or "{}")
    for kind, n in change.reactions.items():
        reactions[kind] = reactions.get(kind, 0) + n
    return {
        "Read": int(counter.get("Read") or 0) + change.read,
        "Actions": int(counter.get("Actions") or 0) + change.actions,
        "Reactions": json.dumps(reactions),
        "Events": int(counter.get("Events") or 0) + events,
    }


def _event_row(
    pk: str, notification_id: str, target: Mapping[str, Any], change: Change, event: EventOrder
) -> dict[str, Any]:
    body = {
        "type": event.type,
        "notificationId": notification_id,
        "conversationId": target.get("ConversationId", ""),
        "userId": event.user_id,
        "data": dict(change.data),
        "timestamp": event.at.isoformat(),
    }
    return {
        "PartitionKey": pk,
        "RowKey": EVENT_PREFIX + event.id,
        "Body": json.dumps(body),
        "State": PENDING,
        "Attempts": 0,
    }
