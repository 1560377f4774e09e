"""A loopback OpenTelemetry collector: receives what the app exports over OTLP/HTTP and records it.

It speaks for an OpenTelemetry Collector's `otlp` receiver (HTTP protocol, port 4318), as the
OTLP specification has it (https://opentelemetry.io/docs/specs/otlp/#otlphttp):
- `POST /v1/traces`, `/v1/metrics` and `/v1/logs`, each body one protobuf
  `Export{Trace,Metrics,Logs}ServiceRequest`, `Content-Type: application/x-protobuf`, gzipped
  when `Content-Encoding: gzip` says so (the SDK's exporters send protobuf, never JSON);
- success is 200 with the matching `Export*ServiceResponse`, empty: nothing was rejected;
- another content type is answered 415, a body that does not decode 400 with a `google.rpc.Status`.

What it records is decoded into plain values (hex ids, seconds since the epoch, attribute dicts),
so a test or a script reads spans and metric points without protobuf: `spans`, `metric_points`,
`logs`, and `requests` (how many exports each path got). `dump(path)` writes them as JSON lines,
each tagged with its "type" ("span", "metric", "log"): what tools/render_workbook.py reads.

    async with OtlpCollector() as collector:
        ...  # point OTEL_EXPORTER_OTLP_ENDPOINT at collector.url, run, flush the providers
        collector.spans

Standalone, it records a local run (`make run` or the bench) until Ctrl-C, each record written to
FILE as it comes:

    python -m testbed.otlp_collector --port 4318 --out capture.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from aiohttp import web
from google.protobuf.message import DecodeError
from google.rpc import code_pb2, status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from testbed.loopback_server import LoopbackServer

TRACES, METRICS, LOGS = "/v1/traces", "/v1/metrics", "/v1/logs"
PROTOBUF = "application/x-protobuf"
# The Content-Encodings aiohttp undoes itself before the body is read (gzip is the one OTLP
# exporters use); any other leaves the body unreadable here.
DECODED_ENCODINGS = frozenset({"identity", "gzip", "deflate"})
OTLP_HTTP_PORT = 4318  # the port OTLP/HTTP exporters send to when told only a host

# Each answer to a successful export: empty, as nothing was rejected.
RESPONSES = {
    ExportTraceServiceRequest: ExportTraceServiceResponse,
    ExportMetricsServiceRequest: ExportMetricsServiceResponse,
    ExportLogsServiceRequest: ExportLogsServiceResponse,
}

Record = dict[str, Any]


class OtlpCollector(LoopbackServer):
    def __init__(self, port: int = 0, sink: Callable[[Record], None] | None = None) -> None:
        """`sink`, when given, is handed each record (tagged with its "type") as it arrives,
        on the collector's own thread."""
        super().__init__(port)
        self._sink = sink
        self._spans: list[Record] = []
        self._metric_points: list[Record] = []
        self._logs: list[Record] = []
        self._requests: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The base URL: OTEL_EXPORTER_OTLP_ENDPOINT (the SDK appends /v1/traces, ...)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def spans(self) -> list[Record]:
        with self._lock:
            return list(self._spans)

    @property
    def metric_points(self) -> list[Record]:
        with self._lock:
            return list(self._metric_points)

    @property
    def logs(self) -> list[Record]:
        with self._lock:
            return list(self._logs)

    @property
    def requests(self) -> dict[str, int]:
        """Export requests received, by path, refused ones included."""
        with self._lock:
            return dict(self._requests)

    def reset(self) -> None:
        with self._lock:
            self._spans.clear()
            self._metric_points.clear()
            self._logs.clear()
            self._requests.clear()

    def dump(self, path: str | Path) -> int:
        """Writes every record so far as JSON lines; returns how many."""
        with self._lock:
            records = [
                *({"type": "span", **span} for span in self._spans),
                *({"type": "metric", **point} for point in self._metric_points),
                *({"type": "log", **log} for log in self._logs),
            ]
        with open(path, "w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record) + "\n")
        return len(records)

    def __enter__(self) -> OtlpCollector:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def __aenter__(self) -> OtlpCollector:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.to_thread(self.stop)

    def routes(self, app: web.Application) -> None:
        app.router.add_post(TRACES, self._traces)
        app.router.add_post(METRICS, self._metrics)
        app.router.add_post(LOGS, self._logs_export)

    async def _traces(self, request: web.Request) -> web.Response:
        return await self._export(request, ExportTraceServiceRequest, "span", _spans, self._spans)

    async def _metrics(self, request: web.Request) -> web.Response:
        return await self._export(
            request, ExportMetricsServiceRequest, "metric", _points, self._metric_points
        )

    async def _logs_export(self, request: web.Request) -> web.Response:
        return await self._export(
            request, ExportLogsServiceRequest, "log", _log_records, self._logs
        )

    async def _export(
        self,
        request: web.Request,
        request_type: type,
        record_type: str,
        decode: Callable[[Any], Iterable[Record]],
        into: list[Record],
    ) -> web.Response:
        with self._lock:
            self._requests[request.path] += 1
        if request.content_type != PROTOBUF:
            return _status(415, code_pb2.INVALID_ARGUMENT, f"expected {PROTOBUF}")
        encoding = request.headers.get("Content-Encoding", "identity").lower()
        if encoding not in DECODED_ENCODINGS:
            return _status(415, code_pb2.INVALID_ARGUMENT, f"unknown encoding {encoding}")
        # Read from the stream: aiohttp's request.read() refuses bodies over 1 MiB, and a batch
        # of metric points may be larger.
        body = await request.content.read()
        try:
            message = request_type.FromString(body)
        except DecodeError as error:
            return _status(400, code_pb2.INVALID_ARGUMENT, f"undecodable body: {error}")
        records = list(decode(message))
        with self._lock:
            into.extend(records)
        if self._sink is not None:
            for record in records:
                self._sink({"type": record_type, **record})
        return web.Response(
            body=RESPONSES[request_type]().SerializeToString(), content_type=PROTOBUF
        )


def _status(http_status: int, code: int, message: str) -> web.Response:
    body = status_pb2.Status(code=code, message=message).SerializeToString()
    return web.Response(status=http_status, body=body, content_type=PROTOBUF)


def _spans(request: ExportTraceServiceRequest) -> Iterable[Record]:
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield {
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(),
                    "name": span.name,
                    "kind": Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
                    "start": _seconds(span.start_time_unix_nano),
                    "end": _seconds(span.end_time_unix_nano),
                    "attributes": _attributes(span.attributes),
                    "status": Status.StatusCode.Name(span.status.code).removeprefix("STATUS_CODE_"),
                    "status_message": span.status.message,
                    "events": [
                        {
                            "name": event.name,
                            "time": _seconds(event.time_unix_nano),
                            "attributes": _attributes(event.attributes),
                        }
                        for event in span.events
                    ],
                    "links": [(link.trace_id.hex(), link.span_id.hex()) for link in span.links],
                    "scope": scope_spans.scope.name,
                    "resource": resource,
                }


def _points(request: ExportMetricsServiceRequest) -> Iterable[Record]:
    for resource_metrics in request.resource_metrics:
        resource = _attributes(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                data = getattr(metric, kind)
                common = {"name": metric.name, "unit": metric.unit, "kind": kind}
                if hasattr(data, "aggregation_temporality"):
                    # A cumulative point holds the total since `start`; a delta one, the change
                    # since the previous export (Azure Monitor's exporter asks for deltas).
                    common["temporality"] = (
                        AggregationTemporality.Name(data.aggregation_temporality)
                        .removeprefix("AGGREGATION_TEMPORALITY_")
                        .lower()
                    )
                if kind == "sum":
                    common["monotonic"] = data.is_monotonic
                for point in data.data_points:
                    yield {
                        **common,
                        "attributes": _attributes(point.attributes),
                        **_point_values(kind, point),
                        "start": _seconds(point.start_time_unix_nano),
                        "time": _seconds(point.time_unix_nano),
                        "scope": scope_metrics.scope.name,
                        "resource": resource,
                    }


def _point_values(kind: str, point: Any) -> Record:
    if kind in ("sum", "gauge"):
        return {"value": getattr(point, point.WhichOneof("value"))}
    values: Record = {"count": point.count, "sum": point.sum}
    if kind == "histogram":
        values["bucket_counts"] = list(point.bucket_counts)
        values["explicit_bounds"] = list(point.explicit_bounds)
    if kind in ("histogram", "exponential_histogram"):
        values["min"] = point.min if point.HasField("min") else None
        values["max"] = point.max if point.HasField("max") else None
    return values


def _log_records(request: ExportLogsServiceRequest) -> Iterable[Record]:
    for resource_logs in request.resource_logs:
        resource = _attributes(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            for log in scope_logs.log_records:
                yield {
                    "time": _seconds(log.time_unix_nano or log.observed_time_unix_nano),
                    "severity": log.severity_text,
                    "body": _value(log.body),
                    "attributes": _attributes(log.attributes),
                    "trace_id": log.trace_id.hex(),
                    "span_id": log.span_id.hex(),
                    "scope": scope_logs.scope.name,
                    "resource": resource,
                }


def _attributes(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


def _value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if which == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, which)


def _seconds(unix_nano: int) -> float:
    return unix_nano / 1e9


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m testbed.otlp_collector",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--port", type=int, default=OTLP_HTTP_PORT, help="0 for any free port (default 4318)"
    )
    parser.add_argument("--out", type=Path, required=True, help="JSON lines, one per record")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stopped = threading.Event()
    # Ctrl-C and `kill` stop it alike (SIGINT too is set here: a shell that starts it in the
    # background has it ignored), and what was received is on disk either way.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    with open(args.out, "w", encoding="utf-8") as out:

        def write(record: Record) -> None:
            out.write(json.dumps(record) + "\n")
            out.flush()

        with OtlpCollector(args.port, sink=write) as collector:
            print(
                f"OTLP/HTTP on {collector.url}, writing {args.out}; run the app with\n"
                f"  OTEL_EXPORTER_OTLP_ENDPOINT={collector.url}\n"
                "Ctrl-C to stop.",
                file=sys.stderr,
                flush=True,
            )
            stopped.wait()
            counts = collector.requests
    print(f"stopped; export requests by path: {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
