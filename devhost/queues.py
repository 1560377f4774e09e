"""Queue triggers: Azure Storage queues polled the way the host's queue extension (5.x) polls them.

One listener per queue function. It receives up to `batchSize` messages, hiding each for
`LEASE` (renewed at half-time while the function runs), and fetches again once the messages in
flight drop to `newBatchThreshold`; an empty queue is polled less and less often, up to
`maxPollingInterval`. A message that succeeds is deleted; one that fails becomes visible again
after `visibilityTimeout`, or moves to `<queue>-poison` once its dequeue count reaches
`maxDequeueCount`. A message that cannot be decoded moves to the poison queue at once.
`DEVHOST_QUEUE_LEASE_SECONDS` (for tests only) shortens `LEASE`.

The host does not create a trigger's queue (by design: a missing queue is a deployment mistake
to notice), so neither does this: the listener waits until the queue exists. The poison queue is
created on first use, as the host does.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import itertools
import logging
import os
import random
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Protocol

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.functions.queue import QueueMessage as FunctionMessage
from azure.storage.queue import QueueMessage
from azure.storage.queue.aio import QueueServiceClient

from devhost.azurite import explicit_connection_string, is_local_dev_storage
from devhost.settings import resolve_setting_references

logger = logging.getLogger("devhost.host")

# The host hides a message this long while its function runs and renews it at half-time.
LEASE = dt.timedelta(minutes=10)
# Test knob, not a host setting (the host's lease is fixed): whole seconds instead of LEASE, so a
# message held by a runner that was killed comes back within a test's patience.
LEASE_SECONDS_SETTING = "DEVHOST_QUEUE_LEASE_SECONDS"
MIN_POLLING_INTERVAL = dt.timedelta(milliseconds=100)
DEFAULT_MAX_POLLING_INTERVAL = dt.timedelta(minutes=1)
# In the Development environment (`func start`) the host lowers the default maximum to this.
DEVELOPMENT_MAX_POLLING_INTERVAL = dt.timedelta(seconds=2)
MAX_BATCH_SIZE = 32
POISON_SUFFIX = "-poison"
ENCODINGS = ("base64", "none")
# Expiry and next-visible time of a message that was never on a queue (admin API input).
NEVER = dt.datetime.max.replace(tzinfo=dt.timezone.utc)

_QUEUE_NAME = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]")
_TIMESPAN = re.compile(
    r"(?:(?P<days>\d+)\.)?(?P<hours>\d+):(?P<minutes>\d+)(?::(?P<seconds>\d+(?:\.\d+)?))?"
)

Invoke = Callable[[FunctionMessage, str], Awaitable[object]]


class QueueTriggerError(ValueError):
    """A queue trigger or `extensions.queues` setting that the host would reject at startup."""


@dataclass(frozen=True)
class QueueOptions:
    """`extensions.queues` in host.json, with the host's defaults."""

    batch_size: int = 16
    new_batch_threshold: int = 8  # batchSize/2 for one processor; see read_queue_options
    max_dequeue_count: int = 5
    visibility_timeout: dt.timedelta = dt.timedelta(0)
    max_polling_interval: dt.timedelta = DEFAULT_MAX_POLLING_INTERVAL
    message_encoding: str = "base64"


def parse_timespan(text: str, setting: str) -> dt.timedelta:
    """A .NET TimeSpan string (`[d.]hh:mm[:ss[.fffffff]]`); a bare number is days, as in .NET."""
    text = text.strip()
    if text.isdigit():
        logger.warning(
            "host.json %s: %s is read as %s days (a TimeSpan), as the host reads it; "
            'write e.g. "00:00:02" for two seconds',
            setting,
            text,
            text,
        )
        return dt.timedelta(days=int(text))
    found = _TIMESPAN.fullmatch(text)
    if found is None:
        raise QueueTriggerError(f"host.json {setting}: {text!r} is not a TimeSpan like 00:00:30")
    return dt.timedelta(
        days=int(found["days"] or 0),
        hours=int(found["hours"]),
        minutes=int(found["minutes"]),
        seconds=float(found["seconds"] or 0),
    )


