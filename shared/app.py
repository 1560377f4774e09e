"""The app's long-lived objects, created once per worker process and reused by every invocation."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.adapter import create_adapter
from shared.bot import ProactiveBot
from shared.bot_auth import OutboundTokens, create_authentication
from shared.connector import BotConnector
from shared.delivery import Delivery
from shared.idempotency import IdempotencyKeys
from shared.inbound import MessagesEndpoint
from shared.notify_endpoint import Notifier, NotifyEndpoint
from shared.rate_limits import RateLimits
from shared.reference_store import ReferenceStore
from shared.retry_policy import RetryPolicy
from shared.scheduled_broadcast import ScheduledBroadcast
from shared.service_urls import ServiceUrlPolicy
from shared.settings import Settings
from shared.tables import Table

# azure-core logs every storage request and response at INFO; one line per event is ours to write.
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)


@dataclass(frozen=True)
class App:
    settings: Settings
    store: ReferenceStore
    tables: tuple[Table, ...]
    connector: BotConnector
    messages: MessagesEndpoint
    notify: NotifyEndpoint
    scheduled_broadcast: ScheduledBroadcast

    @classmethod
    def create(cls, settings: Settings) -> App:
        authentication = create_authentication(settings)
        service_urls = ServiceUrlPolicy(
            settings.allowed_service_hosts, allow_loopback=not settings.auth_enabled
        )
        references = Table.from_connection_string(
            settings.storage_connection_string, settings.conversation_table
        )
        notifications = Table.from_connection_string(
            settings.storage_connection_string, settings.notifications_table
        )
        store = ReferenceStore(references)
        connector = BotConnector(
            OutboundTokens(authentication, settings.app_id),
            timeout_seconds=settings.notify_send_timeout_seconds,
        )
        delivery = Delivery(
            connector,
            store,
            service_urls,
            RateLimits(per_tenant=settings.notify_max_rps_per_tenant),
            RetryPolicy(max_attempts=settings.notify_max_attempts),
            concurrency=settings.notify_concurrency,
        )
        notifier = Notifier(store, delivery)
        return cls(
            settings=settings,
            store=store,
            tables=(references, notifications),
            connector=connector,
            messages=MessagesEndpoint(
                create_adapter(authentication), authentication, ProactiveBot(store), service_urls
            ),
            notify=NotifyEndpoint(
                notifier, IdempotencyKeys(notifications), settings.notify_webhook_secret
            ),
            scheduled_broadcast=ScheduledBroadcast(notifier, settings.notify_timer_text),
        )

    async def close(self) -> None:
        await self.connector.close()
        for table in self.tables:
            await table.close()


_app: App | None = None


def get_app() -> App:
    """The process-wide App, built from the environment on first use."""
    global _app
    if _app is None:
        _app = App.create(Settings.from_env())
        logging.getLogger(__name__).info("App ready: %r", _app.settings)
    return _app


async def reset_app() -> None:
    """Close and forget the App so the next get_app() re-reads settings (tests use this)."""
    global _app
    if _app is not None:
        await _app.close()
        _app = None
