"""Queries of string columns read as plain JSON: every page, exactly the rows and columns asked
for, and keys with quotes in them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from devhost.azurite import Azurite
from shared.storage import transactions
from shared.storage.string_queries import quoted, string_rows
from shared.storage.tables import PAGE_SIZE, StorageRequestError, Table
from shared.storage.transactions import Insert


@pytest.fixture
async def table(azurite: Azurite) -> AsyncIterator[Table]:
    table = Table.from_connection_string(azurite.connection_string, "s" + uuid.uuid4().hex[:16])
    yield table
    await table.close()


async def rows(table: Table, query_filter: str, columns: list[str]) -> list[dict]:
    return [row async for row in string_rows(table, query_filter, columns)]


async def test_a_range_longer_than_a_page_is_read_to_its_end(table) -> None:
    total = PAGE_SIZE + 250
    for start in range(0, total, 100):
        batch = [
            Insert({"PartitionKey": "p", "RowKey": f"r{n:05d}"})
            for n in range(start, min(start + 100, total))
        ]
        await transactions.submit(table, batch)

    found = await rows(table, f"PartitionKey eq 'p' and RowKey ge {quoted('r00100')}", ["RowKey"])

    assert [r["RowKey"] for r in found] == [f"r{n:05d}" for n in range(100, total)]


async def test_only_the_selected_columns_come_back_and_missing_ones_are_left_out(table) -> None:
    await table.insert({"PartitionKey": "it's", "RowKey": "o'k", "A": 'ü\n"', "B": "b"})

    partition = quoted("it's")

    found = await rows(table, f"PartitionKey eq {partition}", ["RowKey", "A", "Missing"])

    assert found == [{"RowKey": "o'k", "A": 'ü\n"'}]


async def test_a_filter_storage_refuses_raises_storage_request_error(table) -> None:
    with pytest.raises(StorageRequestError):
        await rows(table, "NoSuchOperator zz 'p'", ["RowKey"])