def read_queue_options(host_config: Mapping[str, Any], environ: Mapping[str, str]) -> QueueOptions:
    """`extensions.queues` from parsed host.json, checked and defaulted as the host does."""
    section = host_config.get("extensions", {}).get("queues") or {}
    # .NET configuration keys are case-insensitive.
    values = {str(key).lower(): value for key, value in section.items()}

    def number(key: str, default: int, minimum: int, maximum: int | None = None) -> int:
        text = str(values.get(key.lower(), default))
        if not text.isdigit() or int(text) < minimum or (maximum and int(text) > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum else f"at least {minimum}"
            raise QueueTriggerError(f"host.json extensions.queues.{key} must be {bounds}: {text}")
        return int(text)

    def timespan(key: str, default: dt.timedelta) -> dt.timedelta:
        value = values.get(key.lower())
        return default if value is None else parse_timespan(str(value), f"extensions.queues.{key}")

    batch_size = number("batchSize", 16, 1, MAX_BATCH_SIZE)
    # Unset, it is batchSize/2 per processor: one on the Consumption plan, every core elsewhere.
    processors = 1 if environ.get("WEBSITE_SKU", "").lower() == "dynamic" else os.cpu_count() or 1
    new_batch_threshold = number("newBatchThreshold", batch_size // 2 * processors, 0)
    max_polling_interval = timespan("maxPollingInterval", DEFAULT_MAX_POLLING_INTERVAL)
    if max_polling_interval < MIN_POLLING_INTERVAL:
        raise QueueTriggerError(
            "host.json extensions.queues.maxPollingInterval must not be less than 00:00:00.1"
        )
    development = environ.get("AZURE_FUNCTIONS_ENVIRONMENT", "Development").lower()
    if development == "development" and max_polling_interval == DEFAULT_MAX_POLLING_INTERVAL:
        max_polling_interval = DEVELOPMENT_MAX_POLLING_INTERVAL
    encoding = str(values.get("messageencoding", "base64")).lower()
    if encoding not in ENCODINGS:
        raise QueueTriggerError(
            f"host.json extensions.queues.messageEncoding must be one of {ENCODINGS}: {encoding!r}"
        )
    return QueueOptions(
        batch_size=batch_size,
        new_batch_threshold=new_batch_threshold,
        max_dequeue_count=number("maxDequeueCount", 5, 1),
        visibility_timeout=timespan("visibilityTimeout", dt.timedelta(0)),
        max_polling_interval=max_polling_interval,
        message_encoding=encoding,
    )


def read_lease(environ: Mapping[str, str]) -> dt.timedelta:
    """LEASE, or the whole seconds DEVHOST_QUEUE_LEASE_SECONDS asks for (a test knob)."""
    text = environ.get(LEASE_SECONDS_SETTING, "").strip()
    if not text:
        return LEASE
    if not text.isdigit() or int(text) < 1:
        # Storage sets visibility in whole seconds.
        raise QueueTriggerError(
            f"{LEASE_SECONDS_SETTING} must be whole seconds, at least 1: {text}"
        )
    return dt.timedelta(seconds=int(text))


class QueueBinding(Protocol):
    """A queue trigger (FunctionSpec) or output binding (QueueOutput) of a function."""

    @property
    def name(self) -> str: ...  # the function's
    @property
    def queue_name(self) -> str | None: ...
    @property
    def connection(self) -> str | None: ...


def resolve_queue_name(spec: QueueBinding, environ: Mapping[str, str]) -> str:
    """The trigger's queue name: app settings substituted, lower-cased and checked like the host."""
    if not spec.queue_name:
        raise QueueTriggerError(f"Function '{spec.name}': its queue binding has no queueName")
    where = f"Function '{spec.name}': queueName"
    name = resolve_setting_references(spec.queue_name, environ, where).lower()
    if not 3 <= len(name) <= 63 or not _QUEUE_NAME.fullmatch(name):
        raise QueueTriggerError(
            f"Function '{spec.name}': {name!r} is not a valid queue name (3-63 lower-case "
            "letters, digits and single dashes, starting and ending with a letter or digit)"
        )
    return name


def poison_queue_name(queue_name: str) -> str | None:
    """`<queue>-poison`, or None where the host keeps no poison queue (already one, too long)."""
    if queue_name.endswith(POISON_SUFFIX) or len(queue_name) + len(POISON_SUFFIX) > 63:
        return None
    return queue_name + POISON_SUFFIX


def storage_connection_string(spec: QueueBinding, environ: Mapping[str, str]) -> str:
    """The connection string the binding's `connection` names, looked up like the host.

    The host tries `AzureWebJobs<connection>` first, then `<connection>`; no connection means
    "Storage", so AzureWebJobsStorage.
    """
    name = spec.connection or "Storage"
    for candidate in (f"AzureWebJobs{name}", name):
        if value := environ.get(candidate):
            value = explicit_connection_string(value)
            # Else the SDK would default to the cloud endpoint of the emulator's account name.
            if is_local_dev_storage(value) and "queueendpoint=" not in value.lower():
                raise QueueTriggerError(
                    f"Function '{spec.name}': {candidate} points at the local emulator but has "
                    "no QueueEndpoint: run Azurite with its queue service"
                )
            return value
    raise QueueTriggerError(
        f"Function '{spec.name}': storage account connection string 'AzureWebJobs{name}' "
        "does not exist. Make sure that it is a defined App Setting "
        "(identity-based connections are not supported by devhost)"
    )


def polling_delays(maximum: dt.timedelta) -> Iterator[float]:
    """Seconds to wait between polls of an empty queue: the host's randomized exponential
    back-off from 100 ms (each step about double the last increment) up to `maximum`."""
    minimum = MIN_POLLING_INTERVAL.total_seconds()
    ceiling = maximum.total_seconds()
    yield minimum
    for exponent in itertools.count():
        # Jitter, not security: the host randomizes by ±20 % too.
        delay = minimum + random.uniform(0.8, 1.2) * 2**exponent * minimum  # noqa: S311
        if delay >= ceiling:
            break
        yield delay
    yield from itertools.repeat(ceiling)


def function_message(message: QueueMessage, body: bytes) -> FunctionMessage:
    """The `azure.functions.QueueMessage` (the subclass with dequeue count and times) that the
    worker builds from a received message."""
    return FunctionMessage(
        id=message.id,
        body=body,
        dequeue_count=message.dequeue_count,
        expiration_time=message.expires_on,
        insertion_time=message.inserted_on,
        time_next_visible=message.next_visible_on,
        pop_receipt=message.pop_receipt,
    )


def on_demand_message(text: str) -> FunctionMessage:
    """What the host binds for `POST /admin/functions/<name>`: the input as the body of a message
    that was never on a queue (no id or pop receipt, dequeue count 0)."""
    return FunctionMessage(
        id=None,
        body=text.encode("utf-8"),
        dequeue_count=0,
        expiration_time=NEVER,
        insertion_time=dt.datetime.now(dt.timezone.utc),
        time_next_visible=NEVER,
        pop_receipt=None,
    )


def trigger_details(message: QueueMessage) -> str:
    """The host's "Trigger Details" line for a queue message."""
    inserted = message.inserted_on.isoformat(timespec="milliseconds")
    count = message.dequeue_count
    return f"MessageId: {message.id}, DequeueCount: {count}, InsertionTime: {inserted}"


class QueueListener:
    """Polls one queue for one function until cancelled; `drain` then lets messages finish."""

    def __init__(
        self,
        function_name: str,
        queue_name: str,
        connection_string: str,
        options: QueueOptions,
        invoke: Invoke,
        *,
        lease: dt.timedelta = LEASE,
    ) -> None:
        self.function_name = function_name
        self.queue_name = queue_name
        self.options = options
        self._invoke = invoke
        self._lease = lease
        self._service = QueueServiceClient.from_connection_string(connection_string)
        self._queue = self._service.get_queue_client(queue_name)
        poison_name = poison_queue_name(queue_name)
        self._poison = None if poison_name is None else self._service.get_queue_client(poison_name)
        self._processing: set[asyncio.Task[None]] = set()
        self._queue_missing = False
        self._waiting: asyncio.Future[None] | None = None  # a back-off wait under way

    async def run(self) -> None:
        """Receive and dispatch messages until cancelled."""
        delays = polling_delays(self.options.max_polling_interval)
        while True:
            batch = await self._receive()
            if not batch:
                await self._back_off(next(delays))
                continue
            delays = polling_delays(self.options.max_polling_interval)
            for message in batch:
                task = asyncio.create_task(self._process(message))
                self._processing.add(task)
                task.add_done_callback(self._processing.discard)
            while len(self._processing) > self.options.new_batch_threshold:
                await asyncio.wait(set(self._processing), return_when=asyncio.FIRST_COMPLETED)

    def notify(self) -> None:
        """A function on this host wrote to the queue through an output binding: a back-off wait
        under way ends now (the host's SharedQueueWatcher). A poll under way is left alone."""
        if self._waiting is not None and not self._waiting.done():
            self._waiting.set_result(None)

    async def _back_off(self, seconds: float) -> None:
        self._waiting = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait({self._waiting}, timeout=seconds)
        finally:
            self._waiting.cancel()
            self._waiting = None

    async def drain(self, timeout: float) -> None:
        """After `run` is cancelled: wait up to `timeout` s for messages in flight, then close.

        A message whose processing is cut short stays invisible until its lease lapses, then
        comes back, as when a host instance dies.
        """
        if self._processing:
            _, pending = await asyncio.wait(set(self._processing), timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._service.close()

    async def _receive(self) -> list[QueueMessage]:
        pages = self._queue.receive_messages(
            messages_per_page=self.options.batch_size,
            visibility_timeout=int(self._lease.total_seconds()),
        ).by_page()
        batch: list[QueueMessage] = []
        try:
            async for page in pages:
                batch = [message async for message in page]
                break
        except ResourceNotFoundError:
            if not self._queue_missing:
                logger.warning(
                    "Function '%s': queue '%s' does not exist; waiting for it (the host does not "
                    "create trigger queues)",
                    self.function_name,
                    self.queue_name,
                )
            self._queue_missing = True
            return []
        except AzureError as error:
            logger.warning(
                "Function '%s': polling queue '%s' failed: %s",
                self.function_name,
                self.queue_name,
                error,
            )
            return []
        self._queue_missing = False
        return batch

    async def _process(self, message: QueueMessage) -> None:
        try:
            if message.dequeue_count > self.options.max_dequeue_count:
                # Held by a runner that stopped mid-run, and already over the limit.
                await self._move_to_poison(message, self._over_limit())
                return
            try:
                body = self._decode(message.content)
            except ValueError:
                await self._move_to_poison(
                    message, "Message decoding has failed! Check MessageEncoding settings"
                )
                return
            succeeded = await self._run_function(message, body)
            await self._complete(message, succeeded)
        except Exception:
            # The message stays invisible until its lease lapses, then comes back.
            logger.exception(
                "Function '%s': message %s on queue '%s' was left unsettled",
                self.function_name,
                message.id,
                self.queue_name,
            )

    def _decode(self, content: str) -> bytes:
        if self.options.message_encoding == "none":
            return content.encode("utf-8")
        # Like .NET's Convert.FromBase64String, which skips white space; binascii.Error is a
        # ValueError.
        return base64.b64decode("".join(content.split()), validate=True)

    async def _run_function(self, message: QueueMessage, body: bytes) -> bool:
        trigger_value, details = function_message(message, body), trigger_details(message)
        done = asyncio.Event()
        renewal = asyncio.create_task(self._keep_invisible(message, done))
        try:
            await self._invoke(trigger_value, details)
            return True
        except Exception:
            return False  # logged by the invoker
        finally:
            done.set()
            await renewal

    async def _keep_invisible(self, message: QueueMessage, done: asyncio.Event) -> None:
        interval = self._lease.total_seconds() / 2
        while True:
            # Returns once the run is over; renews every half lease until then.
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(done.wait(), interval)
                return
            try:
                receipt = await self._queue.update_message(
                    message.id,
                    message.pop_receipt,
                    visibility_timeout=int(self._lease.total_seconds()),
                )
            except AzureError as error:
                logger.warning(
                    "Function '%s': could not keep message %s invisible: %s",
                    self.function_name,
                    message.id,
                    error,
                )
                return
            message.pop_receipt = receipt.pop_receipt

    async def _complete(self, message: QueueMessage, succeeded: bool) -> None:
        if succeeded:
            await self._delete(message)
        elif self._poison is None:
            # Without a poison queue the host leaves a failed message invisible until its lease
            # lapses, rather than retrying it in a fast loop.
            return
        elif message.dequeue_count >= self.options.max_dequeue_count:
            await self._move_to_poison(message, self._over_limit())
        else:
            with suppress(ResourceNotFoundError):
                await self._queue.update_message(
                    message.id,
                    message.pop_receipt,
                    visibility_timeout=int(self.options.visibility_timeout.total_seconds()),
                )

    def _over_limit(self) -> str:
        return f"Message has reached MaxDequeueCount of {self.options.max_dequeue_count}"

    async def _move_to_poison(self, message: QueueMessage, reason: str) -> None:
        if self._poison is None:
            # As the host does: the message stays invisible until its lease lapses.
            logger.warning(
                "Function '%s': %s (message %s); queue '%s' has no poison queue",
                self.function_name,
                reason,
                message.id,
                self.queue_name,
            )
            return
        logger.warning(
            "Function '%s': %s (message %s). Moving message to queue '%s'.",
            self.function_name,
            reason,
            message.id,
            self._poison.queue_name,
        )
        # The text as it was on the queue, so the poison copy reads like the original.
        try:
            await self._poison.send_message(message.content)
        except ResourceNotFoundError:
            with suppress(ResourceExistsError):
                await self._poison.create_queue()
            await self._poison.send_message(message.content)
        await self._delete(message)

    async def _delete(self, message: QueueMessage) -> None:
        # Gone already (deleted by someone else, or its receipt renewed elsewhere): nothing to do.
        with suppress(ResourceNotFoundError):
            await self._queue.delete_message(message.id, message.pop_receipt)
