"""What an invocation tells telemetry: the host's trace context and the HTTP route called.

Read off the objects the worker hands a function (duck-typed: no azure.functions import), so
function folders stay one line: `respond(handle, req, context)`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit


def invocation_traceparent(context: Any) -> str | None:
    """The host's span for this invocation, as a W3C traceparent (`context.trace_context`): in
    Azure, with host.json's telemetryMode OpenTelemetry, the request's own span."""
    trace_context = getattr(context, "trace_context", None)
    traceparent = getattr(trace_context, "trace_parent", "") if trace_context else ""
    return traceparent or None


def route_template(request: Any) -> str:
    """The path called with its route parameters named, not valued (`/api/notify/{id}/cancel`):
    a span name that groups every call of one route."""
    path = unquote(urlsplit(request.url).path) or "/"
    segments = path.split("/")
    for name, value in (request.route_params or {}).items():
        segments = [f"{{{name}}}" if segment == value else segment for segment in segments]
    return "/".join(segments)
