"""Telemetry recorded in memory: OpenTelemetry's own in-memory span exporter and metric reader,
installed as the process's telemetry for the length of a test."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from shared.telemetry.current import use
from shared.telemetry.otel import OpenTelemetry


@dataclass
class Recorded:
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def of_kind(self, kind: SpanKind) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.kind is kind]

    def points(self, metric: str) -> list:
        """Every data point of `metric` (cumulative: each is the total for its attributes)."""
        data = self.reader.get_metrics_data()
        return [
            point
            for resource in (data.resource_metrics if data else [])
            for scope in resource.scope_metrics
            for found in scope.metrics
            if found.name == metric
            for point in found.data.data_points
        ]

    def totals(self, metric: str, by: str) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for point in self.points(metric):
            totals[point.attributes[by]] += point.value
        return dict(totals)


@contextmanager
def recording(sends_per_run: int) -> Iterator[Recorded]:
    exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[reader])
    replaced = use(OpenTelemetry(tracer_provider, meter_provider, sends_per_run))
    try:
        yield Recorded(exporter, reader)
    finally:
        use(replaced)
        tracer_provider.shutdown()
        meter_provider.shutdown()
