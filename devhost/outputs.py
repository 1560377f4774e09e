"""Queue output bindings, written the way the host's queue extension (5.x) writes them.

A function names a `queue` binding with `"direction": "out"` in function.json and takes an
`azure.functions.Out` parameter of that name. Once it returns, the host adds what was set (a
string, bytes, or a list of them: a message each) to the queue, creating the queue if it is
missing (`AddMessageAndCreateIfNotExistsAsync`), encoded as host.json's `messageEncoding` says; a
write that fails fails the invocation. Then it tells its own listener on that queue, which stops
waiting out its polling back-off and polls at once (the extension's `SharedQueueWatcher`): only
for messages written through a binding, and only on this host.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from typing import Any, TypeVar

import azure.functions as func
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.queue.aio import QueueClient

from devhost.functions import QueueOutput
from devhost.queues import QueueListener, resolve_queue_name, storage_connection_string

T = TypeVar("T")


class OutputValue(func.Out):
    """What the worker passes for an `out` binding: a box the function sets."""

    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        self._value = val

    def get(self) -> Any:
        return self._value


class QueueWriter:
    """Adds what functions set on their queue bindings, then wakes this host's listeners."""

    def __init__(
        self,
        environ: Mapping[str, str],
        encoding: str,
        wake: Callable[[str], None] = lambda queue_name: None,
    ) -> None:
        self._environ = environ
        self.encoding = encoding
        self._wake = wake
        self._clients: dict[tuple[str, str], QueueClient] = {}

    async def write(self, output: QueueOutput, value: Any) -> None:
        messages = [self._encoded(m) for m in _messages(output, value)]
        if not messages:
            return
        queue_name = resolve_queue_name(output, self._environ)
        client = self._client(queue_name, storage_connection_string(output, self._environ))
        for message in messages:
            try:
                await client.send_message(message)
            except ResourceNotFoundError:
                with suppress(ResourceExistsError):  # another write created it meanwhile
                    await client.create_queue()
                await client.send_message(message)
        self._wake(queue_name)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()

    def _client(self, queue_name: str, connection_string: str) -> QueueClient:
        key = (connection_string, queue_name)
        if key not in self._clients:
            self._clients[key] = QueueClient.from_connection_string(connection_string, queue_name)
        return self._clients[key]

    def _encoded(self, message: str | bytes) -> str:
        raw = message.encode("utf-8") if isinstance(message, str) else message
        if self.encoding == "base64":
            return base64.b64encode(raw).decode("ascii")
        return raw.decode("utf-8")


def _messages(output: QueueOutput, value: Any) -> list[str | bytes]:
    """The messages a value set on a queue binding makes, as the worker encodes them."""
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    for each in values:
        if not isinstance(each, (str, bytes)):
            raise TypeError(
                f"Function '{output.name}': queue output binding {output.binding!r} was set to "
                f"{type(each).__name__}; it takes str, bytes or a list of them"
            )
    return values


async def called_with_outputs(
    outputs: Sequence[QueueOutput], writer: QueueWriter | None, call: Callable[..., Awaitable[T]]
) -> T:
    """Call a function's main with an `Out` for each of its queue bindings (`call` takes them
    as keyword arguments), then write what it set, as the host does once it returns: the
    Invoker's way, and for callers that run a main themselves (tests, the bench)."""
    boxes = {output: OutputValue() for output in outputs}
    result = await call(**{output.binding: box for output, box in boxes.items()})
    for output, box in boxes.items():
        if writer is None:
            raise RuntimeError(f"no queue writer for {output.name}'s {output.binding!r}")
        await writer.write(output, box.get())
    return result


def waking(listeners: Sequence[QueueListener]) -> Callable[[str], None]:
    """A QueueWriter's `wake` for callers that run listeners themselves: it tells each of
    `listeners` (read when a write happens, so it may be filled later) on the queue written to."""

    def wake(queue_name: str) -> None:
        for listener in listeners:
            if listener.queue_name == queue_name:
                listener.notify()

    return wake
