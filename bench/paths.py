"""One delivery path, run in a process of its own so its CPU time and peak RSS are its own.

`python -m bench.paths {project,stock,floor} --n N --concurrency C` with the storage settings in
the environment; prints one JSON line: messages, seconds, cpu_seconds, peak_rss_mb.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from dataclasses import asdict, dataclass

import aiohttp
import azure.functions as func

import notify_http
from bench.measure import cpu_seconds, peak_rss_mb
from devhost.outputs import OutputValue
from shared.app import get_app
from shared.channel.connector import activity_url
from shared.delivery.outbound import OutboundMessage, ProactivePayloads
from shared.storage.audience import Audience

TEXT = "Benchmark: the build finished."


@dataclass
class Measured:
    messages: int
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float


async def _references(limit: int) -> list:
    references = []
    async for stored in get_app().store.find(Audience()):
        references.append(stored)
        if len(references) == limit:
            break
    return references


async def project(n: int, concurrency: int) -> int:
    """The app's own path: notify_http's entry point, streaming references from the table.

    Called as the worker calls it, so that telemetry on (settings in the environment) gives the
    request its SERVER span: the span each run samples its client spans under."""
    request = func.HttpRequest(
        method="POST",
        url="http://127.0.0.1:7071/api/notify",
        headers={"Content-Type": "application/json"},
        params={},
        route_params={},
        body=json.dumps({"text": TEXT}).encode(),
    )
    response = await notify_http.main(request, OutputValue())
    body = json.loads(response.get_body())
    assert response.status_code == 200, body
    assert body["sent"] == n, body
    return body["sent"]


async def stock(n: int, concurrency: int) -> int:
    """What the BotBuilder sample does: continue_conversation in a loop."""
    from botbuilder.core import CloudAdapterBase, TurnContext
    from botframework.connector.auth import (
        BotFrameworkAuthenticationFactory,
        PasswordServiceClientCredentialFactory,
    )

    adapter = CloudAdapterBase(
        BotFrameworkAuthenticationFactory.create(
            credential_factory=PasswordServiceClientCredentialFactory("", "")
        )
    )

    async def send(turn_context: TurnContext) -> None:
        await turn_context.send_activity(TEXT)

    references = [stored.reference for stored in _preloaded]
    started = time.perf_counter(), cpu_seconds()
    for reference in references:
        await adapter.continue_conversation(reference, send, "")
    return _timed(started, len(references))


async def floor(n: int, concurrency: int) -> int:
    """The network floor: pre-built requests over one pooled aiohttp session."""
    requests = []
    payloads = ProactivePayloads(OutboundMessage(TEXT))
    for stored in _preloaded:
        activity = payloads.for_reference(stored.reference_json)
        requests.append((activity_url(activity), json.dumps(activity).encode()))
    headers = {"Content-Type": "application/json; charset=utf-8"}
    slots = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as session:

        async def post(url: str, body: bytes) -> None:
            async with slots, session.post(url, data=body, headers=headers) as response:
                await response.read()
                assert response.status == 200

        started = time.perf_counter(), cpu_seconds()
        await asyncio.gather(*(post(url, body) for url, body in requests))
        return _timed(started, len(requests))


_preloaded: list = []
_timing: dict = {}


def _timed(started: tuple[float, float], messages: int) -> int:
    _timing["seconds"] = time.perf_counter() - started[0]
    _timing["cpu_seconds"] = cpu_seconds() - started[1]
    return messages


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", choices=["project", "stock", "floor"])
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    args = parser.parse_args()
    os.environ["NOTIFY_CONCURRENCY"] = str(args.concurrency)
    app = get_app()
    if args.path != "project":
        # The stock loop and the floor get their references up front, outside the timing.
        _preloaded.extend(await _references(args.n))
    run = {"project": project, "stock": stock, "floor": floor}[args.path]
    started = time.perf_counter(), cpu_seconds()
    messages = await run(args.n, args.concurrency)
    if not _timing:
        _timed(started, messages)
    await app.close()
    measured = Measured(messages, _timing["seconds"], _timing["cpu_seconds"], peak_rss_mb())
    print(json.dumps(asdict(measured)))


if __name__ == "__main__":
    asyncio.run(main())
