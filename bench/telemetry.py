"""`python -m bench.telemetry`: what telemetry costs a send, on against off in one run.

The two delivery paths of the queue-vs-inline part, N references in 10 tenants, rate limits off:
  inline  `bench.paths project`: notify_http's entry point sending within the request
  queue   the POST answered 202, one `bench.worker` process draining the work queue
Each path runs off, on, off, on (a fresh process each time, so drift lands on both), and the
figure is the ratio of the medians. On: OTLP/HTTP to a loopback collector in this process, the
default sampling (TRACE_SENDS_PER_RUN). An ON run is checked to have really been on (run spans:
SERVER inline, CONSUMER queued; some CLIENT spans; notify.sends totalling N), an OFF run to have
sent the collector nothing. Only the sending processes record: the queued POST, made in this
process beside the channel stub and the collector, is untraced either way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import shared.telemetry.names as names
from bench.measure import run_path
from bench.queued import QueuedBench, Target, checked_target, print_targets, run_queued
from devhost.azurite import Azurite
from testbed.channel_stub import ChannelStub
from testbed.otlp_collector import OtlpCollector

RUNS = ("off", "on", "off", "on")
TARGET_RATIO = 0.9
SERVICE_NAME = "proactive-notify-bench"
# Settings that would turn telemetry on, or steer it, if this shell exported them: unset for this
# part, so that OFF is off and ON goes to the loopback collector only, as configured here.
TELEMETRY_PREFIXES = ("OTEL_", "APPLICATIONINSIGHTS_", "TRACE_SENDS_PER_RUN")
RUN_SPAN = {"inline": "SERVER", "queue": "CONSUMER"}


@dataclass
class Run:
    telemetry: str
    rate: float
    cpu_ms_per_message: float
    spans: Counter[str]  # exported, by kind


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.telemetry", description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="references to send to (2000)")
    parser.add_argument("--latency-ms", type=float, default=50, help="channel latency (50)")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight (64)")
    parser.add_argument("--tenants", type=int, default=10, help="tenants the references span")
    parser.set_defaults(tenant_keys="mixed")
    return parser.parse_args()


def on_settings(collector: OtlpCollector) -> dict[str, str]:
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "OTEL_BSP_SCHEDULE_DELAY": "1000",
        "OTEL_METRIC_EXPORT_INTERVAL": "5000",
        "OTEL_SERVICE_NAME": SERVICE_NAME,
    }


@contextmanager
def telemetry_unset() -> Iterator[None]:
    """This process's environment (which the paths' settings start from) without telemetry's."""
    saved = {k: v for k, v in os.environ.items() if k.startswith(TELEMETRY_PREFIXES)}
    for name in saved:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(saved)


async def telemetry_on_off(args, bench: QueuedBench) -> list[Target]:
    bench.stub.latency_seconds = args.latency_ms / 1000
    print(
        f"\nTelemetry on against off: N={args.n} in {args.tenants} tenants, latency "
        f"{args.latency_ms:g} ms, concurrency {args.concurrency}, rate limits off\n"
        "  on: OTLP/HTTP to a loopback collector, default sampling; runs alternate off, on, off,"
        " on;\n  CPU is the sending process's (the inline path's own, or the one worker's)"
    )
    references = await bench.references(args.n, args.tenants, args.tenant_keys == "mixed")
    targets = []
    print(
        f"  {'path':<7} {'telemetry':>9} {'msg/s':>8} {'CPU ms/msg':>11} {'spans/msg':>10}"
        "  spans exported"
    )
    with OtlpCollector() as collector, telemetry_unset():
        for path in RUN_SPAN:
            runs = []
            for mode in RUNS:
                settings = on_settings(collector) if mode == "on" else {}
                collector.reset()
                rate, cpu_ms = await _run(path, args, bench, references, settings)
                spans = _exported(collector, path, mode, args.n)
                runs.append(Run(mode, rate, cpu_ms, spans))
                per_message = f"{spans.total() / args.n:.3f}" if mode == "on" else "-"
                kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(spans.items()))
                row = f"  {path:<7} {mode:>9} {rate:>8.0f} {cpu_ms:>11.3f} {per_message:>10}"
                print(f"{row}  {kinds}".rstrip())
            targets.append(_compared(path, args.n, runs))
    await bench.drop([references])
    return targets


