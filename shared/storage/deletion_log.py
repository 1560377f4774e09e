"""Which references were deleted lately, for the instances that are sending to them.

A fan-out reads its targets once, then sends for seconds or minutes; a conversation that says
"stop" meanwhile must get nothing. Asking the references table again for every waiting target
costs a query per fan-out (a queue instance runs dozens at once) and grows with the audience.
Instead every deletion of a reference is also written here, and a sending instance reads what was
logged since it last looked: a small query, however many targets wait.

Rows, in the partition `deleted-<UTC hour>` of the table handed in: the row key is the deletion's
UTC time (sortable) and a digest of the reference's keys, which are kept beside it. Rows older
than RETENTION are dropped by the timer (drop_expired).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from azure.data.tables import TableTransactionError, UpdateMode

from shared.storage.string_queries import quoted, string_rows
from shared.storage.tables import MAX_TRANSACTION_OPERATIONS, Table, storage_errors

PARTITION_PREFIX = "deleted-"
# Longer than any fan-out runs (a Functions run lasts 10 minutes at most), with room to look.
RETENTION = timedelta(days=1)
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width: row keys sort by time


@dataclass(frozen=True)
class Deletion:
    at: datetime
    partition_key: str  # the reference's keys
    row_key: str


class DeletionLog:
    def __init__(self, table: Table, clock: Callable[[], datetime]) -> None:
        """`clock`: the app's wall clock (aware), the one fan-outs time their reads by."""
        self._table = table
        self._clock = clock

    async def record(self, partition_key: str, row_key: str) -> None:
        at = self._clock().astimezone(timezone.utc)
        digest = hashlib.sha256(f"{partition_key}/{row_key}".encode()).hexdigest()[:16]
        entity = {
            "PartitionKey": _partition(at),
            "RowKey": f"{at.strftime(_TIME_FORMAT)}|{digest}",
            "Reference": partition_key,
            "Row": row_key,
        }
        table = await self._table._client_ready()
        with storage_errors():
            await table.upsert_entity(entity, mode=UpdateMode.REPLACE)

    async def since(self, when: datetime) -> list[Deletion]:
        """The deletions logged at or after `when`, oldest first."""
        when = when.astimezone(timezone.utc)
        found: list[Deletion] = []
        for hour in _hours(when, self._clock()):
            query_filter = (
                f"PartitionKey eq {quoted(_partition(hour))} "
                f"and RowKey ge {quoted(when.strftime(_TIME_FORMAT))}"
            )
            columns = ("RowKey", "Reference", "Row")
            async for row in string_rows(self._table, query_filter, columns):
                at = datetime.strptime(row["RowKey"].split("|")[0], _TIME_FORMAT)
                found.append(
                    Deletion(at.replace(tzinfo=timezone.utc), row["Reference"], row["Row"])
                )
        return found

    async def drop_expired(self) -> int:
        """Delete the rows of the two hours before RETENTION ago (the timer runs far more often
        than hourly, so each hour's rows are dropped once they expire); how many."""
        expired = self._clock().astimezone(timezone.utc) - RETENTION
        table = await self._table._client_ready()
        dropped = 0
        for hours_back in (1, 2):
            partition = _partition(expired - timedelta(hours=hours_back))
            with storage_errors():
                rows = [
                    row
                    async for row in string_rows(
                        self._table,
                        f"PartitionKey eq {quoted(partition)}",
                        ("PartitionKey", "RowKey"),
                    )
                ]
                for start in range(0, len(rows), MAX_TRANSACTION_OPERATIONS):
                    batch = rows[start : start + MAX_TRANSACTION_OPERATIONS]
                    # A row already gone fails its batch: the next run drops the rest.
                    with suppress(TableTransactionError):
                        await table.submit_transaction([("delete", row) for row in batch])
                        dropped += len(batch)
        return dropped


def _partition(moment: datetime) -> str:
    return PARTITION_PREFIX + moment.astimezone(timezone.utc).strftime("%Y%m%d%H")


def _hours(start: datetime, end: datetime) -> list[datetime]:
    """Every UTC hour from start's to end's (at least start's)."""
    hour = start.replace(minute=0, second=0, microsecond=0)
    hours = [hour]
    while hours[-1] + timedelta(hours=1) <= end:
        hours.append(hours[-1] + timedelta(hours=1))
    return hours
