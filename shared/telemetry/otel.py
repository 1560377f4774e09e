"""Telemetry on: spans and metrics through OpenTelemetry's API, to whichever providers the app
configured (see exporters) or a test handed in.

Imported only when telemetry is on. Nothing recorded carries message text, a token or a key:
spans and metrics take ids, counts, statuses and the tenant's id hashed.
"""

from __future__ import annotations

import contextvars
import hashlib
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache, partial
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Link, SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

import shared.telemetry.names as names
from shared.telemetry.current import CONSUMER, SERVER, Telemetry
from shared.telemetry.sampling import RunSampling

_KINDS = {
    SERVER: SpanKind.SERVER,
    CONSUMER: SpanKind.CONSUMER,
}
_PROPAGATOR = TraceContextTextMapPropagator()
# Waits and ages from milliseconds (a free budget) to an hour (a backlog, a long broadcast): the
# SDK's default buckets are made for milliseconds.
SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
# Per run (copied into the tasks the run starts): its sampling of client calls, and the tenant a
# send task is for.
_sampling: contextvars.ContextVar[RunSampling | None] = contextvars.ContextVar(
    "telemetry_sampling", default=None
)
_tenant: contextvars.ContextVar[str] = contextvars.ContextVar("telemetry_tenant", default="")


@lru_cache(maxsize=4096)
def tenant_hash(tenant_id: str) -> str:
    """A tenant told apart in charts without its id being sent anywhere."""
    return hashlib.sha256(tenant_id.encode("utf-8")).hexdigest()[:16] if tenant_id else ""


class _RunSpan:
    def __init__(self, span: trace.Span) -> None:
        self._span = span

    def set(self, attributes: Mapping[str, Any]) -> None:
        self._span.set_attributes(dict(attributes))

    def fail(self, error_type: str) -> None:
        self._span.set_attribute(names.ERROR_TYPE, error_type)
        self._span.set_status(Status(StatusCode.ERROR))


class _ClientCall:
    def __init__(self, attributes: Mapping[str, Any]) -> None:
        self.attributes = dict(attributes)
        self.status: int | None = None
        self.error_type = ""

    def set(self, attributes: Mapping[str, Any]) -> None:
        self.attributes.update(attributes)

    def fail(self, error_type: str) -> None:
        self.error_type = error_type

    def answered(self, status: int) -> None:
        self.status = status
        if status >= 400:
            self.error_type = str(status)


