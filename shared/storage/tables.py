"""Azure Table Storage for every store: a table's verbs over one client, errors by kind.

Nothing outside shared/storage sees the SDK: `Table` reads and writes rows as dicts (`etag_of`
gives a read row's ETag), and storage's failures come out as the errors below.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import ClientConnectorError
from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
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


logger = logging.getLogger(__name__)

T = TypeVar("T")


class StorageUnavailableError(RuntimeError):
    """Storage (a table or the queue) could not be reached or failed on its side; the caller
    may retry later."""


class StorageHiccupError(StorageUnavailableError):
    """The request reached storage, which failed on its side (5xx) or whose answer was lost (a
    connection reset, a read timeout): it may pass when tried again, and may have been applied."""


class StorageRequestError(RuntimeError):
    """Storage refused a request (a 4xx) that no verb answers itself: a bad input, such as a
    continuation token, or a bug. Retrying it changes nothing."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class RowExistsError(StorageRequestError):
    """An insert found its row there already: someone else got there first."""

    def __init__(self) -> None:
        super().__init__("the row exists", 409)


@contextmanager
def storage_errors() -> Iterator[None]:
    """Turn "storage is down" into StorageUnavailableError, and any other refusal (4xx) the code
    inside does not handle itself into StorageRequestError."""
    try:
        yield
    except ServiceRequestError as error:
        if _never_sent(error):
            # azure-core has tried to connect again already: the account is out of reach.
            raise StorageUnavailableError(f"Storage unreachable: {type(error).__name__}") from error
        # The connection dropped with the request on it: it may have been applied.
        raise StorageHiccupError(f"Storage connection lost: {error.message}") from error
    except ServiceResponseError as error:
        raise StorageHiccupError(f"Storage answer lost: {type(error).__name__}") from error
    except HttpResponseError as error:
        if error.status_code is None or error.status_code >= 500:
            raise StorageHiccupError(f"Storage failed: {error.status_code}") from error
        raise StorageRequestError(
            f"Storage refused the request: {error.status_code}", error.status_code
        ) from error


# Waits between tries of a call whose answer was lost: about 3.5 s in all, well inside a run, and
# past a connection reset or a short burst of 503s. azure-core retries a request that never reached
# the service, but not a POST whose connection dropped after it was sent (an insert, an
# entity-group transaction): the write may or may not have landed, so its caller must tell "already
# there" from "there because of my first try" (see Table.insert and OutcomeStore). Then a blip in
# Table Storage neither fails the run nor, through the run's redelivery, sends anyone a message
# twice.
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0)


async def retried(call: Callable[[], Awaitable[T]], what: str) -> T:
    """`call()`, tried again after each StorageHiccupError but the last."""
    for delay in RETRY_DELAYS:
        try:
            return await call()
        except StorageHiccupError as error:
            logger.warning("%s: %s; trying again in %.1f s", what, error, delay)
        await asyncio.sleep(delay)
    return await call()


def _never_sent(error: ServiceRequestError) -> bool:
    """Whether the request cannot have reached storage: its connection was never made."""
    return isinstance(error, ServiceRequestTimeoutError) or isinstance(
        error.inner_exception, (ClientConnectorError, ConnectionRefusedError)
    )


def etag_of(row: Mapping[str, Any]) -> str:
    """The ETag a row read through `Table` had when it was read."""
    # Rows come as the SDK's TableEntity: a dict that carries its metadata beside it.
    return row.metadata["etag"]


