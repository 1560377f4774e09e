"""Telemetry: traces and metrics of every run, off (nothing imported) unless configured.

current      the process's telemetry, asked for at each use; off, it records and imports nothing
names        every span, attribute and metric name the workbook and the KQL read back
exporters    where it goes: Azure Monitor, OTLP, both or nowhere, chosen once from the settings
otel         telemetry on: spans and metrics through OpenTelemetry's API, tenants hashed
sampling     which of a run's outbound requests get a client span (all failures, some successes)
invocations  the host's trace context and the HTTP route, read off an invocation
"""
