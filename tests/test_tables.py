"""Table plumbing against Azurite: each verb tells the truth about what happened, in the
project's own terms."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from devhost.azurite import Azurite
from shared.storage.tables import RowExistsError, StorageRequestError, Table, etag_of

ROW = {"PartitionKey": "p", "RowKey": "r", "Value": "first"}


@pytest.fixture
async def table(azurite: Azurite) -> AsyncIterator[Table]:
    table = Table.from_connection_string(azurite.connection_string, "x" + uuid.uuid4().hex[:16])
    yield table
    await table.close()


async def insert(table: Table) -> str:
    return await table.insert(ROW)


async def test_insert_gives_the_etag_a_read_then_sees(table):
    etag = await insert(table)

    row = await table.get("p", "r")
    assert (row["Value"], etag_of(row)) == ("first", etag)


async def test_insert_of_a_row_that_exists_raises_row_exists_and_keeps_the_row(table):
    await insert(table)

    with pytest.raises(RowExistsError):
        await table.insert({**ROW, "Value": "second"})
    assert (await table.get("p", "r"))["Value"] == "first"


async def test_get_is_none_for_a_row_that_is_not_there(table):
    assert await table.get("p", "nothing") is None


async def test_get_reads_only_the_selected_columns(table):
    await table.insert({**ROW, "Other": "x"})

    row = await table.get("p", "r", select=["Value"])

    assert "Other" not in row
    assert row["Value"] == "first"


async def test_upsert_replaces_the_whole_row(table):
    await table.insert({**ROW, "Other": "x"})

    etag = await table.upsert({**ROW, "Value": "second"})

    row = await table.get("p", "r")
    assert (row["Value"], "Other" in row, etag_of(row)) == ("second", False, etag)


async def test_update_if_unchanged_with_merge_keeps_the_rows_other_properties(table):
    etag = await table.insert({**ROW, "Other": "x"})

    assert await table.update_if_unchanged({**ROW, "Value": "second"}, etag, merge=True)

    row = await table.get("p", "r")
    assert (row["Value"], row["Other"]) == ("second", "x")


async def test_delete_removes_the_row_and_is_quiet_when_it_has_gone(table):
    await insert(table)

    await table.delete("p", "r")
    await table.delete("p", "r")

    assert await table.get("p", "r") is None


async def test_delete_if_unchanged_deletes_a_row_that_still_has_its_etag(table):
    etag = await insert(table)

    assert await table.delete_if_unchanged("p", "r", etag) is True
    assert [row async for row in table.query("PartitionKey eq @p", {"p": "p"})] == []


async def test_delete_if_unchanged_is_false_for_a_row_that_has_already_gone(table):
    etag = await insert(table)
    await table.delete_if_unchanged("p", "r", etag)

    assert await table.delete_if_unchanged("p", "r", etag) is False


async def test_delete_if_unchanged_is_false_and_keeps_a_row_changed_meanwhile(table):
    etag = await insert(table)
    assert await table.update_if_unchanged({**ROW, "Value": "second"}, etag) is not None

    assert await table.delete_if_unchanged("p", "r", etag) is False
    assert (await table.get("p", "r"))["Value"] == "second"


async def test_update_if_unchanged_is_none_for_a_row_that_has_gone(table):
    etag = await insert(table)
    await table.delete_if_unchanged("p", "r", etag)

    assert await table.update_if_unchanged({**ROW, "Value": "second"}, etag) is None


async def test_query_reads_every_matching_row_with_the_selected_columns(table):
    for n in range(3):
        await table.insert({"PartitionKey": "p", "RowKey": f"r{n}", "Value": n, "Other": "x"})
    await table.insert({"PartitionKey": "q", "RowKey": "r0", "Value": 9})

    rows = [row async for row in table.query("PartitionKey eq @p", {"p": "p"}, select=["Value"])]

    assert [row["Value"] for row in rows] == [0, 1, 2]
    assert all("Other" not in row for row in rows)


async def test_query_page_goes_page_by_page_to_the_end(table):
    for n in range(5):
        await table.insert({"PartitionKey": "p", "RowKey": f"r{n}"})

    first, following = await table.query_page("PartitionKey eq @p", {"p": "p"}, size=3)
    second, last = await table.query_page(
        "PartitionKey eq @p", {"p": "p"}, size=3, continuation=following
    )

    assert [row["RowKey"] for row in first] == ["r0", "r1", "r2"]
    assert [row["RowKey"] for row in second] == ["r3", "r4"]
    assert following is not None
    assert last is None


async def test_a_request_storage_refuses_raises_storage_request_error(table):
    with pytest.raises(StorageRequestError) as refused:
        [row async for row in table.query("NoSuchOperator zz @p", {"p": "p"})]

    assert 400 <= refused.value.status_code < 500