async def _run(
    path: str, args, bench: QueuedBench, references: str, settings: dict[str, str]
) -> tuple[float, float]:
    """One run of `path`: its msg/s and its sending process's CPU ms per message."""
    if path == "queue":
        run = await run_queued(
            bench, references, args.n, 1, args.concurrency, 0, counted=False, **settings
        )
        return run.rate, run.cpu_ms_per_message
    env = bench.env(
        references,
        args.concurrency,
        0,
        counted=False,
        NOTIFY_INLINE_MAX_TARGETS=str(args.n),
        **settings,
    )
    bench.stub.reset()
    measured = run_path("project", args.n, args.concurrency, env)
    if len(bench.stub.received) != args.n:
        raise SystemExit(f"inline: the stub received {len(bench.stub.received)} of {args.n}")
    await bench.drop([env["NOTIFICATIONS_TABLE"], env["COORDINATION_TABLE"]])
    messages = measured["messages"]
    return messages / measured["seconds"], 1000 * measured["cpu_seconds"] / messages


def _exported(collector: OtlpCollector, path: str, mode: str, n: int) -> Counter[str]:
    """The spans an ON run exported, once it is plain that telemetry was on; OFF, that it was
    off. The sending process has flushed and exited by now, so nothing more is on its way."""
    if mode == "off":
        if collector.requests:
            raise SystemExit(f"{path}, telemetry off: the collector got {collector.requests}")
        return Counter()
    spans = collector.spans
    kinds = Counter(span["kind"] for span in spans)
    run_kind = RUN_SPAN[path]
    notifications = {
        span["attributes"].get(names.NOTIFICATION_ID) for span in spans if span["kind"] == run_kind
    }
    services = {span["resource"].get("service.name") for span in spans}
    sends = _sends_total(collector.metric_points)
    if not kinds[run_kind] or not kinds["CLIENT"] or len(notifications) != 1 or sends != n:
        raise SystemExit(
            f"{path}, telemetry on: spans by kind {dict(kinds)}, notifications {notifications}, "
            f"{names.SENDS} total {sends} (expected {run_kind} and CLIENT spans of one "
            f"notification, and {n} sends); export requests {collector.requests}"
        )
    if services != {SERVICE_NAME}:
        raise SystemExit(f"{path}, telemetry on: spans from services {services}")
    return kinds


def _sends_total(points: list[dict]) -> int:
    """notify.sends over every outcome: a cumulative series' last value (one series per process
    and attribute set), or a delta series' sum."""
    last: dict[tuple, dict] = {}
    total = 0
    for point in points:
        if point["name"] != names.SENDS:
            continue
        if point.get("temporality") == "delta":
            total += point["value"]
            continue
        series = (point["start"], tuple(sorted(point["attributes"].items())))
        if series not in last or point["time"] >= last[series]["time"]:
            last[series] = point
    return int(total + sum(point["value"] for point in last.values()))


def _compared(path: str, n: int, runs: list[Run]) -> Target:
    def median(mode: str, figure: str) -> float:
        return statistics.median(getattr(r, figure) for r in runs if r.telemetry == mode)

    rate = median("on", "rate") / median("off", "rate")
    cpu = median("on", "cpu_ms_per_message") / median("off", "cpu_ms_per_message")
    print(
        f"  {path}: on / off msg/s = {rate:.2f}x   (target >= {TARGET_RATIO}x); "
        f"CPU ms/msg on / off = {cpu:.2f}x"
    )
    return checked_target(
        f"telemetry on / off msg/s, {path}, N={n}",
        rate,
        f"{rate:.2f}x",
        f">= {TARGET_RATIO}x",
        lambda v: v >= TARGET_RATIO,
    )


async def main() -> None:
    args = parse_args()
    with Azurite.table_only() as azurite:
        stub = ChannelStub(latency_seconds=args.latency_ms / 1000).start()
        try:
            with QueuedBench(azurite, stub) as bench:
                targets = await telemetry_on_off(args, bench)
            print_targets(targets)
        finally:
            stub.stop()


if __name__ == "__main__":
    asyncio.run(main())
