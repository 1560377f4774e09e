"""Azure Table Storage plumbing shared by every store: one client per table, errors by kind."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables import UpdateMode
from azure.data.tables.aio import TableClient

from shared.settings import StorageAccount
from shared.storage.client_options import client_options

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

# Table Storage's limits. A string property holds 64 KiB of UTF-16: 32K characters of the ASCII
# JSON json.dumps writes (it escapes everything else). A binary property holds 64 KiB.
MAX_STRING_PROPERTY_CHARS = 32 * 1024
MAX_BINARY_PROPERTY_BYTES = 64 * 1024
PAGE_SIZE = 1000  # the most rows a query answers at once
MAX_TRANSACTION_OPERATIONS = 100  # the most operations one entity-group transaction holds
MAX_FILTER_COMPARISONS = 15  # the most comparisons one query's $filter holds
# An entity holds 1 MiB in all (Azurite counts the JSON that writes it: binary as base64, 4/3 of
# its bytes). A notification record's shares of it, as stored (see large_values): the request of
# any body POST /api/notify accepts (256 KiB; compressed, a request takes less than its body), and
# a report that lists thousands of failures. Counted as Azurite counts them, the two take 3/4 of
# the entity, leaving the rest to its other properties.
MAX_REQUEST_BYTES = 384 * 1024
MAX_REPORT_BYTES = 192 * 1024


class StorageUnavailableError(RuntimeError):
    """Storage (a table or the queue) could not be reached or failed on its side; the caller
    may retry later."""


@contextmanager
def storage_errors() -> Iterator[None]:
    """Turn "storage is down" into StorageUnavailableError; caller errors (4xx) pass through."""
    try:
        yield
    except (ServiceRequestError, ServiceResponseError) as error:
        raise StorageUnavailableError(f"Storage unreachable: {type(error).__name__}") from error
    except HttpResponseError as error:
        if error.status_code is None or error.status_code >= 500:
            raise StorageUnavailableError(f"Storage failed: {error.status_code}") from error
        raise


class Table:
    """A table client, created once per process, whose table is created on first use."""

    def __init__(self, client: TableClient) -> None:
        self._client = client
        self._ready = False
        self._create_lock = asyncio.Lock()

    @classmethod
    def for_account(
        cls,
        account: StorageAccount,
        table_name: str,
        credential: AsyncTokenCredential | None = None,
    ) -> Table:
        """The table in the app's storage account: by connection string, or keyless with
        `credential` (see credentials)."""
        if not account.keyless:
            return cls.from_connection_string(account.connection_string, table_name)
        client = TableClient(
            account.table_endpoint, table_name, credential=credential, **client_options()
        )
        return cls(client)

    @classmethod
    def from_connection_string(cls, connection_string: str, table_name: str) -> Table:
        client = TableClient.from_connection_string(
            connection_string,
            table_name=table_name,
            **client_options(),
        )
        return cls(client)

    async def client(self) -> TableClient:
        if not self._ready:
            async with self._create_lock:
                if not self._ready:
                    with storage_errors(), suppress(ResourceExistsError):
                        await self._client.create_table()
                    self._ready = True
        return self._client

    async def update_if_unchanged(
        self, entity: dict, etag: str, mode: UpdateMode = UpdateMode.REPLACE
    ) -> str | None:
        """Write `entity` only if its row still has `etag`: the new ETag, or None when the row
        changed or went away meanwhile (someone else got there first)."""
        client = await self.client()
        with storage_errors(), suppress(ResourceModifiedError, ResourceNotFoundError):
            updated = await client.update_entity(
                entity, mode=mode, etag=etag, match_condition=MatchConditions.IfNotModified
            )
            return updated["etag"]
        return None

    async def delete_if_unchanged(self, partition_key: str, row_key: str, etag: str) -> bool:
        """Delete the row only if it still has `etag`; False when it changed or went away."""
        client = await self.client()
        statuses: list[int] = []
        with storage_errors(), suppress(ResourceModifiedError):
            # delete_entity returns quietly on a 404, so the answer's status is read to tell
            # "deleted" from "already gone".
            await client.delete_entity(
                partition_key,
                row_key,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
                raw_response_hook=lambda pipeline: statuses.append(
                    pipeline.http_response.status_code
                ),
            )
            return statuses[-1:] == [204]
        return False

    async def close(self) -> None:
        await self._client.close()
