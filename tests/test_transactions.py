"""Entity-group transactions written without the SDK's multipart code: all or nothing, typed as
the SDK types them, each failure pointing at its operation."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest
from azure.core import MatchConditions
from azure.data.tables._generated.operations._operations import build_table_merge_entity_request
from azure.data.tables._serialize import _prepare_key

from devhost.azurite import Azurite
from shared.storage.tables import MAX_TRANSACTION_OPERATIONS, Table, etag_of
from shared.storage.transactions import (
    Insert,
    MergeIfUnchanged,
    TransactionRejected,
    _part,
    submit,
)

AT = datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=timezone.utc)


@pytest.fixture
async def table(azurite: Azurite) -> AsyncIterator[Table]:
    table = Table.from_connection_string(azurite.connection_string, "t" + uuid.uuid4().hex[:16])
    yield table
    await table.close()


def row(row_key: str, **properties) -> dict:
    return {"PartitionKey": "p'1 ü", "RowKey": row_key, **properties}


async def test_inserts_and_a_merge_apply_together_with_their_types(table) -> None:
    claim_etag = await table.insert(row("~claim", Done=False, Kept="yes"))

    etags = await submit(
        table,
        [
            Insert(row("a", At=AT, Attempts=3, Sent=True, Text='it\'s "ü"\n')),
            Insert(row("b", Status=None)),
            MergeIfUnchanged(row("~claim", Done=True), claim_etag),
        ],
    )

    a = await table.get("p'1 ü", "a")
    assert (a["At"], a["Attempts"], a["Sent"], a["Text"]) == (AT, 3, True, 'it\'s "ü"\n')
    assert "Status" not in await table.get("p'1 ü", "b")
    merged = await table.get("p'1 ü", "~claim")
    assert (merged["Done"], merged["Kept"]) == (True, "yes")
    assert etags[-1] == etag_of(merged)
    assert len(etags) == 3


async def test_an_insert_of_a_row_that_exists_fails_the_whole_transaction_at_its_index(
    table,
) -> None:
    await table.insert(row("b", First=True))

    with pytest.raises(TransactionRejected) as rejected:
        await submit(table, [Insert(row("a")), Insert(row("b", First=False))])

    assert (rejected.value.status_code, rejected.value.index) == (409, 1)
    assert rejected.value.code == "EntityAlreadyExists"
    assert await table.get("p'1 ü", "a") is None
    assert (await table.get("p'1 ü", "b"))["First"] is True


async def test_a_merge_on_a_row_changed_meanwhile_is_refused_and_nothing_is_written(table) -> None:
    claim_etag = await table.insert(row("~claim", Done=False))
    await table.upsert(row("~claim", Done=False, TakenOver=True))

    with pytest.raises(TransactionRejected) as rejected:
        await submit(table, [Insert(row("a")), MergeIfUnchanged(row("~claim"), claim_etag)])

    assert (rejected.value.status_code, rejected.value.index) == (412, 1)
    assert await table.get("p'1 ü", "a") is None


async def test_a_transaction_holds_one_to_a_hundred_operations(table) -> None:
    with pytest.raises(ValueError, match="1 to 100"):
        await submit(table, [])
    with pytest.raises(ValueError, match="1 to 100"):
        await submit(table, [Insert(row(f"r{n}")) for n in range(MAX_TRANSACTION_OPERATIONS + 1)])

    assert (
        len(await submit(table, [Insert(row(f"r{n}")) for n in range(MAX_TRANSACTION_OPERATIONS)]))
        == 100
    )


def test_a_merge_addresses_its_row_as_the_sdk_does() -> None:
    partition_key, row_key = "it's 50% ü", "~chunk-1'"
    sdk = build_table_merge_entity_request(
        table="t1",
        partition_key=_prepare_key(partition_key),
        row_key=_prepare_key(row_key),
        etag="*",
        match_condition=MatchConditions.IfNotModified,
        json={},
        version="2019-02-02",
    )

    part = _part(
        "cs",
        "http://h/acct/t1",
        MergeIfUnchanged(row(row_key) | {"PartitionKey": partition_key}, "*"),
    )

    assert f"MERGE http://h/acct{sdk.url} HTTP/1.1" in part.splitlines()
