"""Serve the queue-triggered functions in-process, as the host would, until the work is done.

The real devhost listener polls the app's Azurite queues with host.json's options and calls the
real `notify_queue` / `notify_poison` entry points, so retries, visibility and poison handling
are the host's, not a test's shortcut.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable

from azure.core.exceptions import ResourceNotFoundError
from azure.functions.queue import QueueMessage
from azure.storage.queue import TextBase64DecodePolicy
from azure.storage.queue.aio import QueueClient

import notify_poison
import notify_queue
from devhost.functions import parse_function_json
from devhost.outputs import OutputValue, QueueWriter, called_with_outputs, waking
from devhost.queues import QueueListener, QueueOptions, read_queue_options
from shared.app import App
from tests.support.devhost_process import REPO_ROOT

FAST_POLLING = dt.timedelta(milliseconds=100)


def _options(**overrides: object) -> QueueOptions:
    host_config = json.loads((REPO_ROOT / "host.json").read_text())
    options = read_queue_options(host_config, {"WEBSITE_SKU": "Dynamic"})
    return dataclasses.replace(options, max_polling_interval=FAST_POLLING, **overrides)


async def queued_messages(app: App, queue_name: str | None = None) -> int:
    """Messages on the queue, hidden ones included (0 if it does not exist yet)."""
    client = QueueClient.from_connection_string(
        app.settings.storage_connection_string, queue_name or app.settings.notify_queue
    )
    async with client:
        try:
            return (await client.get_queue_properties()).approximate_message_count
        except ResourceNotFoundError:
            return 0


async def run_queued_work(
    app: App,
    timeout: float = 60.0,
    work: Callable[..., Awaitable[None]] = notify_queue.main,
    **options: object,
) -> None:
    """Run both queue functions until their queues are empty and nothing is in flight. `work`
    stands in for notify_queue's main (it takes the message and notify_queue's output bindings);
    what they set is written as the host writes it, waking the listener on its queue."""
    queue = app.settings.notify_queue
    poison = f"{queue}-poison"
    listeners: list[QueueListener] = []

    writer = QueueWriter(os.environ, _options().message_encoding, waking(listeners))

    def run(function: Callable[..., Awaitable[None]], name: str):
        outputs = parse_function_json(REPO_ROOT / name).queue_outputs

        async def invoke(message: QueueMessage, _details: str) -> None:
            try:
                await called_with_outputs(
                    outputs, writer, lambda **bound: function(message, **bound)
                )
            except Exception:
                # As the host's invoker does: a failing run is logged, not only retried.
                logging.getLogger(__name__).exception("%s failed", function.__module__)
                raise

        return invoke

    listeners += [
        QueueListener(
            "notify_queue",
            queue,
            app.settings.storage_connection_string,
            _options(**options),
            run(work, "notify_queue"),
            lease=dt.timedelta(seconds=30),
        ),
        QueueListener(
            "notify_poison",
            poison,
            app.settings.storage_connection_string,
            _options(),
            run(notify_poison.main, "notify_poison"),
        ),
    ]
    polling = [asyncio.create_task(listener.run()) for listener in listeners]
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            if await queued_messages(app, queue) == 0 and await queued_messages(app, poison) == 0:
                return
        raise AssertionError(f"queued work not done within {timeout} s")
    finally:
        for task in polling:
            task.cancel()
        await asyncio.gather(*polling, return_exceptions=True)
        for listener in listeners:
            await listener.drain(5)
        await writer.close()


async def run_expansion_only(app: App, windows: int | None = None) -> int:
    """Run the audience's expand items now (the first `windows` of them, if given; the first
    window was split within the request) and leave its chunk items, and any expand item past
    those, waiting on the queue, as if no instance had got to them yet; the number of chunk items
    left."""
    client = QueueClient.from_connection_string(
        app.settings.storage_connection_string,
        app.settings.notify_queue,
        message_decode_policy=TextBase64DecodePolicy(),
    )
    chunks: set[str] = set()
    async with client:
        while True:
            hidden, expanded = [], False
            async for message in client.receive_messages(max_messages=32, visibility_timeout=5):
                body = message.content.encode("utf-8")
                kind = json.loads(body)["kind"]
                if kind == "expand" and windows != 0:
                    windows = None if windows is None else windows - 1
                    # No host writes its WakeItem: nothing is meant to take the chunks yet.
                    item = QueueMessage(id=message.id, body=body, dequeue_count=1)
                    await notify_queue.main(item, OutputValue())
                    await client.delete_message(message)
                    expanded = True
                else:
                    if kind == "chunk":
                        chunks.add(message.id)
                    hidden.append(message)
            for message in hidden:
                await client.update_message(message.id, message.pop_receipt, visibility_timeout=0)
            if not expanded:
                return len(chunks)
