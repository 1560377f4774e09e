"""Where telemetry goes, chosen once per process from the app settings.

- APPLICATIONINSIGHTS_CONNECTION_STRING: Azure Monitor, through Microsoft's OpenTelemetry distro
  (azure-monitor-opentelemetry), with Entra auth when APPLICATIONINSIGHTS_AUTHENTICATION_STRING
  names a managed identity (the Bicep turns the component's local auth off).
- OTEL_EXPORTER_OTLP_ENDPOINT: OTLP over HTTP/protobuf to any collector, traces and metrics. The
  SDK reads the other OTEL_* variables itself (a per-signal OTEL_EXPORTER_OTLP_*_ENDPOINT beside
  it, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_SCHEDULE_DELAY,
  OTEL_METRIC_EXPORT_INTERVAL, OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_HEADERS, ...).
- Both: both. Neither (or OTEL_SDK_DISABLED=true): nothing, and no OpenTelemetry module is
  imported (cold start: see the README's figures).
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from shared.telemetry.current import Telemetry

if TYPE_CHECKING:
    from shared.settings import TelemetrySettings

logger = logging.getLogger(__name__)

SERVICE_NAME = "proactive-notify"
# The app's own log records (every module logs under `shared.`): the distro exports them with
# the trace they were written in. The host collects the rest.
APP_LOGGER = "shared"
# The distro's auto-instrumentations, all off: the app makes its own client spans (sampled), and
# a span per Storage call would cost more than the sends it serves.
_DISTRO_INSTRUMENTATIONS = (
    "azure_sdk",
    "django",
    "fastapi",
    "flask",
    "httpx",
    "psycopg2",
    "requests",
    "urllib",
    "urllib3",
)

_configured: dict[TelemetrySettings, Telemetry] = {}


def configure(settings: TelemetrySettings) -> Telemetry:
    """The telemetry these settings ask for, built once per process (the providers it installs
    are process-wide: OpenTelemetry lets them be set once)."""
    if not settings.configured:
        return Telemetry()
    if settings not in _configured:
        _configured[settings] = _built(settings)
    return _configured[settings]


def _built(settings: TelemetrySettings) -> Telemetry:
    from opentelemetry import metrics, trace

    from shared.telemetry.otel import OpenTelemetry

    span_processors, metric_readers = _otlp() if settings.otlp_endpoint else ([], [])
    if settings.connection_string:
        _azure_monitor(settings, span_processors, metric_readers)
        where = "Azure Monitor" + (" and OTLP" if settings.otlp_endpoint else "")
    else:
        _sdk_providers(span_processors, metric_readers)
        where = "OTLP"
    logger.info("Telemetry to %s", where)
    return OpenTelemetry(
        trace.get_tracer_provider(), metrics.get_meter_provider(), settings.sends_traced_per_run
    )


def _otlp() -> tuple[list[Any], list[Any]]:
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # Endpoints, headers, timeouts, batch delays and intervals come from OTEL_* variables.
    return (
        [BatchSpanProcessor(OTLPSpanExporter())],
        [PeriodicExportingMetricReader(OTLPMetricExporter())],
    )


def _resource() -> Any:
    from opentelemetry.sdk.resources import Resource

    # OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) names it when set.
    named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    return Resource.create({} if named else {"service.name": SERVICE_NAME})


def _sdk_providers(span_processors: list[Any], metric_readers: list[Any]) -> None:
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider

    resource = _resource()
    tracer_provider = TracerProvider(resource=resource)
    for processor in span_processors:
        tracer_provider.add_span_processor(processor)
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=metric_readers))


def _azure_monitor(
    settings: TelemetrySettings, span_processors: list[Any], metric_readers: list[Any]
) -> None:
    from azure.monitor.opentelemetry import configure_azure_monitor

    configure_azure_monitor(
        connection_string=settings.connection_string,
        credential=_entra_credential(settings.authentication_string),
        logger_name=APP_LOGGER,
        resource=_resource(),
        instrumentation_options={name: {"enabled": False} for name in _DISTRO_INSTRUMENTATIONS},
        span_processors=span_processors,
        metric_readers=metric_readers,
    )


def entra_identity(authentication_string: str) -> str | None:
    """The managed identity to send with, from the Functions host's own setting
    (`Authorization=AAD;ClientId=<id>`): its client id, "" for the system-assigned one, None to
    send with the connection string's key."""
    parts = dict(part.split("=", 1) for part in authentication_string.split(";") if "=" in part)
    if parts.get("Authorization", "").strip().upper() != "AAD":
        return None
    return parts.get("ClientId", "").strip()


def _entra_credential(authentication_string: str) -> Any:
    client_id = entra_identity(authentication_string)
    if client_id is None:
        return None
    from azure.identity import ManagedIdentityCredential

    return ManagedIdentityCredential(client_id=client_id or None)
