"""The app's long-lived objects, created once per worker process and reused by every invocation."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache, cached_property
from typing import TYPE_CHECKING

import azure.functions as func

from shared.channel.auth import OutboundTokens, create_authentication
from shared.channel.connector import BotConnector
from shared.channel.service_urls import ServiceUrlPolicy
from shared.chat.reminders.book import next_reminder
from shared.delivery.fanout import Delivery
from shared.delivery.live_references import LiveReferences
from shared.delivery.rate_limits import RateLimits
from shared.delivery.retry_policy import RetryPolicy
from shared.delivery.tenant_budget import SharedTenantBudget
from shared.functions.cancel import CancelEndpoint
from shared.functions.notify import NotifyEndpoint
from shared.functions.status import StatusEndpoint
from shared.functions.targets import TargetsEndpoint
from shared.functions.timer import TimerJob
from shared.functions.work import WorkEndpoint
from shared.http import HttpResult
from shared.notifications.broadcast_schedule import BroadcastSchedule
from shared.notifications.idempotency_store import IdempotencyKeys
from shared.notifications.notification_store import NotificationStore
from shared.notifications.outcome_store import OutcomeStore
from shared.notifications.prompt_store import PromptStore
from shared.sending.cancellation import CancelWatch
from shared.sending.chunk_delivery import ChunkDelivery
from shared.sending.expansion import AudienceExpansion
from shared.sending.notifier import Notifier
from shared.sending.poisoned_work import PoisonedWork
from shared.settings import Settings, SettingsError
from shared.storage.credentials import storage_credential
from shared.storage.deletion_log import DeletionLog
from shared.storage.personal_chats import PersonalChatIndex
from shared.storage.queues import WorkQueue
from shared.storage.reference_store import ReferenceStore
from shared.storage.tables import Table

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

    from shared.delivery.chat_opening import ChatOpener
    from shared.functions.activities import ActivitiesEndpoint
    from shared.functions.revise import ReviseEndpoint
    from shared.sending.named_members import NamedMembers
    from shared.sending.team_channels import TeamChannelPosts
    from shared.sending.team_members import TeamMembers

# azure-core logs every storage request and response at INFO; one line per event is ours to write.
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class App:
    settings: Settings
    store: ReferenceStore
    tables: tuple[Table, ...]
    queue: WorkQueue
    rate_limits: RateLimits
    connector: BotConnector
    notifications: NotificationStore
    notify: NotifyEndpoint
    status: StatusEndpoint
    targets: TargetsEndpoint
    cancel: CancelEndpoint
    work: WorkEndpoint
    timer_job: TimerJob
    build_activities: Callable[[], ActivitiesEndpoint] = field(repr=False)  # see `messages`
    build_revise: Callable[[], ReviseEndpoint] = field(repr=False)  # see `revise`
    # The Entra credential of a keyless storage account (None with a connection string).
    storage_credential: AsyncTokenCredential | None = None

    @cached_property
    def activities(self) -> ActivitiesEndpoint:
        """POST /api/messages. Only the messages function talks with people, so the chat layer
        (the bot, reminders and their languages, the adapter) is built, and imported, on its
        first use: the other functions' cold starts do not pay for it."""
        return self.build_activities()

    @cached_property
    def revise(self) -> ReviseEndpoint:
        """PATCH and DELETE /api/notify/{id}, built (and imported) on first use, as `messages`."""
        return self.build_revise()

    @classmethod
    def create(cls, settings: Settings, clock: Callable[[], datetime] = utc_now) -> App:
        authentication = create_authentication(settings)
        service_urls = ServiceUrlPolicy(
            settings.allowed_service_hosts, allow_loopback=not settings.auth_enabled
        )
        credential = storage_credential(settings.storage)
        try:
            references = Table.for_account(
                settings.storage, settings.conversation_table, credential
            )
            notifications = Table.for_account(
                settings.storage, settings.notifications_table, credential
            )
            coordination = Table.for_account(
                settings.storage, settings.coordination_table, credential
            )
            personal_chats = Table.for_account(
                settings.storage, settings.personal_chats_table, credential
            )
            queue = WorkQueue(settings.storage, settings.notify_queue, credential)
        except ValueError as error:
            # The SDK's message says what is missing without repeating the (secret) string.
            raise SettingsError("AzureWebJobsStorage", f"is not usable: {error}") from None
        deletions = DeletionLog(coordination, clock)
        store = ReferenceStore(references, deletions)
        connector = BotConnector(
            OutboundTokens(authentication, settings.app_id),
            timeout_seconds=settings.notify_send_timeout_seconds,
        )
        rate_limits = RateLimits(
            per_tenant=settings.notify_max_rps_per_tenant,
            tenant_budget=SharedTenantBudget(coordination, settings.notify_max_rps_per_tenant),
        )
        delivery = Delivery(
            connector,
            store,
            service_urls,
            rate_limits,
            RetryPolicy(max_attempts=settings.notify_max_attempts),
            LiveReferences(deletions, clock),
            concurrency=settings.notify_concurrency,
        )
        notification_store = NotificationStore(notifications)
        outcomes = OutcomeStore(notifications)
        prompts = PromptStore(notifications, clock, timedelta(hours=settings.prompt_expiry_hours))
        expansion = AudienceExpansion(notification_store, store, outcomes, queue, clock)
        notifier = Notifier(
            store,
            delivery,
            notification_store,
            outcomes,
            prompts,
            expansion,
            settings.notify_inline_max_targets,
            clock,
            next_occurrence=next_reminder,
        )
        cancel_watch = CancelWatch(notification_store)
        chunks = ChunkDelivery(
            notification_store,
            outcomes,
            store,
            delivery,
            prompts,
            cancel_watch,
            clock,
        )
        chat_index = PersonalChatIndex(personal_chats)

        # What reaches whole teams is built, and imported, on first use: most notifications
        # name no team, and every function's cold start would pay for it.
        @cache
        def opener() -> ChatOpener:
            from shared.delivery.chat_opening import ChatOpener

            return ChatOpener(delivery, store, chat_index, clock)

        @cache
        def team_members() -> TeamMembers:
            from shared.sending.team_members import ListedMembers, TeamMembers

            return TeamMembers(
                notification_store,
                outcomes,
                ListedMembers(notifications),
                store,
                chat_index,
                opener(),
                connector,
                service_urls,
                cancel_watch,
                queue,
                clock,
            )

        @cache
        def team_channels() -> TeamChannelPosts:
            from shared.sending.team_channels import TeamChannelPosts

            return TeamChannelPosts(
                notification_store,
                outcomes,
                store,
                connector,
                service_urls,
                delivery,
                prompts,
                cancel_watch,
                queue,
                clock,
            )

        @cache
        def named_members() -> NamedMembers:
            from shared.sending.named_members import NamedMembers

            return NamedMembers(store, chat_index, opener(), connector, service_urls, rate_limits)

        def build_revise() -> ReviseEndpoint:
            from shared.functions.revise import ReviseEndpoint
            from shared.sending.revisions import Revisions

            return ReviseEndpoint(
                Revisions(notification_store, outcomes, expansion, clock),
                settings.notify_webhook_secret,
            )

        def build_activities() -> ActivitiesEndpoint:
            from shared.channel.adapter import create_adapter
            from shared.chat.bot import ProactiveBot
            from shared.chat.prompt_replies import PromptReplies
            from shared.chat.reminders.book import ReminderBook
            from shared.chat.reminders.dialog import ReminderDialog
            from shared.chat.reminders.questions import ReminderQuestions
            from shared.functions.activities import ActivitiesEndpoint

            bot = ProactiveBot(
                store,
                ReminderDialog(
                    ReminderBook(notification_store),
                    ReminderQuestions(notifications, clock),
                    prompts,
                    clock,
                ),
                PromptReplies(prompts, clock),
                chat_index,
                clock,
            )
            return ActivitiesEndpoint(
                create_adapter(authentication), authentication, bot, service_urls
            )

        return cls(
            settings=settings,
            store=store,
            tables=(references, notifications, coordination, personal_chats),
            queue=queue,
            rate_limits=rate_limits,
            connector=connector,
            notifications=notification_store,
            notify=NotifyEndpoint(
                notifier,
                IdempotencyKeys(notifications, clock),
                settings.notify_webhook_secret,
                clock,
                named_members,
            ),
            status=StatusEndpoint(notification_store, outcomes, prompts),
            targets=TargetsEndpoint(notification_store, outcomes),
            cancel=CancelEndpoint(notification_store, outcomes, clock),
            work=WorkEndpoint(
                expansion,
                chunks,
                PoisonedWork(notification_store, outcomes, clock),
                team_members,
                team_channels,
            ),
            timer_job=TimerJob(
                notifier,
                settings.notify_timer_text,
                BroadcastSchedule(settings.broadcast_schedule, notifications),
                deletions,
                clock,
            ),
            storage_credential=credential,
            build_activities=build_activities,
            build_revise=build_revise,
        )

    async def close(self) -> None:
        """Close every client, each even when closing another failed (the failure is raised once
        all are closed): no HTTP session is left for aiohttp to report unclosed."""
        async with contextlib.AsyncExitStack() as closing:
            # Callbacks run last pushed, first run: the credential closes after the clients that
            # use it, and the tables close last of those.
            if self.storage_credential is not None:
                closing.push_async_callback(self.storage_credential.close)
            for table in self.tables:
                closing.push_async_callback(table.close)
            closing.push_async_callback(self.rate_limits.close)  # its rows are in a table
            closing.push_async_callback(self.queue.close)
            closing.push_async_callback(self.connector.close)


