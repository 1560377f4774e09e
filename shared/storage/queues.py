"""An Azure Storage queue the app puts work on, in the encoding the Functions host reads.

The host's queue trigger expects base64 message text by default (`extensions.queues.
messageEncoding`), so messages are JSON encoded as UTF-8 then base64. The queue is created on
first use: the host never creates a trigger's queue (azure-functions-host#8442), it waits for it.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import ResourceExistsError

from shared.settings import StorageAccount
from shared.storage.client_options import client_options
from shared.storage.tables import storage_errors
from shared.telemetry.current import telemetry

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.storage.queue.aio import QueueClient

# The W3C trace context a work item carries, so that the run taking it continues the trace of
# the one that put it (`"traceparent":"00-<32 hex>-<16 hex>-01"` and a comma: 70 bytes).
TRACE_CONTEXT = "traceparent"
_TRACE_CONTEXT_ROOM = 96
# A queue message holds 64 KiB; base64 makes 3 bytes 4, so the JSON may take 48 KiB, with room
# left for the trace context.
MAX_MESSAGE_JSON_BYTES = 48 * 1024 - _TRACE_CONTEXT_ROOM


def with_trace_context(item: dict[str, Any]) -> dict[str, Any]:
    """The item with the current span's traceparent beside it (TRACE_CONTEXT), or the item itself
    when no span is being recorded: the run that takes it continues that trace."""
    traceparent = telemetry().traceparent()
    return item if traceparent is None else {**item, TRACE_CONTEXT: traceparent}


class MessageTooLargeError(ValueError):
    """A work item that would not fit one queue message (a bug: items are built to fit)."""


class WorkQueue:
    def __init__(
        self,
        account: StorageAccount,
        name: str,
        credential: AsyncTokenCredential | None = None,
    ) -> None:
        self._account = account
        self._credential = credential
        self.name = name
        self._client: QueueClient | None = None
        self._create_lock = asyncio.Lock()

    async def put(self, item: dict[str, Any], delay_seconds: int = 0) -> None:
        text = json.dumps(item, separators=(",", ":"))
        if len(text.encode("utf-8")) > MAX_MESSAGE_JSON_BYTES:
            raise MessageTooLargeError(f"work item of {len(text)} characters")
        if (traced := with_trace_context(item)) is not item:
            text = json.dumps(traced, separators=(",", ":"))
        client = await self._ready_client()
        with storage_errors():
            await client.send_message(text, visibility_timeout=delay_seconds or None)

    async def _ready_client(self) -> QueueClient:
        if self._client is not None:
            return self._client
        async with self._create_lock:
            if self._client is None:
                # Imported on first use: functions that never enqueue skip its import time.
                from azure.storage.queue import TextBase64EncodePolicy
                from azure.storage.queue.aio import QueueClient

                options = {"message_encode_policy": TextBase64EncodePolicy(), **client_options()}
                if self._account.keyless:
                    client = QueueClient(
                        self._account.queue_endpoint,
                        self.name,
                        credential=self._credential,
                        **options,
                    )
                else:
                    client = QueueClient.from_connection_string(
                        self._account.connection_string, self.name, **options
                    )
                try:
                    with storage_errors(), suppress(ResourceExistsError):
                        await client.create_queue()
                except BaseException:
                    await client.close()
                    raise
                self._client = client
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
