"""`python -m bench.people`: reaching a directory group's members one to one, at the default limits.

A group of N people (5,000 by default) in one tenant, none of whom ever talked to the bot: a
loopback Microsoft Graph (100 ms a call) and a loopback channel (50 ms), the app's default limits
(GRAPH_MAX_RPS_PER_TENANT 30, NOTIFY_MAX_RPS_PER_TENANT 50, NOTIFY_CONCURRENCY 32) and host.json's
queue options, one in-process queue listener (one Functions instance) running the real
notify_queue. The first notification reads the group and installs the app for everyone (three
Graph calls a person: the install, the installation, its chat) and sends; the second finds every
chat stored and only sends. Each run is timed from the POST until the status says done; printed:
Graph and Bot Connector requests per person, and the most Graph calls and sends for the tenant
within any second, beside their limits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid

from bench.teams import listening, most_in_any_second
from devhost.azurite import Azurite
from shared.app import get_app, reset_app
from testbed.channel_stub import ChannelStub
from testbed.graph_stub import GraphStub
from tests.support.app_settings import emulator_settings
from tests.support.functions import get_status, post_notify

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CATALOG_APP_ID = "5a1f7c2e-8d2b-4f5e-9a61-3c6f1f0e9b11"
STATUS_POLL_SECONDS = 0.5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.people", description=__doc__)
    parser.add_argument("--members", type=int, default=5000, help="group size (5000)")
    parser.add_argument("--graph-latency-ms", type=float, default=100, help="per Graph call (100)")
    parser.add_argument("--latency-ms", type=float, default=50, help="channel latency (50)")
    return parser.parse_args()


async def timed_notification(group: str) -> tuple[float, dict]:
    started = time.monotonic()
    body = {"text": "Open enrolment", "to": {"groups": [group], "tenantIds": [TENANT]}}
    response = await post_notify(body)
    assert response.status == 202, response.body
    while True:
        status = (await get_status(response.body["id"])).body
        if status["state"] in ("done", "failed", "cancelled"):
            return time.monotonic() - started, status
        await asyncio.sleep(STATUS_POLL_SECONDS)


async def main() -> None:
    args = parse_args()
    stub = ChannelStub(latency_seconds=args.latency_ms / 1000).start()
    graph = GraphStub(latency_seconds=args.graph_latency_ms / 1000).start()
    azurite = Azurite.all_services().start()
    try:
        os.environ.update(emulator_settings(azurite.connection_string))
        os.environ.update(
            GRAPH_ENDPOINT=graph.url, TEAMS_APP_ID=CATALOG_APP_ID, TEAMS_SERVICE_URL=stub.url
        )
        group = str(uuid.uuid4())
        graph.add_group(
            group, users=[graph.add_user(str(uuid.uuid4()))["id"] for _ in range(args.members)]
        )
        app = get_app()
        settings = app.settings
        print(
            f"People of a group one to one: {args.members} people in one tenant who never talked "
            f"to the bot, Graph {args.graph_latency_ms:g} ms a call, channel {args.latency_ms:g} "
            f"ms, GRAPH_MAX_RPS_PER_TENANT={settings.graph_max_rps_per_tenant}, "
            f"NOTIFY_MAX_RPS_PER_TENANT={settings.notify_max_rps_per_tenant}, one instance"
        )
        async with listening(app):
            for run in ("first (installs)", "next (stored)"):
                calls_before, received_before = len(graph.calls), len(stub.received)
                seconds, status = await timed_notification(group)
                calls = graph.calls[calls_before:]
                sends = [r for r in stub.received[received_before:] if r.method == "POST"]
                counts = status["counts"]
                reached = counts["matched"] or 1
                graph_peak = most_in_any_second([c.at for c in calls])
                send_peak = most_in_any_second([s.at for s in sends])
                per_person = (
                    f"Graph {len(calls) / reached:.2f}/person, "
                    f"Connector {len(sends) / reached:.2f}/person"
                )
                limits = (
                    f"Graph {graph_peak} (limit {settings.graph_max_rps_per_tenant}), "
                    f"sends {send_peak} (limit {settings.notify_max_rps_per_tenant})"
                )
                print(
                    f"  {run:<17} {seconds:6.1f} s   sent {counts['sent']} of "
                    f"{counts['matched']}   {per_person}   most in 1 s: {limits}"
                )
                print("   ", json.dumps(counts))
    finally:
        await reset_app()
        azurite.stop()
        graph.stop()
        stub.stop()


if __name__ == "__main__":
    asyncio.run(main())