class OpenTelemetry(Telemetry):
    def __init__(
        self, tracer_provider: TracerProvider, meter_provider: MeterProvider, sends_per_run: int
    ) -> None:
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self._sends_per_run = sends_per_run
        self._tracer = tracer_provider.get_tracer(names.SCOPE)
        meter = meter_provider.get_meter(names.SCOPE)
        self._sends = meter.create_counter(
            names.SENDS, names.SENDS_UNIT, "Targets' outcomes, once written"
        )
        self._retries = meter.create_counter(
            names.RETRIES, names.RETRIES_UNIT, "Sends tried again after a refusal or no answer"
        )
        self._throttled = meter.create_counter(
            names.THROTTLED, names.RESPONSES_UNIT, "429 answers from the Bot Connector or Graph"
        )
        seconds = partial(
            meter.create_histogram,
            unit=names.SECONDS,
            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
        )
        self._budget_wait = seconds(
            names.BUDGET_WAIT, description="A send's wait for its tenant's rate budget"
        )
        self._queue_age = seconds(
            names.QUEUE_AGE, description="A work item's age when a run took it"
        )
        self._duration = seconds(
            names.NOTIFICATION_DURATION, description="A notification's creation to settled"
        )
        self._callbacks = meter.create_counter(
            names.CALLBACK_DELIVERIES, names.DELIVERIES_UNIT, "Callback deliveries by outcome"
        )

    @contextmanager
    def span(
        self,
        name: str,
        kind: str,
        attributes: Mapping[str, Any] | None = None,
        parent: str | None = None,
        link: str | None = None,
    ) -> Iterator[_RunSpan]:
        context = _PROPAGATOR.extract({"traceparent": parent}) if parent else None
        links = _links(link)
        with self._tracer.start_as_current_span(
            name,
            context=context,
            kind=_KINDS[kind],
            attributes=dict(attributes or {}),
            links=links,
        ) as span:
            sampling = _sampling.set(RunSampling(self._sends_per_run))
            try:
                yield _RunSpan(span)
            finally:
                _sampling.reset(sampling)

    def annotate(self, attributes: Mapping[str, Any]) -> None:
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attributes(dict(attributes))

    def traceparent(self) -> str | None:
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier)
        return carrier.get("traceparent")

    @contextmanager
    def client_call(self, method: str, template: str, api: str, url: str) -> Iterator[_ClientCall]:
        # The span is made once the answer is known, so that only the kept ones cost anything
        # beyond two clock reads.
        call = _ClientCall(
            {names.HTTP_METHOD: method, names.URL_TEMPLATE: template, names.API: api}
        )
        started = time.time_ns()
        try:
            yield call
        except BaseException as error:
            if not call.error_type:
                call.error_type = type(error).__name__
            raise
        finally:
            sampling = _sampling.get()
            if sampling is None or sampling.keeps(bool(call.error_type)):
                self._client_span(f"{method} {template}", url, call, started)

    def _client_span(self, name: str, url: str, call: _ClientCall, started: int) -> None:
        attributes = call.attributes
        address = urlsplit(url)
        if address.hostname:
            attributes[names.SERVER_ADDRESS] = address.hostname
        if address.port:
            attributes[names.SERVER_PORT] = address.port
        tenant = _tenant.get()
        if tenant:
            attributes[names.TENANT_HASH] = tenant_hash(tenant)
        if call.status is not None:
            attributes[names.HTTP_STATUS] = call.status
        if call.error_type:
            attributes[names.ERROR_TYPE] = call.error_type
        span = self._tracer.start_span(
            name, kind=SpanKind.CLIENT, attributes=attributes, start_time=started
        )
        if call.error_type:
            span.set_status(Status(StatusCode.ERROR))
        span.end()

    @contextmanager
    def tenant(self, tenant_id: str) -> Iterator[None]:
        token = _tenant.set(tenant_id)
        try:
            yield
        finally:
            _tenant.reset(token)

    def count_outcomes(self, outcomes: Iterable[tuple[str, str]]) -> None:
        counted: dict[tuple[str, str], int] = {}
        for key in outcomes:
            counted[key] = counted.get(key, 0) + 1
        for (outcome, channel), count in counted.items():
            self._sends.add(count, {names.OUTCOME: outcome, names.CHANNEL: channel})

    def count_retry(self, tenant_id: str, status: int | None) -> None:
        attributes: dict[str, Any] = {names.TENANT_HASH: tenant_hash(tenant_id)}
        if status is not None:
            attributes[names.HTTP_STATUS] = status
        self._retries.add(1, attributes)

    def count_throttled(self, tenant_id: str, api: str) -> None:
        self._throttled.add(1, {names.TENANT_HASH: tenant_hash(tenant_id), names.API: api})

    def record_budget_wait(self, tenant_id: str, seconds: float) -> None:
        self._budget_wait.record(seconds, {names.TENANT_HASH: tenant_hash(tenant_id)})

    def record_queue_age(self, kind: str, seconds: float) -> None:
        self._queue_age.record(max(seconds, 0.0), {names.WORK_KIND: kind})

    def record_notification_duration(self, seconds: float, state: str) -> None:
        self._duration.record(max(seconds, 0.0), {names.NOTIFICATION_STATE: state})

    def count_callback(self, outcome: str) -> None:
        self._callbacks.add(1, {names.OUTCOME: outcome})

    def flush(self) -> None:
        for provider in (self._tracer_provider, self._meter_provider):
            force_flush = getattr(provider, "force_flush", None)
            if force_flush is not None:
                force_flush()

    def shutdown(self) -> None:
        for provider in (self._tracer_provider, self._meter_provider):
            shutdown = getattr(provider, "shutdown", None)
            if shutdown is not None:
                shutdown()


def _links(traceparent: str | None) -> list[Link]:
    if not traceparent:
        return []
    span_context = trace.get_current_span(
        _PROPAGATOR.extract({"traceparent": traceparent})
    ).get_span_context()
    return [Link(span_context)] if span_context.is_valid else []