_app: App | None = None
_closer: asyncio.Task[None] | None = None


def get_app() -> App:
    """The process-wide App, built from the environment on first use."""
    if _app is None:
        use_app(App.create(Settings.from_env()))
        logging.getLogger(__name__).info("App ready: %r", _app.settings)
    assert _app is not None
    return _app


def check_environment() -> None:
    """Build the app from the environment once: a bad setting raises SettingsError naming it.

    The local runner calls this before serving (`--preflight`), so a bad setting stops it at once.
    """
    App.create(Settings.from_env())


async def respond(handle: Callable[[App], Awaitable[HttpResult]]) -> func.HttpResponse:
    """An HTTP function's answer: `handle`'s result, or a JSON 500 naming a bad app setting
    (the host's own answer to an exception is an empty 500 that tells the caller nothing)."""
    try:
        app = get_app()
    except SettingsError as error:
        logging.getLogger(__name__).error("App setting %s", error)
        body = {"error": "the app is misconfigured", "setting": error.setting}
        return HttpResult(500, {**body, "detail": error.problem}).to_response()
    return (await handle(app)).to_response()


def use_app(app: App) -> None:
    """Make `app` the process-wide App (tests use this to give it a clock of their own)."""
    global _app, _closer
    if _closer is not None:
        _closer.cancel()
    _app = app
    _closer = _close_when_the_loop_ends(app)


async def reset_app() -> None:
    """Close and forget the App so the next get_app() re-reads settings (tests use this)."""
    global _app, _closer
    app, closer = _app, _closer
    _app, _closer = None, None
    if closer is not None:
        closer.cancel()
    if app is not None:
        await app.close()


def _close_when_the_loop_ends(app: App) -> asyncio.Task[None] | None:
    """A task that closes the app's clients when the worker's event loop shuts down.

    The folder model has no shutdown hook (azure-functions-python-worker#1521). A loop that ends
    cleanly (asyncio.run; the local runner as it stops) cancels its tasks first, so this one closes
    the HTTP and Table clients instead of leaving aiohttp to warn about unclosed sessions.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None  # built outside the worker's loop: whoever built it closes it

    async def wait_then_close() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            if _app is app:
                await app.close()
            raise

    return loop.create_task(wait_then_close())
