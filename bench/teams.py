"""`python -m bench.teams`: how long reaching a team's members one to one takes at the default
limits.

A team of N members (1,200 by default) in one tenant, a loopback channel with 50 ms latency, the
app's default limits (NOTIFY_MAX_RPS_PER_TENANT 50, NOTIFY_CONCURRENCY 32) and host.json's queue
options, served by one in-process queue listener (one Functions instance) with the real
notify_queue entry point. The first notification opens every member's 1:1 conversation (a
request each, counted against the tenant's 50 per second like the sends) and sends; the second
finds them all stored and only sends. Each run is timed from the POST until GET /api/notify/{id}
says done; the most requests (opens and sends) that reached the channel for the tenant within any
second is printed beside the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path

from botbuilder.schema import Activity

import notify_poison
import notify_queue
from devhost.azurite import Azurite
from devhost.functions import parse_function_json
from devhost.host import read_host_json
from devhost.outputs import QueueWriter, called_with_outputs, waking
from devhost.queues import QueueListener, poison_queue_name, read_queue_options
from shared.app import App, get_app, reset_app
from shared.storage.references import StoredReference
from testbed.activities import BOT_ID, activity
from testbed.channel_stub import ChannelStub
from tests.support.app_settings import emulator_settings
from tests.support.functions import get_status, post_notify

ROOT = Path(__file__).resolve().parent.parent
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TEAM = "19:bench-team@thread.tacv2"
STATUS_POLL_SECONDS = 0.2


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.teams", description=__doc__)
    parser.add_argument("--members", type=int, default=1200, help="team size (1200)")
    parser.add_argument("--latency-ms", type=float, default=50, help="channel latency (50)")
    return parser.parse_args()


async def install_in_team(app: App, stub: ChannelStub) -> None:
    arrival = activity(
        stub.url,
        TEAM,
        type="conversationUpdate",
        conversation_type="channel",
        tenant_id=TENANT,
        membersAdded=[{"id": BOT_ID}],
        channelData={"team": {"id": TEAM}, "tenant": {"id": TENANT}},
    )
    inbound = Activity().deserialize(arrival)
    await app.store.save(StoredReference.from_activity(inbound, datetime.now(timezone.utc)))


@asynccontextmanager
async def listening(app: App) -> AsyncIterator[None]:
    """The queue functions listening, as one Functions instance, until the block ends."""
    found, writer = listeners(app)
    polling = [asyncio.create_task(listener.run()) for listener in found]
    try:
        yield
    finally:
        for task in polling:
            task.cancel()
        await asyncio.gather(*polling, return_exceptions=True)
        for listener in found:
            await listener.drain(5)
        await writer.close()


def listeners(app: App) -> tuple[list[QueueListener], QueueWriter]:
    """The queue functions' listeners, and the writer of what they set on their queue bindings
    (waking them) as the host writes it."""
    options = read_queue_options(read_host_json(ROOT, os.environ), os.environ)
    queue = app.settings.notify_queue
    connection = app.settings.storage_connection_string
    found: list[QueueListener] = []
    writer = QueueWriter(os.environ, options.message_encoding, waking(found))

    def invoke(main):
        outputs = parse_function_json(ROOT / main.__module__).queue_outputs

        async def run(message, _details: str) -> None:
            await called_with_outputs(outputs, writer, lambda **bound: main(message, **bound))

        return run

    found += [
        QueueListener("notify_queue", queue, connection, options, invoke(notify_queue.main)),
        QueueListener(
            "notify_poison",
            poison_queue_name(queue) or queue,
            connection,
            options,
            invoke(notify_poison.main),
        ),
    ]
    return found, writer


async def timed_notification(stub: ChannelStub, text: str) -> tuple[float, float, dict]:
    started = time.monotonic()
    response = await post_notify({"text": text, "to": {"teamMembersOf": [TEAM]}})
    assert response.status == 202, response.body
    while True:
        status = (await get_status(response.body["id"])).body
        if status["state"] in ("done", "failed", "cancelled"):
            return started, time.monotonic() - started, status
        await asyncio.sleep(STATUS_POLL_SECONDS)


def most_in_any_second(times: list[float]) -> int:
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def main() -> None:
    args = parse_args()
    stub = ChannelStub(latency_seconds=args.latency_ms / 1000).start()
    azurite = Azurite.all_services().start()
    try:
        os.environ.update(emulator_settings(azurite.connection_string))
        app = get_app()
        await install_in_team(app, stub)
        stub.set_roster(TEAM, [{"id": f"29:member-{n}", "name": f"Member {n}",
                                "aadObjectId": str(uuid.UUID(int=n)), "tenantId": TENANT}
                               for n in range(args.members)])  # fmt: skip
        settings = app.settings
        print(
            f"Team members one to one: {args.members} members in one tenant, latency "
            f"{args.latency_ms:g} ms, NOTIFY_MAX_RPS_PER_TENANT="
            f"{settings.notify_max_rps_per_tenant}, "
            f"NOTIFY_CONCURRENCY={settings.notify_concurrency}, one instance"
        )
        async with listening(app):
            for run, text in (("first (opens 1:1s)", "first"), ("next (stored)", "second")):
                received_before, created_before = len(stub.received), len(stub.created)
                started, seconds, status = await timed_notification(stub, text)
                created = stub.created[created_before:]
                sends = [r for r in stub.received[received_before:] if r.method == "POST"]
                peak = most_in_any_second([c.at for c in created] + [s.at for s in sends])
                counts = status["counts"]
                print(
                    f"  {run:<19} {seconds:6.1f} s   opened {len(created):5d}   sent "
                    f"{counts['sent']:5d} of {counts['matched']}   "
                    f"{len(sends) / seconds:5.1f} msg/s"
                    f"   most requests to the tenant in 1 s: {peak} (limit "
                    f"{settings.notify_max_rps_per_tenant})"
                )
                print("   ", json.dumps(counts))
                for name, times in (
                    ("opens", [c.at for c in created]),
                    ("sends", [s.at for s in sends]),
                ):
                    if times:
                        span = f"{min(times) - started:.1f} s to {max(times) - started:.1f} s"
                        print(f"    {name} reached the channel from {span} after the POST")
    finally:
        await reset_app()
        azurite.stop()
        stub.stop()


if __name__ == "__main__":
    asyncio.run(main())
