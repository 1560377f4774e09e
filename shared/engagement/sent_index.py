"""Where each message of a notification went, found again from its conversation: what read
receipts and reactions are matched against.

Teams tells the bot that someone read a chat up to a message (`lastReadMessageId`) or reacted to
one (`replyToId`), naming only the conversation and a message id. So each message sent is indexed
under its conversation: a row per message, keyed `<conversation digest>.<message id>`, in one of
BUCKETS partitions chosen by the conversation. One query (a key range of one partition) finds a
conversation's unread messages up to an id; a point read finds the one reacted to. A conversation
no notification reached costs that one small read and nothing more.

Rows are written with the outcomes (before them: a message whose outcome says sent is findable),
one transaction per bucket a batch of outcomes touches, as upserts: written twice is written once.
Teams message ids are the milliseconds of the send, so numeric ids are padded to sort as numbers;
other ids (local channels) sort after every numeric one and are found by reactions only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from shared.delivery.outcomes import Outcome, TargetResult
from shared.notifications.outcome_store import target_row
from shared.storage import transactions
from shared.storage.references import stored_conversation_id
from shared.storage.tables import MAX_TRANSACTION_OPERATIONS, Table, retried
from shared.storage.transactions import Upsert

# Few partitions: a batch of 99 outcomes is at most this many transactions, and each partition
# still takes thousands of writes a second.
BUCKETS = 2
PARTITION_PREFIX = "sent-"
ID_DIGITS = 20  # Teams' ids are 13 digits (milliseconds since 1970) until the year 2286


@dataclass(frozen=True)
class SentMessage:
    """A message a notification sent, as the index knows it."""

    notification_id: str
    target_row: str  # the target's outcome row in the notification's partition
    activity_id: str
    unread: bool
    partition_key: str
    row_key: str


def sort_key(activity_id: str) -> str:
    """The id as it sorts in the index: numeric ids padded, others after them all."""
    if activity_id.isdigit() and len(activity_id) <= ID_DIGITS:
        return activity_id.zfill(ID_DIGITS)
    return "x" + activity_id


def _conversation(channel_id: str, conversation_id: str) -> tuple[str, str]:
    """The partition and key prefix of a conversation's rows. A channel thread's id and its
    post's (`;messageid=`) name the same conversation, as the references do."""
    digest = target_row(channel_id, stored_conversation_id(channel_id, conversation_id))
    return f"{PARTITION_PREFIX}{int(digest[0], 16) % BUCKETS}", digest + "."


class SentIndex:
    def __init__(self, table: Table) -> None:
        self._table = table

    async def add(self, notification_id: str, results: Sequence[TargetResult]) -> None:
        """Index the messages among `results` that were sent and have an id."""
        by_partition: dict[str, list[Upsert]] = {}
        for result in results:
            if result.outcome is not Outcome.SENT or not result.activity_id:
                continue
            partition, prefix = _conversation(
                result.channel_id, result.sent_in or result.conversation_id
            )
            row = {
                "PartitionKey": partition,
                "RowKey": prefix + sort_key(result.activity_id),
                "NotificationId": notification_id,
                "TargetRow": target_row(result.channel_id, result.conversation_id),
                "ActivityId": result.activity_id,
                "Unread": True,
            }
            by_partition.setdefault(partition, []).append(Upsert(row))
        writes = [
            operations[start : start + MAX_TRANSACTION_OPERATIONS]
            for operations in by_partition.values()
            for start in range(0, len(operations), MAX_TRANSACTION_OPERATIONS)
        ]
        await asyncio.gather(
            *(retried(lambda w=w: transactions.submit(self._table, w), "Indexing sent messages")
              for w in writes)
        )  # fmt: skip

    async def unread_up_to(
        self, channel_id: str, conversation_id: str, activity_id: str
    ) -> list[SentMessage]:
        """The conversation's messages not yet read, sent up to and including `activity_id`."""
        if not activity_id.isdigit() or len(activity_id) > ID_DIGITS:
            return []
        partition, prefix = _conversation(channel_id, conversation_id)
        query = "PartitionKey eq @p and RowKey ge @low and RowKey le @high and Unread eq true"
        parameters = {"p": partition, "low": prefix, "high": prefix + sort_key(activity_id)}
        return [_message(row) async for row in self._table.query(query, parameters=parameters)]

    async def find(
        self, channel_id: str, conversation_id: str, activity_id: str
    ) -> SentMessage | None:
        """The notification message with this id in the conversation, if one is."""
        if not activity_id:
            return None
        partition, prefix = _conversation(channel_id, conversation_id)
        row = await self._table.get(partition, prefix + sort_key(activity_id))
        return None if row is None else _message(row)

    async def mark_read(self, partition_key: str, row_key: str) -> None:
        """Leave the message out of later receipts' reads (its read is recorded by then)."""
        await self._table.merge_if_there(
            {"PartitionKey": partition_key, "RowKey": row_key, "Unread": False}
        )


def _message(row: dict) -> SentMessage:
    return SentMessage(
        notification_id=row["NotificationId"],
        target_row=row["TargetRow"],
        activity_id=row.get("ActivityId", ""),
        unread=bool(row.get("Unread")),
        partition_key=row["PartitionKey"],
        row_key=row["RowKey"],
    )
