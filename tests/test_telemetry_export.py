"""The app, started as the local host starts it with OTEL_EXPORTER_OTLP_ENDPOINT set, exports its
traces and metrics over OTLP/HTTP to a loopback collector: the wiring end to end, with the
standard OTEL_* variables honoured (service name, batch delay, metric interval)."""

from __future__ import annotations

from collections import Counter

import aiohttp

import shared.telemetry.names as names
from testbed.otlp_collector import OtlpCollector
from tests.support.runners import (
    Runners,
    runner_env,
    status_when_settled,
    store_audience,
    wait_until,
)

CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"
CALLER = f"00-{CALLER_TRACE}-b7ad6b7169203331-01"


def sends_counted(collector: OtlpCollector) -> dict[str, float]:
    """notify.sends by outcome, as last exported (the SDK exports cumulative totals)."""
    latest: dict[str, float] = {}
    for point in collector.metric_points:
        if point["name"] == names.SENDS:
            latest[point["attributes"][names.OUTCOME]] = point["value"]
    return latest


async def test_a_running_app_exports_one_trace_and_its_metrics_to_an_otlp_collector(
    azurite, channel_stub, tmp_path
):
    channel_stub.reset()
    ids = [f"otlp-conv-{n:02d}" for n in range(30)]
    with OtlpCollector() as collector:
        env = runner_env(
            azurite.connection_string,
            NOTIFY_INLINE_MAX_TARGETS=10,
            NOTIFY_MAX_RPS_PER_TENANT=0,
            TRACE_SENDS_PER_RUN=5,
            OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
            OTEL_SERVICE_NAME="notify-under-test",
            OTEL_BSP_SCHEDULE_DELAY=200,
            OTEL_METRIC_EXPORT_INTERVAL=500,
        )
        await store_audience(env, channel_stub.url, {"tenant-otlp": ids})
        with Runners(env, tmp_path) as runners:
            [runner] = runners.start()
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    f"{runner.url}/api/notify",
                    json={"text": "To thirty"},
                    headers={"traceparent": CALLER},
                ) as response,
            ):
                assert response.status == 202
                notification_id = (await response.json())["id"]
            status = await status_when_settled(runner.url, notification_id, timeout=60)
            assert status["counts"]["sent"] == 30

            await wait_until(
                lambda: sends_counted(collector) == {"sent": 30},
                timeout=20,
                what=f"notify.sends exported\n{runners.tails()}",
            )
            await wait_until(
                lambda: any(s["kind"] == "CLIENT" for s in collector.spans),
                timeout=20,
                what="client spans exported",
            )

    spans = [s for s in collector.spans if s["trace_id"] == CALLER_TRACE]
    kinds = Counter(s["kind"] for s in spans)
    request = next(s for s in spans if s["kind"] == "SERVER")
    assert request["name"] == "POST /api/notify"
    assert request["attributes"][names.NOTIFICATION_ID] == notification_id
    assert kinds["CONSUMER"] >= 1  # the queue items it became
    assert 5 <= kinds["CLIENT"] < 30  # sampled: five a run, then one in five
    assert {s["resource"]["service.name"] for s in collector.spans} == {"notify-under-test"}
    # Every span of the notification's work is in the caller's trace.
    ours = [
        s for s in collector.spans if s["attributes"].get(names.NOTIFICATION_ID) == notification_id
    ]
    assert ours
    assert {s["trace_id"] for s in ours} == {CALLER_TRACE}
    assert collector.requests["/v1/traces"] >= 1
    assert collector.requests["/v1/metrics"] >= 1
