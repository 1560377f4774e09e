"""What people did with a notification's messages: who read them, reacted, clicked.

Each change lands on the target's outcome row (ReadAt, Reactions, Actions) and, in the same
transaction, on one of COUNTER_SHARDS counter rows of the notification's partition: the status
adds up a few rows instead of reading every target, and a change counts exactly once. The
transaction holds only if the target row is as it was read (its ETag), and a change already made
(a read read again, a reaction added twice) changes nothing, so running it again after a lost
answer or a crash counts nothing twice.
"""

from __future__ import annotations

import json
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
COUNTER_SHARDS = 8
MAX_ACTIONS_PER_TARGET = 50  # the latest kept on the row (a property holds 64 KiB)
TARGET_COLUMNS = ["ReadAt", "Reactions", "Actions"]


@dataclass(frozen=True)
class Engagement:
    """A notification's engagement, added up."""

    read: int = 0
    reactions: dict[str, int] = field(default_factory=dict)
    actions: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"read": self.read, "reactions": dict(self.reactions), "actions": self.actions}


@dataclass(frozen=True)
class Change:
    """What a change writes on the target row, and adds to the counters."""

    properties: Mapping[str, Any]
    read: int = 0
    reactions: Mapping[str, int] = field(default_factory=dict)
    actions: int = 0


class EngagementStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    async def read(self, notification_id: str, target: str, at: datetime) -> bool:
        """The target read its message at `at`; False if it had been read already."""

        def change(row: Mapping[str, Any]) -> Change | None:
            return None if row.get("ReadAt") else Change({"ReadAt": at}, read=1)

        return await self._apply(notification_id, target, change)

    async def react(
        self,
        notification_id: str,
        target: str,
        user_id: str,
        added: list[str],
        removed: list[str],
        at: datetime,
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
            return Change({"Reactions": json.dumps(reactions)}, reactions=delta)

        return await self._apply(notification_id, target, change)

    async def act(self, notification_id: str, target: str, action: dict[str, Any]) -> bool:
        """A click on the target's card (`action` carries an `id` that makes it once)."""

        def change(row: Mapping[str, Any]) -> Change | None:
            actions = actions_on(row)
            if any(a.get("id") == action["id"] for a in actions):
                return None
            actions = [*actions, action][-MAX_ACTIONS_PER_TARGET:]
            return Change({"Actions": json.dumps(actions)}, actions=1)

        return await self._apply(notification_id, target, change)

    async def totals(self, notification_id: str) -> Engagement:
        query = "PartitionKey eq @p and RowKey ge @from and RowKey lt @to"
        parameters = {
            "p": partition(notification_id),
            "from": COUNTER_PREFIX,
            "to": COUNTER_PREFIX[:-1] + ".",  # just past every "~engagement-…"
        }
        read = actions = 0
        reactions: dict[str, int] = {}
        async for row in self._table.query(query, parameters=parameters):
            read += int(row.get("Read") or 0)
            actions += int(row.get("Actions") or 0)
            for kind, n in json.loads(row.get("Reactions") or "{}").items():
                reactions[kind] = reactions.get(kind, 0) + n
        return Engagement(read, {k: n for k, n in reactions.items() if n > 0}, actions)

    async def _apply(
        self,
        notification_id: str,
        target: str,
        change_of: Callable[[Mapping[str, Any]], Change | None],
    ) -> bool:
        """Make the change on the target row and its counter row together, or nothing if the
        target has no row (no outcome recorded) or the change is made already."""
        pk = partition(notification_id)
        counter_key = f"{COUNTER_PREFIX}{int(target[0], 16) % COUNTER_SHARDS}"
        while True:
            row = await self._table.get(pk, target, select=TARGET_COLUMNS)
            if row is None:
                return False
            change = change_of(row)
            if change is None:
                return False
            counter = await self._table.get(pk, counter_key)
            counted = _counted(counter, change)
            counter_row = {"PartitionKey": pk, "RowKey": counter_key, **counted}
            operations = [
                MergeIfUnchanged({"PartitionKey": pk, "RowKey": target, **change.properties},
                                 etag_of(row)),
                Insert(counter_row) if counter is None
                else MergeIfUnchanged(counter_row, etag_of(counter)),
            ]  # fmt: skip
            try:
                await retried(lambda o=operations: transactions.submit(self._table, o), "Engaged")
                return True
            except TransactionRejected as rejected:
                if rejected.status_code not in (409, 412):
                    raise
                # Another change to the target or its counter landed first (or this one's lost
                # answer did): read both again.


def _counted(counter: Mapping[str, Any] | None, change: Change) -> dict[str, Any]:
    counter = counter or {}
    reactions = json.loads(counter.get("Reactions") or "{}")
    for kind, n in change.reactions.items():
        reactions[kind] = reactions.get(kind, 0) + n
    return {
        "Read": int(counter.get("Read") or 0) + change.read,
        "Actions": int(counter.get("Actions") or 0) + change.actions,
        "Reactions": json.dumps(reactions),
    }
