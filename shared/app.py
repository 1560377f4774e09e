"""The app's long-lived objects, created once per worker process and reused by every invocation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from shared.adapter import create_adapter
from shared.bot import ProactiveBot
from shared.bot_auth import OutboundTokens, create_authentication
from shared.broadcast_schedule import BroadcastSchedule
from shared.connector import BotConnector
from shared.delivery import Delivery
from shared.idempotency import IdempotencyKeys
from shared.inbound import MessagesEndpoint
from shared.notifications import NotificationStore
from shared.notifier import Notifier
from shared.notify_endpoint import NotifyEndpoint
from shared.prompt_replies import PromptReplies
from shared.prompts import PromptStore
from shared.rate_limits import RateLimits
from shared.reference_store import ReferenceStore
from shared.reminder_dialog import ReminderDialog
from shared.reminders import ReminderBook
from shared.retry_policy import RetryPolicy
from shared.service_urls import ServiceUrlPolicy
from shared.settings import Settings
from shared.status_endpoint import StatusEndpoint
from shared.tables import Table
from shared.timer_job import TimerJob

# azure-core logs every storage request and response at INFO; one line per event is ours to write.
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class App:
    settings: Settings
    store: ReferenceStore
    tables: tuple[Table, ...]
    connector: BotConnector
    notifications: NotificationStore
    messages: MessagesEndpoint
    notify: NotifyEndpoint
    status: StatusEndpoint
    timer_job: TimerJob

    @classmethod
    def create(cls, settings: Settings, clock: Callable[[], datetime] = utc_now) -> App:
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
        notification_store = NotificationStore(notifications)
        prompts = PromptStore(notifications)
        notifier = Notifier(store, delivery, notification_store, prompts, clock)
        bot = ProactiveBot(
            store,
            ReminderDialog(ReminderBook(notification_store), clock),
            PromptReplies(prompts, clock),
            clock,
        )
        return cls(
            settings=settings,
            store=store,
            tables=(references, notifications),
            connector=connector,
            notifications=notification_store,
            messages=MessagesEndpoint(
                create_adapter(authentication), authentication, bot, service_urls
            ),
            notify=NotifyEndpoint(
                notifier, IdempotencyKeys(notifications), settings.notify_webhook_secret, clock
            ),
            status=StatusEndpoint(notification_store, prompts),
            timer_job=TimerJob(
                notifier,
                settings.notify_timer_text,
                BroadcastSchedule(settings.broadcast_schedule, notifications),
                clock,
            ),
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


def use_app(app: App) -> None:
    """Make `app` the process-wide App (tests use this to give it a clock of their own)."""
    global _app
    _app = app


async def reset_app() -> None:
    """Close and forget the App so the next get_app() re-reads settings (tests use this)."""
    global _app
    if _app is not None:
        await _app.close()
        _app = None
