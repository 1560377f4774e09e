"""From the POST to the last delivery: a mid-size notification through the queue, as a caller
waits for it, against the raw floor sending the same targets in the same run.

One devhost process is the Functions instance: it serves POST /api/notify and polls the work
queue with host.json's options, and has been idle long enough that its listener's polling has
backed off to `maxPollingInterval`, as an instance between notifications has. The clock runs
from the moment the POST is sent until the loopback channel receives the last message. The floor
is `bench.paths floor`: pre-built requests over one pooled session, at the same concurrency.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from bench.instance import Instance
from bench.measure import run_path
from bench.queued import QueuedBench, Target, checked_target

CONCURRENCY = 64
TENANTS = 10
# Long enough for an idle listener's back-off to reach host.json's maxPollingInterval (2 s).
IDLE_SECONDS = 6.0
TARGET_RATIO = 1.25


async def post_to_last_delivery(args, bench: QueuedBench) -> list[Target]:
    print(
        f"\nFrom the POST to the last delivery: one idle instance (devhost) against the raw floor,"
        f" latency {args.latency_ms:g} ms, concurrency {CONCURRENCY}, rate limits off"
    )
    print(f"  {'N':>6}  {'floor s':>8}  {'queue s':>8}  {'ratio':>6}  {'202 in':>7}  first send")
    targets = []
    for n in (int(n) for n in args.latency_ns.split(",") if n):
        references = await bench.references(n, TENANTS, mixed=True)
        env = bench.env(references, CONCURRENCY, 0, counted=False, NOTIFY_SCHEDULE="0 0 0 1 1 *")
        bench.stub.reset()
        floor = run_path("floor", n, CONCURRENCY, env)
        bench.stub.reset()
        queued = await _through_an_idle_instance(bench, env, n)
        ratio = queued["last"] / floor["seconds"]
        print(
            f"  {n:>6}  {floor['seconds']:>8.2f}  {queued['last']:>8.2f}  {ratio:>5.2f}x"
            f"  {queued['answered']:>6.2f}s  {queued['first']:.2f} s"
        )
        targets.append(
            checked_target(
                f"POST to last delivery / floor, N={n}",
                ratio,
                f"{ratio:.2f}x",
                f"<= {TARGET_RATIO}x",
                lambda r: r <= TARGET_RATIO,
            )
        )
        await bench.drop([references, env["NOTIFICATIONS_TABLE"]], env["NOTIFY_QUEUE"])
    return targets


async def _through_an_idle_instance(bench: QueuedBench, env: dict[str, str], n: int) -> dict:
    instance = Instance(env, bench.log_dir)
    try:
        async with aiohttp.ClientSession() as session:
            await instance.start(session)
            await asyncio.sleep(IDLE_SECONDS)
            url = f"{instance.url}/api/notify"
            started = time.monotonic()
            async with session.post(url, json={"text": "Benchmark: the build finished."}) as posted:
                answered = time.monotonic() - started
                if posted.status != 202:
                    raise SystemExit(f"POST answered {posted.status}: {await posted.text()}")
            deadline = started + 60 + n / 50
            while len(bench.stub.received) < n:
                if time.monotonic() > deadline or not instance.running:
                    delivered = len(bench.stub.received)
                    raise SystemExit(f"{delivered} of {n} delivered:\n{instance.tail()}")
                await asyncio.sleep(0.02)
    finally:
        await instance.stop()
    arrivals = sorted(r.at for r in bench.stub.received)
    if len({r.conversation_id for r in bench.stub.received}) != n:
        raise SystemExit("someone got the message twice, or someone was missed")
    return {"answered": answered, "first": arrivals[0] - started, "last": arrivals[-1] - started}