class Table:
    """A table's verbs over one client, created once per process; the table is created on
    first use. Rows go in and come out as dicts."""

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

    async def _client_ready(self) -> TableClient:
        """The client, its table created: for shared/storage's own requests (string_queries,
        transactions) and the stores there that speak the SDK."""
        if not self._ready:
            async with self._create_lock:
                if not self._ready:
                    with storage_errors(), suppress(ResourceExistsError):
                        await self._client.create_table()
                    self._ready = True
        return self._client

    async def get(
        self, partition_key: str, row_key: str, select: Sequence[str] | None = None
    ) -> dict[str, Any] | None:
        """The row (only the `select` columns, if given), or None if there is none."""
        client = await self._client_ready()
        with storage_errors():
            try:
                return await client.get_entity(partition_key, row_key, select=select)
            except ResourceNotFoundError:
                return None

    async def insert(self, entity: Mapping[str, Any]) -> str:
        """Create the row: its ETag. RowExistsError if it exists already.

        A try whose answer was lost is made again (see retries); when that finds the row there,
        holding exactly what was written, the lost try created it and this is no conflict.
        """
        tried = False

        async def create() -> str:
            nonlocal tried
            first, tried = not tried, True
            try:
                return await self._create(entity)
            except RowExistsError:
                if first:
                    raise
                row = await self.get(entity["PartitionKey"], entity["RowKey"])
                if row is None or not _holds(row, entity):
                    raise
                return etag_of(row)

        return await retried(create, f"Insert into {self._client.table_name}")

    async def _create(self, entity: Mapping[str, Any]) -> str:
        client = await self._client_ready()
        with storage_errors():
            try:
                # Tried again here, not by azure-core: a try whose answer was lost must be
                # told apart from a conflict (see insert).
                created = await client.create_entity(entity, retry_total=0)
            except ResourceExistsError as error:
                raise RowExistsError from error
        return created["etag"]

    async def upsert(self, entity: Mapping[str, Any]) -> str:
        """Write the whole row, whether or not it exists (no property of an earlier one is
        kept): its new ETag."""
        client = await self._client_ready()
        with storage_errors():
            written = await client.upsert_entity(entity, mode=UpdateMode.REPLACE)
        return written["etag"]

    async def update_if_unchanged(
        self, entity: Mapping[str, Any], etag: str, *, merge: bool = False
    ) -> str | None:
        """Write `entity` only if its row still has `etag` (`merge`: only its properties, the
        row's others kept; else the whole row): the new ETag, or None when the row changed or
        went away meanwhile (someone else got there first)."""
        client = await self._client_ready()
        mode = UpdateMode.MERGE if merge else UpdateMode.REPLACE
        with storage_errors(), suppress(ResourceModifiedError, ResourceNotFoundError):
            updated = await client.update_entity(
                entity, mode=mode, etag=etag, match_condition=MatchConditions.IfNotModified
            )
            return updated["etag"]
        return None

    async def merge_if_there(self, properties: Mapping[str, Any]) -> None:
        """Merge `properties` into their row, the row's others kept; a row that is gone stays
        gone (no row is created)."""
        client = await self._client_ready()
        with storage_errors(), suppress(ResourceNotFoundError):
            await client.update_entity(properties, mode=UpdateMode.MERGE)

    async def delete(self, partition_key: str, row_key: str) -> None:
        """Delete the row; one already gone is fine (the service's 404 counts as done)."""
        client = await self._client_ready()
        with storage_errors():
            await client.delete_entity(partition_key, row_key)

    async def delete_if_unchanged(self, partition_key: str, row_key: str, etag: str) -> bool:
        """Delete the row only if it still has `etag`; False when it changed or went away."""
        client = await self._client_ready()
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

    async def query(
        self,
        query_filter: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        select: Sequence[str] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every row matching `query_filter` (its @names taken from `parameters`), read a page
        at a time."""
        client = await self._client_ready()
        with storage_errors():
            async for row in client.query_entities(
                query_filter, parameters=parameters, select=select
            ):
                yield row

    async def query_page(
        self,
        query_filter: str | None,
        parameters: Mapping[str, Any] | None = None,
        *,
        select: Sequence[str] | None = None,
        size: int = PAGE_SIZE,
        continuation: dict[str, str] | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """One page of at most `size` rows matching `query_filter` (None: every row), from where
        `continuation` says, and where the next page starts (None after the last). A
        continuation the service cannot read raises StorageRequestError."""
        client = await self._client_ready()
        if query_filter is None:
            rows = client.list_entities(select=select, results_per_page=size)
        else:
            rows = client.query_entities(
                query_filter, parameters=parameters, select=select, results_per_page=size
            )
        pages = rows.by_page(continuation_token=continuation)
        with storage_errors():
            async for page in pages:
                return [row async for row in page], pages.continuation_token or None
        return [], None

    async def close(self) -> None:
        await self._client.close()


def _holds(row: Mapping[str, Any], entity: Mapping[str, Any]) -> bool:
    """Whether a row read back holds every property of `entity` as written."""
    return all(_plain(row.get(name)) == _plain(value) for name, value in entity.items())


def _plain(value: Any) -> Any:
    # Int64 and typed values come back as EntityProperty (value, type).
    return getattr(value, "value", value)
