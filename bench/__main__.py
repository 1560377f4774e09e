"""`python -m bench`: delivery throughput, CPU, memory and import time, side by side in one run.

Starts an in-memory Azurite and a loopback Bot Connector stub with the given latency, stores N
references, then runs each path in a fresh process against the same stub:
  project  the app's notify path (streams references from Table Storage, retries, limits)
  stock    the BotBuilder sample's `continue_conversation` loop (on the first --stock-n references)
  floor    pre-built requests over one pooled aiohttp session at the same concurrency
Rate limits are off for these (NOTIFY_MAX_RPS_PER_TENANT=0); a separate demo runs with the
defaults on and checks, from what the stub received, that no window exceeded them. These paths
send inline (NOTIFY_INLINE_MAX_TARGETS >= N).

Queued delivery (see bench/queued.py): the queue path against the inline one on N references
and the Table operations it costs per target; worker processes sharing 20 tenants' rate limits
(1, 2, 4 workers); a `to.tenantIds` audience of 20 tenants beside another tenant's references;
one tenant drained by 2 workers; telemetry on against off, inline and queued
(bench/telemetry.py). The issue's targets are printed beside each figure, and together at the end.
With the import times: the reminder phrase table's scores and
the import cost of the reminders' recognizer (bench/recognizers.py). Last, a 1,200-member team
reached one to one at the default limits, twice (bench/teams.py); and a 5,000-person directory
group, the app installed for each through Graph, then reached again (bench/people.py); and the
Table operations of engagement bookkeeping: a 10,000-target notification that a third read and a
tenth react to (bench/engagement.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid

from bench import recognizers
from bench.chaos import run_chaos
from bench.latency import post_to_last_delivery
from bench.measure import ROOT, run_path
from bench.queued import (
    QueuedBench,
    one_tenant,
    print_targets,
    queue_memory,
    queue_vs_inline,
    scale_out,
    tenant_audience,
    tenants_in_parallel,
)
from bench.seed import conversation_id, seed, tenant_of
from bench.telemetry import telemetry_on_off
from devhost.azurite import Azurite
from testbed.channel_stub import ChannelStub

BARE_IMPORT = "botbuilder.core, azure.data.tables, azure.functions"
# Each function's import, with what its first call imports besides: the messages function builds
# the chat layer (shared.functions.activities and what it uses) on first use, and pays for it then.
FUNCTION_MODULES = {
    "messages": "messages, shared.functions.activities",
    "notify_http": "notify_http",
    "notify_timer": "notify_timer",
    "notify_queue": "notify_queue",
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--n", type=int, default=2000, help="references to send to (2000)")
    parser.add_argument("--latency-ms", type=float, default=50, help="channel latency (50)")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight (64)")
    parser.add_argument("--stock-n", type=int, default=100, help="references for the stock loop")
    parser.add_argument("--tenants", type=int, default=10, help="tenants the references span")
    parser.add_argument(
        "--rss-ns", default="1000,5000", help="comma-separated N for the memory check"
    )
    parser.add_argument("--import-runs", type=int, default=5, help="fresh imports per module")
    parser.add_argument("--skip-paths", action="store_true", help="skip floor/project/stock")
    parser.add_argument("--skip-memory", action="store_true", help="skip the memory check")
    parser.add_argument("--skip-imports", action="store_true", help="skip the import times")
    parser.add_argument("--skip-limits-demo", action="store_true")
    parser.add_argument(
        "--skip-teams", action="store_true", help="skip a team's members reached one to one"
    )
    parser.add_argument(
        "--skip-people",
        action="store_true",
        help="skip a directory group's 5,000 people reached one to one (about 10 minutes)",
    )
    parser.add_argument(
        "--skip-engagement",
        action="store_true",
        help="skip the Table operations of reads and reactions on 10,000 targets (about 4 minutes)",
    )
    queued = parser.add_argument_group("queued delivery")
    queued.add_argument(
        "--skip-queue", action="store_true", help="skip queue vs inline and its Table operations"
    )
    queued.add_argument(
        "--skip-telemetry",
        action="store_true",
        help="skip telemetry on against off (OTLP to a loopback collector), inline and queued",
    )
    queued.add_argument("--skip-scale-out", action="store_true")
    queued.add_argument(
        "--chaos",
        action="store_true",
        help="also break things mid-send: a killed instance, Table outages, a 429 storm",
    )
    queued.add_argument(
        "--skip-latency", action="store_true", help="skip POST-to-last-delivery against the floor"
    )
    queued.add_argument(
        "--latency-ns", default="1000,5000", help="audiences timed from the POST to the last send"
    )
    queued.add_argument("--skip-one-tenant", action="store_true")
    queued.add_argument("--skip-tenants-in-parallel", action="store_true")
    queued.add_argument("--skip-tenant-audience", action="store_true")
    queued.add_argument(
        "--audience-n", type=int, default=40000, help="tenant audience: its targets (40000)"
    )
    queued.add_argument(
        "--audience-others",
        type=int,
        default=20000,
        help="references of another tenant stored beside it (20000)",
    )
    queued.add_argument("--scale-n", type=int, default=20000, help="scale-out audience (20000)")
    queued.add_argument("--scale-tenants", type=int, default=20, help="its tenants (20)")
    queued.add_argument(
        "--scale-workers", default="1,2,4", help="comma-separated worker process counts (1,2,4)"
    )
    queued.add_argument(
        "--worker-concurrency",
        type=int,
        default=8,
        help="NOTIFY_CONCURRENCY of each scale-out worker, to make one worker the bottleneck (8)",
    )
    queued.add_argument(
        "--tenant-rps", type=int, default=50, help="NOTIFY_MAX_RPS_PER_TENANT for scale-out (50)"
    )
    queued.add_argument(
        "--one-tenant-n",
        type=int,
        default=20000,
        help="one-tenant audience (20000: over 400 s at 50/s)",
    )
    queued.add_argument("--one-tenant-workers", type=int, default=2, help="(2)")
    queued.add_argument(
        "--tenant-keys",
        choices=("mixed", "by-tenant"),
        default="mixed",
        help="key order of the queued parts' conversations: tenants mixed (as real ids are), "
        "or each tenant's together (mixed)",
    )
    return parser.parse_args()


def path_env(azurite: Azurite, table: str, inline_max: int) -> dict[str, str]:
    return {
        **os.environ,
        "AzureWebJobsStorage": azurite.connection_string,
        "CONVERSATION_TABLE": table,
        "MicrosoftAppId": "",
        "MicrosoftAppPassword": "",
        "ALLOWED_SERVICE_URLS": "",
        "NOTIFY_MAX_RPS_PER_TENANT": "0",
        # Send within the request: a larger audience would go through the queue.
        "NOTIFY_INLINE_MAX_TARGETS": str(inline_max),
    }


def import_seconds(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(out.stdout)


def row(*cells: object) -> str:
    widths = (10, 9, 9, 10, 12, 12)
    return "  ".join(str(c).rjust(w) for c, w in zip(cells, widths, strict=True))


async def measure_paths(args, azurite: Azurite, stub: ChannelStub) -> None:
    table = "bench" + uuid.uuid4().hex[:10]
    started = time.perf_counter()
    await seed(azurite.connection_string, table, stub.url, args.n, args.tenants)
    print(f"Stored {args.n} references in {time.perf_counter() - started:.1f} s\n")
    env = path_env(azurite, table, args.n)
    results = {}
    for path, n in (("floor", args.n), ("project", args.n), ("stock", min(args.stock_n, args.n))):
        stub.reset()
        results[path] = run_path(path, n, args.concurrency, env)
        received = len(stub.received)
        if received != results[path]["messages"]:
            raise SystemExit(f"{path}: stub received {received}, path says {results[path]}")
    stub.reset()
    print(
        f"Delivery: N={args.n}, latency {args.latency_ms:g} ms, concurrency {args.concurrency}"
        ", rate limits off"
    )
    print(row("path", "messages", "seconds", "msg/s", "CPU ms/msg", "peak RSS MB"))
    for path, r in results.items():
        rate = r["messages"] / r["seconds"]
        cpu_ms = 1000 * r["cpu_seconds"] / r["messages"]
        print(
            row(
                path,
                r["messages"],
                f"{r['seconds']:.2f}",
                f"{rate:.0f}",
                f"{cpu_ms:.3f}",
                f"{r['peak_rss_mb']:.0f}",
            )
        )
        r["rate"] = rate
    print(
        f"\nproject / floor = {results['project']['rate'] / results['floor']['rate']:.2f}x"
        "   (target >= 0.8x)"
    )
    print(
        f"project / stock = {results['project']['rate'] / results['stock']['rate']:.1f}x"
        "   (target >= 40x)"
    )


async def measure_memory(args, azurite: Azurite, stub: ChannelStub) -> None:
    ns = [int(n) for n in args.rss_ns.split(",") if n]
    if not ns:
        return
    print(
        f"\nMemory of the inline path (concurrency {args.concurrency}, "
        "NOTIFY_INLINE_MAX_TARGETS = N: the audience is read whole before sending, which is why "
        "the product keeps it at 100)"
    )
    peaks = []
    for n in ns:
        table = "rss" + uuid.uuid4().hex[:10]
        await seed(azurite.connection_string, table, stub.url, n, args.tenants)
        stub.reset()
        result = run_path("project", n, args.concurrency, path_env(azurite, table, n))
        stub.reset()
        peaks.append(result["peak_rss_mb"])
        print(
            f"  N={n:>7}: peak RSS {result['peak_rss_mb']:.1f} MB, "
            f"{result['messages'] / result['seconds']:.0f} msg/s"
        )
    print(f"  growth N={ns[0]} -> N={ns[-1]}: {peaks[-1] - peaks[0]:+.1f} MB   (target < 50 MB)")


def measure_imports(args) -> None:
    print(f"\nImport time (median of {args.import_runs} fresh processes, modules interleaved)")
    modules = (BARE_IMPORT, *FUNCTION_MODULES.values())
    samples: dict[str, list[float]] = {module: [] for module in modules}
    # Round-robin, so a busy moment of the machine lands on every module alike.
    for _ in range(args.import_runs):
        for module in modules:
            samples[module].append(import_seconds(module))
    bare = statistics.median(samples[BARE_IMPORT])
    print(f"  {'bare: import ' + BARE_IMPORT:<62} {bare * 1000:6.0f} ms")
    for function, module in FUNCTION_MODULES.items():
        seconds = statistics.median(samples[module])
        label = "import " + function + (" + its first call's" if module != function else "")
        print(f"  {label:<62} {seconds * 1000:6.0f} ms  {seconds / bare:.2f}x   (target <= 1.2x)")


async def limits_demo(azurite: Azurite, stub: ChannelStub) -> None:
    """Default limits on: what the stub saw per conversation and per tenant in any second."""
    from shared.app import get_app, reset_app

    table = "limits" + uuid.uuid4().hex[:10]
    await seed(azurite.connection_string, table, stub.url, 240, tenants=3)
    env = path_env(azurite, table, 240)
    env.pop("NOTIFY_MAX_RPS_PER_TENANT")
    os.environ.update(env)
    os.environ.pop("NOTIFY_MAX_RPS_PER_TENANT", None)
    await reset_app()
    app = get_app()
    print("\nRate limits (defaults: 7 per conversation per second, 50 per tenant per second)")

    stub.reset()
    started = time.perf_counter()
    result = await app.notify.handle(
        json.dumps({"text": "broadcast"}).encode(), {"Content-Type": "application/json"}
    )
    tenant_peak = stub.most_in_any_window(lambda r: tenant_of(r.conversation_id))
    print(
        f"  broadcast to 240 conversations in 3 tenants: sent {result.body['sent']} in "
        f"{time.perf_counter() - started:.2f} s; most for one tenant in any 1 s: {tenant_peak}"
    )

    stub.reset()
    hot = "t0-conv-000000"
    body = json.dumps({"text": "hot", "to": {"conversationIds": [hot]}}).encode()
    started = time.perf_counter()
    results = await asyncio.gather(
        *(app.notify.handle(body, {"Content-Type": "application/json"}) for _ in range(20))
    )
    sent = sum(r.body["sent"] for r in results)
    peak = stub.most_in_any_window(lambda r: r.conversation_id)
    print(
        f"  20 notifications at once to one conversation: sent {sent} in "
        f"{time.perf_counter() - started:.2f} s; most in any 1 s: {peak}"
    )

    stub.reset()
    # 30 conversations of one tenant: within its 50/s, so only the 429 can delay anyone.
    targets = [conversation_id(i, 3) for i in range(1, 90, 3)]
    throttled = targets[0]
    stub.answer(throttled, 429, "TooManyRequests", times=1, headers={"Retry-After": "1"})
    body = json.dumps({"text": "429", "to": {"conversationIds": targets}}).encode()
    result = await app.notify.handle(body, {"Content-Type": "application/json"})
    first = min(r.at for r in stub.received)
    attempts = [r.at - first for r in stub.received_by(throttled)]
    others = max(r.at - first for r in stub.received if r.conversation_id != throttled)
    print(
        f"  429 Retry-After: 1 on one of {result.body['matched']} conversations: retried after "
        f"{attempts[1] - attempts[0]:.2f} s; the other {result.body['matched'] - 1} were all "
        f"reached within {others:.2f} s of the first send; sent {result.body['sent']}"
    )
    await reset_app()


async def main() -> None:
    args = parse_args()
    with Azurite.table_only() as azurite:
        stub = ChannelStub(latency_seconds=args.latency_ms / 1000).start()
        try:
            if not args.skip_paths:
                await measure_paths(args, azurite, stub)
            if not args.skip_memory:
                await measure_memory(args, azurite, stub)
            if not args.skip_imports:
                measure_imports(args)
                # The reminders' recognizer, imported on the first reminder request only.
                recognizers.report(args.import_runs)
            targets = []
            if not (
                args.skip_queue
                and not args.chaos
                and args.skip_latency
                and args.skip_memory
                and args.skip_scale_out
                and args.skip_one_tenant
                and args.skip_tenants_in_parallel
                and args.skip_tenant_audience
                and args.skip_telemetry
            ):
                with QueuedBench(azurite, stub) as bench:
                    if not args.skip_queue:
                        targets += await queue_vs_inline(args, bench)
                    if not args.skip_telemetry:
                        targets += await telemetry_on_off(args, bench)
                    if not args.skip_latency:
                        targets += await post_to_last_delivery(args, bench)
                    if args.chaos:
                        targets += await run_chaos(args, bench)
                    if not args.skip_memory:
                        targets += await queue_memory(args, bench)
                    if not args.skip_scale_out:
                        targets += await scale_out(args, bench)
                    if not args.skip_tenants_in_parallel:
                        targets += await tenants_in_parallel(args, bench)
                    if not args.skip_tenant_audience:
                        targets += await tenant_audience(args, bench)
                    if not args.skip_one_tenant:
                        targets += await one_tenant(args, bench)
            if not args.skip_limits_demo:
                stub.latency_seconds = 0.0
                await limits_demo(azurite, stub)
            if not args.skip_teams:
                # A process of its own: it runs its own Azurite, stub and app settings.
                teams = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.teams")
                if await teams.wait():
                    raise SystemExit("bench.teams failed")
            if not args.skip_people:
                # Its own process too: Graph and the channel on loopback, at the default limits.
                people = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.people")
                if await people.wait():
                    raise SystemExit("bench.people failed")
            if not args.skip_engagement:
                engagement = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bench.engagement"
                )
                if await engagement.wait():
                    raise SystemExit("bench.engagement failed")
            print_targets(targets)
        finally:
            stub.stop()


if __name__ == "__main__":
    asyncio.run(main())
