"""A notification's `callback`: where the caller wants to hear what happens to it, and what.

`"callback": {"url": "https://…", "events": ["answered", "action", "read", "reaction", "done"]}`
(events default to all). Each occurrence is POSTed there as one JSON event, signed with the
Standard Webhooks headers keyed by CALLBACK_SECRET (shared/feedback/callbacks.py). The URL must be
https to a host CALLBACK_ALLOWED_HOSTS lists or, while auth is off (local runs, tests), loopback
http: the app calls no address a caller makes up (no SSRF).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.channel.service_urls import ServiceUrlPolicy
from shared.notifications.notification_store import NotificationStore
from shared.request_errors import RequestError, field_error

ANSWERED, ACTION, READ, REACTION, DONE = "answered", "action", "read", "reaction", "done"
EVENTS = (ANSWERED, ACTION, READ, REACTION, DONE)
MAX_URL_LENGTH = 2048
KNOWN_CALLBACKS = 1024  # notifications whose callback a process keeps in mind


@dataclass(frozen=True)
class Callback:
    url: str
    events: frozenset[str]

    def wants(self, event: str) -> bool:
        return event in self.events


def parse_callback(value: Any) -> Callback | None:
    """The body's `callback`, its shape checked (where it may point is CallbackPolicy's)."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"url", "events"}:
        raise field_error("callback", 'must be {"url": "https://…", "events": [...]}')
    url = value.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise field_error("callback.url", "must be an https URL")
    if len(url) > MAX_URL_LENGTH:
        raise field_error("callback.url", f"must be at most {MAX_URL_LENGTH} characters")
    events = value.get("events", list(EVENTS))
    if (
        not isinstance(events, list)
        or not events
        or not all(isinstance(e, str) and e in EVENTS for e in events)
    ):
        raise field_error("callback.events", f"must be a non-empty list of {', '.join(EVENTS)}")
    return Callback(url, frozenset(events))


class CallbackPolicy:
    """Whether the app may call a callback URL: a secret to sign with, and an allowed host."""

    def __init__(self, secret: str, allowed_hosts: tuple[str, ...], allow_loopback: bool) -> None:
        self._secret = secret
        self._hosts = ServiceUrlPolicy(allowed_hosts, allow_loopback)

    def check(self, callback: Callback | None) -> None:
        if callback is None:
            return
        if not self._secret:
            raise RequestError(
                400,
                "callback needs CALLBACK_SECRET set: events are signed with it",
                {"field": "callback"},
            )
        if not self._hosts.allows(callback.url):
            raise field_error(
                "callback.url", "must be https to a host CALLBACK_ALLOWED_HOSTS lists"
            )


class Callbacks:
    """Which notifications want which events, read once per process per notification."""

    def __init__(self, notifications: NotificationStore) -> None:
        self._notifications = notifications
        self._known: dict[str, Callback | None] = {}

    async def of(self, notification_id: str) -> Callback | None:
        if notification_id not in self._known:
            notification = await self._notifications.get(notification_id)
            request = notification.request if notification is not None else {}
            if len(self._known) >= KNOWN_CALLBACKS:
                self._known.clear()
            self._known[notification_id] = parse_callback(request.get("callback"))
        return self._known[notification_id]
