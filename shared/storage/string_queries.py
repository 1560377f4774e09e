"""Queries whose selected columns are all strings, read as plain JSON.

azure-data-tables turns every row of a page into a TableEntity through a generic model
deserializer: about 25 µs a row, which for the re-reads of a fan-out's waiting targets (a range
of up to 198 rows, every second, per chunk in flight) is a tenth of a busy instance's time. A row
of string columns needs none of it: Table Storage's JSON (odata=nometadata) is the row. Requests
go through the client's own pipeline (authentication, retries, timeouts) as its queries do.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest

from shared.storage.tables import PAGE_SIZE, Table, storage_errors

NEXT_PARTITION_KEY = "x-ms-continuation-NextPartitionKey"
NEXT_ROW_KEY = "x-ms-continuation-NextRowKey"


def quoted(value: str) -> str:
    """A string literal in an OData filter."""
    return "'" + value.replace("'", "''") + "'"


async def string_rows(
    table: Table, query_filter: str, columns: Sequence[str]
) -> AsyncIterator[dict[str, str]]:
    """Every row matching `query_filter`, page by page, with only `columns` (all strings: a
    column of another type would come back as its JSON value, untyped)."""
    continuation: dict[str, str] | None = None
    while True:
        rows, continuation = await string_page(table, query_filter, columns, continuation)
        for row in rows:
            yield row
        if continuation is None:
            return


async def string_page(
    table: Table,
    query_filter: str | None,
    columns: Sequence[str],
    continuation: dict[str, str] | None = None,
    size: int = PAGE_SIZE,
) -> tuple[list[dict[str, str]], dict[str, str] | None]:
    """One page of the rows matching `query_filter` (None: every row) with only `columns`, and
    where the next page starts (None after the last), as the SDK's by_page tokens say it:
    {"PartitionKey": …, "RowKey": …}, so a token from either reads on with the other."""
    client = await table._client_ready()
    params = {"$select": ",".join(columns), "$top": str(size)}
    if query_filter is not None:
        params["$filter"] = query_filter
    if continuation:
        params["NextPartitionKey"] = continuation["PartitionKey"]
        if continuation.get("RowKey") is not None:
            params["NextRowKey"] = continuation["RowKey"]
    request = HttpRequest(
        "GET",
        f"{client.scheme}://{client._primary_hostname}/{client.table_name}()",
        params=params,
        headers={"Accept": "application/json;odata=nometadata", "DataServiceVersion": "3.0"},
    )
    with storage_errors():
        # Streamed, as the SDK's own requests: the pipeline leaves the body to be read here.
        response = await client._client.send_request(request, stream=True)
        await response.read()
        if response.status_code != 200:
            raise HttpResponseError(response=response)
    # Azure answers a selected column a row lacks with null; Azurite leaves it out.
    rows = [
        {name: value for name, value in row.items() if value is not None}
        for row in json.loads(response.content)["value"]
    ]
    next_partition = response.headers.get(NEXT_PARTITION_KEY)
    if next_partition is None:
        return rows, None
    return rows, {"PartitionKey": next_partition, "RowKey": response.headers.get(NEXT_ROW_KEY)}
