"""The process's telemetry: off (nothing imported, nothing recorded) unless configured.

Code that traces or counts asks `telemetry()` each time rather than holding an instance, as
OpenTelemetry's own API asks its global providers: the app configures it once at start (see
exporters), and tests swap in one with in-memory exporters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any

# The kinds of a run's span, as OpenTelemetry names them (client calls have their own method).
SERVER = "server"
CONSUMER = "consumer"


class Span:
    """A span as the app writes to it (a client call's too). This one, telemetry off, is every
    span: it records nothing, and is its own context manager."""

    def __enter__(self) -> Span:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def set(self, attributes: Mapping[str, Any]) -> None:
        pass

    def fail(self, error_type: str) -> None:
        """Marks the span an error (error.type); its run still ends as it does."""

    def answered(self, status: int) -> None:
        """A client call's HTTP status (4xx and 5xx are errors)."""


_NOTHING = Span()


class Telemetry:
    """What the app records, and, as this base, telemetry off: every call returns at once, and no
    OpenTelemetry module is imported. shared.telemetry.otel's OpenTelemetry records it."""

    def span(
        self,
        name: str,
        kind: str,
        attributes: Mapping[str, Any] | None = None,
        parent: str | None = None,
        link: str | None = None,
    ) -> AbstractContextManager[Span]:
        """A span around a run (kind SERVER or CONSUMER). `parent` and `link` are W3C
        traceparents: the span continues `parent`'s trace (else the current one) and links to
        `link` (the host's own invocation, when the trace comes from a queue message)."""
        return _NOTHING

    def annotate(self, attributes: Mapping[str, Any]) -> None:
        """Sets attributes on the current span (the run's, for its ids and counts)."""

    def traceparent(self) -> str | None:
        """The current span as a W3C traceparent, to carry inside a queue message."""
        return None

    def client_call(
        self, method: str, template: str, api: str, url: str
    ) -> AbstractContextManager[Span]:
        """A CLIENT span around one outbound request ("<method> <template>", to `url`'s host),
        kept by the run's sampling (see sampling)."""
        return _NOTHING

    def tenant(self, tenant_id: str) -> AbstractContextManager[Any]:
        """Client calls made within carry the tenant (hashed)."""
        return _NOTHING

    def count_outcomes(self, outcomes: Iterable[tuple[str, str]]) -> None:
        """(outcome, channel) of each target outcome written."""

    def count_retry(self, tenant_id: str, status: int | None) -> None:
        pass

    def count_throttled(self, tenant_id: str, api: str) -> None:
        pass

    def record_budget_wait(self, tenant_id: str, seconds: float) -> None:
        pass

    def record_queue_age(self, kind: str, seconds: float) -> None:
        pass

    def record_notification_duration(self, seconds: float, state: str) -> None:
        pass

    def count_callback(self, outcome: str) -> None:
        pass

    def flush(self) -> None:
        """Export what is recorded so far (before the process may end)."""

    def shutdown(self) -> None:
        pass


_active = Telemetry()


def telemetry() -> Telemetry:
    return _active


def use(chosen: Telemetry) -> Telemetry:
    """Make `chosen` the process's telemetry; the one it replaces is returned."""
    global _active
    replaced, _active = _active, chosen
    return replaced
