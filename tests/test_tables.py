"""Table plumbing against Azurite: ETag-conditional writes tell the truth about what happened."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from devhost.azurite import Azurite
from shared.storage.tables import Table

ROW = {"PartitionKey": "p", "RowKey": "r", "Value": "first"}


@pytest.fixture
async def table(azurite: Azurite) -> AsyncIterator[Table]:
    table = Table.from_connection_string(azurite.connection_string, "x" + uuid.uuid4().hex[:16])
    yield table
    await table.close()


async def insert(table: Table) -> str:
    client = await table.client()
    return (await client.create_entity(ROW))["etag"]


async def test_delete_if_unchanged_deletes_a_row_that_still_has_its_etag(table):
    etag = await insert(table)

    assert await table.delete_if_unchanged("p", "r", etag) is True
    assert [e async for e in (await table.client()).list_entities()] == []


async def test_delete_if_unchanged_is_false_for_a_row_that_has_already_gone(table):
    etag = await insert(table)
    await table.delete_if_unchanged("p", "r", etag)

    assert await table.delete_if_unchanged("p", "r", etag) is False


async def test_delete_if_unchanged_is_false_and_keeps_a_row_changed_meanwhile(table):
    etag = await insert(table)
    assert await table.update_if_unchanged({**ROW, "Value": "second"}, etag) is not None

    assert await table.delete_if_unchanged("p", "r", etag) is False
    assert (await (await table.client()).get_entity("p", "r"))["Value"] == "second"


async def test_update_if_unchanged_is_none_for_a_row_that_has_gone(table):
    etag = await insert(table)
    await table.delete_if_unchanged("p", "r", etag)

    assert await table.update_if_unchanged({**ROW, "Value": "second"}, etag) is None
