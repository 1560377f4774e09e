"""`python -m bench.worker`: one queue worker, as one Functions instance serves the work queue.

devhost's QueueListener polls NOTIFY_QUEUE and its poison queue with host.json's
`extensions.queues` options and calls the app's own entry points, notify_queue.main and
notify_poison.main. Settings come from the environment.

On stdin: it prints "ready" once imported, starts polling when it reads "go", and at the end of
its input stops polling, lets the runs in flight finish, closes the app and prints one JSON line:
cpu_seconds (from "go"), peak_rss_mb.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import azure.functions as func

import notify_poison
import notify_queue
from bench.measure import cpu_seconds, peak_rss_mb
from devhost.functions import parse_function_json
from devhost.host import read_host_json
from devhost.outputs import QueueWriter, called_with_outputs, waking
from devhost.queues import QueueListener, poison_queue_name, read_queue_options
from shared.app import get_app, reset_app

ROOT = Path(__file__).resolve().parent.parent
DRAIN_SECONDS = 60.0

logger = logging.getLogger("bench.worker")


def _invoker(
    name: str, main: Callable[..., Awaitable[None]], writer: QueueWriter
) -> Callable[[func.QueueMessage, str], Awaitable[None]]:
    outputs = parse_function_json(ROOT / name).queue_outputs

    async def invoke(message: func.QueueMessage, details: str) -> None:
        try:
            # As the host: what it sets on its queue bindings is written once it returns.
            await called_with_outputs(outputs, writer, lambda **bound: main(message, **bound))
        except Exception:
            # The listener only hands the message back; the host logs why, so this does.
            logger.exception("Executed '%s' (Failed): %s", name, details)
            raise

    return invoke


def _stdin_lines(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """stdin's lines, then None at its end."""
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line.strip())
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read, daemon=True).start()
    return lines


async def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    app = get_app()
    options = read_queue_options(read_host_json(ROOT, os.environ), os.environ)
    queue = app.settings.notify_queue
    connection = app.settings.storage_connection_string
    listeners: list[QueueListener] = []

    writer = QueueWriter(os.environ, options.message_encoding, waking(listeners))
    listeners += [
        QueueListener(
            "notify_queue",
            queue,
            connection,
            options,
            _invoker("notify_queue", notify_queue.main, writer),
        ),
        QueueListener(
            "notify_poison",
            poison_queue_name(queue) or queue,
            connection,
            options,
            _invoker("notify_poison", notify_poison.main, writer),
        ),
    ]
    lines = _stdin_lines(asyncio.get_running_loop())
    print("ready", flush=True)
    while (line := await lines.get()) not in ("go", None):
        pass
    started = cpu_seconds()
    polling = [asyncio.create_task(listener.run()) for listener in listeners]
    while line is not None:
        line = await lines.get()
    for task in polling:
        task.cancel()
    await asyncio.gather(*polling, return_exceptions=True)
    for listener in listeners:
        await listener.drain(DRAIN_SECONDS)
    await writer.close()
    await reset_app()
    print(json.dumps({"cpu_seconds": cpu_seconds() - started, "peak_rss_mb": peak_rss_mb()}))


if __name__ == "__main__":
    asyncio.run(main())
