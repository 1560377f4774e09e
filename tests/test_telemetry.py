"""Traces and metrics: one trace from the request across the queue to every send, metrics that add
up to the outcomes, and nothing in them a reader should not see.

The app runs through its real entry points against Azurite and the loopback channel; its
telemetry goes to OpenTelemetry's own in-memory exporters (tests/test_telemetry_export.py sends
it to a loopback OTLP collector from a running app instead).
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator

import azure.functions as func
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

import shared.telemetry.names as names
from devhost.invoke import invocation_trace_parent
from shared.app import App
from shared.delivery.outcomes import Outcome
from shared.telemetry.exporters import entra_identity
from shared.telemetry.otel import tenant_hash
from shared.telemetry.sampling import RunSampling
from tests.support.credentials import APP_PASSWORD
from tests.support.devhost_process import REPO_ROOT
from tests.support.functions import get_status, post_notify
from tests.support.references import store_conversations
from tests.support.telemetry import Recorded, recording
from tests.support.work_queue import run_queued_work

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
CALLER = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
TENANTS = ("tenant-a", "tenant-b", "tenant-c")


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    """Every client span kept, so a trace can be checked send by send."""
    with recording(sends_per_run=10_000) as recorded:
        yield recorded


@pytest.fixture
async def queued_app(app_with) -> App:
    """Up to 10 targets sent inline, more through the queue; no rate limit to wait on."""
    return await app_with(NOTIFY_INLINE_MAX_TARGETS=10, NOTIFY_MAX_RPS_PER_TENANT=0)


async def three_hundred_in_three_tenants(app: App, channel) -> list[str]:
    ids = []
    for tenant in TENANTS:
        tenant_ids = [f"{tenant}-conv-{n:03d}" for n in range(100)]
        await store_conversations(app, channel.url, tenant_ids, tenant_id=tenant)
        ids += tenant_ids
    return ids


async def test_one_trace_runs_from_the_request_across_the_queue_to_every_send(
    queued_app, channel, recorded
):
    await three_hundred_in_three_tenants(queued_app, channel)

    response = await post_notify({"text": "To all 300"}, headers={"traceparent": CALLER})
    assert response.status == 202
    await run_queued_work(queued_app, timeout=60)
    assert len(channel.received) == 300

    spans = recorded.spans()
    assert {format(s.context.trace_id, "032x") for s in spans} == {CALLER_TRACE}
    [request] = recorded.of_kind(SpanKind.SERVER)
    assert request.name == "POST /api/notify"
    assert format(request.parent.span_id, "016x") == CALLER_SPAN
    assert request.attributes[names.NOTIFICATION_ID] == response.body["id"]
    assert request.attributes[names.NOTIFICATION_PATH] == names.QUEUED
    assert request.attributes[names.HTTP_STATUS] == 202

    # Each queue item's run continues the trace of the run that put it: back to the request.
    by_id = {s.context.span_id: s for s in spans}

    def root_of(span: ReadableSpan) -> ReadableSpan:
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
        return span

    runs = recorded.of_kind(SpanKind.CONSUMER)
    assert {r.attributes[names.WORK_KIND] for r in runs} >= {"chunk"}
    assert all(root_of(r) is request for r in runs)
    assert all(r.attributes[names.NOTIFICATION_ID] == response.body["id"] for r in runs)
    chunk_runs = [r for r in runs if r.attributes[names.WORK_KIND] == "chunk"]
    assert sum(r.attributes[names.DELIVERY_OUTCOME_PREFIX + "sent"] for r in chunk_runs) == 300

    sends = recorded.of_kind(SpanKind.CLIENT)
    assert len(sends) == 300
    # Sent as the SDK sends to a stored reference: a reply to the activity it was saved from.
    assert {s.name for s in sends} == {
        "POST /v3/conversations/{conversationId}/activities/{activityId}"
    }
    assert all(root_of(s) is request for s in sends)
    assert all(by_id[s.parent.span_id].kind is SpanKind.CONSUMER for s in sends)
    assert Counter(s.attributes[names.TENANT_HASH] for s in sends) == {
        tenant_hash(t): 100 for t in TENANTS
    }
    assert {s.attributes[names.HTTP_STATUS] for s in sends} == {200}


async def test_metric_totals_equal_the_outcomes(queued_app, channel, recorded):
    ids = await three_hundred_in_three_tenants(queued_app, channel)
    channel.answer(ids[0], 403, "ConversationBlockedByUser", "blocked")  # removed
    channel.answer(ids[1], 400, "BadSyntax", "refused")  # failed
    channel.answer(ids[2], 429, "Throttled", times=1, headers={"Retry-After": "0"})  # then sent

    response = await post_notify({"text": "To all 300"})
    await run_queued_work(queued_app, timeout=60)

    counts = (await get_status(response.body["id"])).body["counts"]
    assert (counts["sent"], counts["removed"], counts["failed"]) == (298, 1, 1)
    assert recorded.totals(names.SENDS, by=names.OUTCOME) == {
        "sent": 298,
        "removed": 1,
        "failed": 1,
    }
    assert recorded.totals(names.SENDS, by=names.CHANNEL) == {"msteams": 300}
    assert recorded.totals(names.THROTTLED, by=names.TENANT_HASH) == {tenant_hash("tenant-a"): 1}
    assert recorded.totals(names.RETRIES, by=names.TENANT_HASH) == {tenant_hash("tenant-a"): 1}
    # Every request the channel got waited its turn once.
    assert sum(p.count for p in recorded.points(names.BUDGET_WAIT)) == len(channel.received)
    chunk_ages = [p for p in recorded.points(names.QUEUE_AGE) if p.attributes[names.WORK_KIND]]
    assert sum(p.count for p in chunk_ages) == len(recorded.of_kind(SpanKind.CONSUMER))
    # The throttled and refused sends have client spans marked as errors.
    refused = [
        s for s in recorded.of_kind(SpanKind.CLIENT) if s.attributes[names.HTTP_STATUS] >= 400
    ]
    assert sorted(s.attributes[names.HTTP_STATUS] for s in refused) == [400, 403, 429]
    assert all(not s.status.is_ok for s in refused)


async def test_an_inline_send_is_one_request_span_with_its_sends_and_its_duration(
    queued_app, channel, recorded
):
    await store_conversations(queued_app, channel.url, [f"c{n}" for n in range(5)])

    response = await post_notify({"text": "five"})

    assert response.status == 200
    [request] = recorded.of_kind(SpanKind.SERVER)
    assert request.attributes[names.NOTIFICATION_PATH] == names.INLINE
    sends = recorded.of_kind(SpanKind.CLIENT)
    assert len(sends) == 5
    assert all(s.parent.span_id == request.context.span_id for s in sends)
    [duration] = recorded.points(names.NOTIFICATION_DURATION)
    assert duration.count == 1
    assert 0 < duration.sum < request.end_time / 1e9 - request.start_time / 1e9 + 0.01


async def test_a_run_traces_its_first_sends_then_one_in_n_and_every_failure(queued_app, channel):
    ids = [f"c{n:02d}" for n in range(60)]
    await store_conversations(queued_app, channel.url, ids)
    channel.answer(ids[-1], 400, "BadSyntax", "refused")
    with recording(sends_per_run=5) as recorded:
        response = await post_notify({"text": "sixty"})
        await run_queued_work(queued_app, timeout=60)

    assert response.status == 202
    sends = recorded.of_kind(SpanKind.CLIENT)
    [failed] = [s for s in sends if s.attributes[names.HTTP_STATUS] == 400]
    kept = Counter(s.parent.span_id for s in sends)
    for run in recorded.of_kind(SpanKind.CONSUMER):
        made = run.attributes.get(names.DELIVERY_MATCHED, 0)
        sampled = sum(1 for n in range(1, made + 1) if n <= 5 or n % 5 == 0)
        with_failure = run.context.span_id == failed.parent.span_id
        assert sampled <= kept[run.context.span_id] <= sampled + with_failure
    assert len(sends) < 60


def test_run_sampling_keeps_the_first_n_then_every_nth_and_every_failure():
    sampling = RunSampling(keep_first=3)
    kept = [n for n in range(1, 13) if sampling.keeps(failed=(n == 8))]
    assert kept == [1, 2, 3, 6, 8, 9, 12]
    assert not any(RunSampling(keep_first=0).keeps(failed=False) for _ in range(5))


async def test_no_span_metric_or_log_carries_message_text_tokens_or_keys(
    secured_app, channel, recorded, caplog, app_env
):
    caplog.set_level(logging.DEBUG)
    secret_text = "Quarterly-figures-7f3a9c-do-not-leak"
    await store_conversations(secured_app, channel.url, [f"c{n}" for n in range(20)])
    channel.answer("c3", 400, "BadSyntax", "refused")

    response = await post_notify(
        {"text": secret_text, "card": {"type": "AdaptiveCard", "version": "1.5",
                                        "body": [{"type": "TextBlock", "text": secret_text}]}},
    )  # fmt: skip
    assert response.status == 200

    token = channel.received[0].headers["Authorization"].removeprefix("Bearer ")
    account_key = dict(
        part.split("=", 1) for part in app_env["AzureWebJobsStorage"].split(";") if "=" in part
    )["AccountKey"]
    secrets = {"message text": secret_text, "token": token, "key": account_key,
               "password": APP_PASSWORD}  # fmt: skip
    recorded_text = [
        repr((s.name, dict(s.attributes), [dict(e.attributes or {}) for e in s.events]))
        for s in recorded.spans()
    ]
    recorded_text += [repr(dict(p.attributes)) for m in (names.SENDS, names.BUDGET_WAIT)
                      for p in recorded.points(m)]  # fmt: skip
    recorded_text += [r.getMessage() for r in caplog.records]
    assert len(recorded.spans()) == 21
    for what, secret in secrets.items():
        assert not [t for t in recorded_text if secret in t], f"the {what} was recorded"
    # Tenants are told apart by hash only.
    assert not [t for t in recorded_text if "tenant-1" in t]


async def test_the_local_host_continues_a_callers_trace_as_the_functions_host_does():
    def request(headers: dict) -> func.HttpRequest:
        return func.HttpRequest("POST", "http://127.0.0.1/api/notify", headers=headers, body=b"")

    continued = invocation_trace_parent(request({"traceparent": CALLER}))
    fresh = invocation_trace_parent(request({"traceparent": "not a traceparent"}))
    queued = invocation_trace_parent(func.QueueMessage(body=b"{}"))

    assert continued.startswith(f"00-{CALLER_TRACE}-")
    assert CALLER_SPAN not in continued
    assert continued.endswith("-01")
    for started in (fresh, queued):
        assert CALLER_TRACE not in started
        assert len(started.split("-")[1]) == 32


@pytest.mark.parametrize(
    ("settings", "imported"),
    [
        ({}, set()),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}, {"opentelemetry.sdk"}),
        (
            {
                "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/"
            },
            {"opentelemetry.sdk", "azure.monitor.opentelemetry"},
        ),
    ],
    ids=["off", "otlp", "azure-monitor"],
)
def test_opentelemetry_is_imported_only_when_telemetry_goes_somewhere(settings, imported, app_env):
    probe = (
        "import sys, notify_http, notify_queue, notify_timer, messages\n"
        "from shared.app import get_app\n"
        "get_app()\n"
        "print('loaded:' + ','.join(m for m in ('opentelemetry', 'opentelemetry.sdk', "
        "'azure.monitor.opentelemetry') if m in sys.modules))\n"
    )
    env = {**os.environ, **app_env, **settings}
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "APPLICATIONINSIGHTS_CONNECTION_STRING"):
        if name not in settings:
            env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.strip().splitlines()[-1].removeprefix("loaded:").split(","))
    assert loaded - {"opentelemetry", ""} == imported


def test_the_workbook_the_kql_and_the_renderer_read_only_names_the_app_writes():
    written = {v for k, v in vars(names).items() if k.isupper() and isinstance(v, str)}
    written |= {names.DELIVERY_OUTCOME_PREFIX + outcome.value for outcome in Outcome}
    for path in ("infra/workbook.bicep", "README.md", "tools/render_workbook.py"):
        text = (REPO_ROOT / path).read_text(encoding="utf-8")
        read = set(re.findall(r"\"((?:notify|teams)\.[a-z_.]+)\"", text))
        assert read, f"{path} reads no telemetry name"
        assert read <= written, f"{path} reads names the app does not write: {read - written}"


def test_azure_monitor_sends_with_the_managed_identity_the_host_setting_names():
    client = "11111111-2222-3333-4444-555555555555"
    assert entra_identity(f"Authorization=AAD;ClientId={client}") == client
    assert entra_identity("Authorization=AAD") == ""  # the system-assigned identity
    assert entra_identity("") is None  # the connection string's key
    assert entra_identity("Authorization=Other") is None
